/**
 * Whose view a segment or datagram is. The analyzers report per socket, as
 * each end saw its connection (a query sent and a response received is the
 * client's side; the same query received and the response sent, the
 * server's). A socket observer (kernel records, a wirelens socket-hook
 * capture) gives the view of one end, `local`; the wire gives both ends'
 * views at once, with the capture point's times. Pure.
 */
import type { FlowKey } from '../../model/flow';
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import type { SockInfo } from '../../events/record';

export type End = 'client' | 'server';
/** As the view's socket saw the bytes: it sent them (egress) or received them (ingress). */
export type Side = 'egress' | 'ingress';

const BOTH: readonly End[] = ['client', 'server'];
const CLIENT: readonly End[] = ['client'];
const SERVER: readonly End[] = ['server'];

/** The ends whose views the bytes belong to. */
export function viewEnds(x: Segment | Datagram): readonly End[] {
  if (x.observer === 'wire') return BOTH;
  return x.local === 'server' ? SERVER : CLIENT;
}

/** Whether `end` sent the bytes. */
export function sideOf(x: Segment | Datagram, end: End): Side {
  return (x.dir === 'c2s') === (end === 'client') ? 'egress' : 'ingress';
}

/**
 * The process the bytes carry, for the view of `end`: a socket observer's
 * process is its socket's; on the wire a process belongs to the end the
 * source put it on (`local`), and the other end's view has none.
 */
export function procOf(x: Segment | Datagram, end: End): Proc | undefined {
  if (x.proc === undefined) return undefined;
  if (x.observer === 'socket' || x.local === end) return x.proc;
  return undefined;
}

/** The network namespace inode, 0 when the source does not know it. */
export function netnsOf(x: Segment | Datagram): number {
  return x.netns ?? x.key.netns ?? 0;
}

/** One SockInfo per (flow key, end): the key is shared by a connection's segments. */
const socks = new WeakMap<FlowKey, [SockInfo | undefined, SockInfo | undefined]>();

/** The view's socket: `end` in saddr/sport, the peer in daddr/dport. */
export function sockOf(x: Segment | Datagram, end: End): SockInfo {
  const k = x.key;
  // A datagram's key is often its own (the flow tracker makes one per datagram): no cache for it.
  if (x.kind === 'datagram') return makeSock(k, end, netnsOf(x));
  let pair = socks.get(k);
  if (pair === undefined) {
    pair = [undefined, undefined];
    socks.set(k, pair);
  }
  const i = end === 'client' ? 0 : 1;
  const netns = netnsOf(x);
  const had = pair[i];
  if (had !== undefined && had.netns === netns) return had;
  const s = makeSock(k, end, netns);
  pair[i] = s;
  return s;
}

function makeSock(k: FlowKey, end: End, netns: number): SockInfo {
  const client = end === 'client';
  return {
    netns,
    family: k.family,
    protocol: k.protocol === 'tcp' ? 6 : 17,
    saddr: client ? k.clientAddr : k.serverAddr,
    sport: client ? k.clientPort : k.serverPort,
    daddr: client ? k.serverAddr : k.clientAddr,
    dport: client ? k.serverPort : k.clientPort,
  };
}

/**
 * A view's id: a TCP connection's id and the end; a UDP socket's id where
 * the source knows it (a socket cookie), else its local address and port.
 */
export function viewKey(x: Segment | Datagram, end: End): string {
  if (x.kind === 'segment') return `${x.conn}/${end}`;
  if (x.conn !== undefined) return `${x.conn}`;
  const k = x.key;
  return end === 'client'
    ? `${netnsOf(x)}|${k.clientAddr}|${k.clientPort}`
    : `${netnsOf(x)}|${k.serverAddr}|${k.serverPort}`;
}
