/** The two HTTP loads: few long connections, and one connection per request. */
import { WrkResult } from './wrk';

export const WRK_THREADS = 2;
export const WRK_CONNECTIONS = 50;

export interface Workload {
  name: string;
  /** Extra wrk headers. */
  headers: string[];
  /** TCP connections wrk opened in a run. */
  connections(w: WrkResult): number;
}

export const WORKLOADS: Workload[] = [
  {
    // wrk keeps its 50 connections for the whole run: wirelens tcp sees little.
    name: 'keep-alive',
    headers: [],
    connections: () => WRK_CONNECTIONS,
  },
  {
    // nginx closes after each response and wrk reconnects: one connection per request.
    name: 'connection-per-request',
    headers: ['Connection: close'],
    connections: (w) => w.requests,
  },
];
