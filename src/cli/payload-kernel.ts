/** What `wirelens dns` and `wirelens tls` share of the kernel side: starting the sock_payload object, and its counters. */
import { RunningFamily } from '../probes/family';
import { SockPayloadKernelStats, sockPayloadStats, startSockPayload } from '../probes/sock-payload';

/** How a payload tool reaches the kernel (replaced in tests). */
export interface PayloadDeps {
  start: typeof startSockPayload;
  kernelStats: (f: RunningFamily) => SockPayloadKernelStats;
}

export const KERNEL_PAYLOAD: PayloadDeps = { start: startSockPayload, kernelStats: sockPayloadStats };

/** The kernel's counters of what it did not copy, for the summary; null if they could not be read. */
export function readKernelStats(deps: PayloadDeps, f: RunningFamily | undefined): SockPayloadKernelStats | null {
  if (!f) return null;
  try {
    return deps.kernelStats(f);
  } catch {
    return null;
  }
}

/** Summary line of the kernel's counters shared by dns and tls. */
export function kernelStatsLine(tool: string, k: SockPayloadKernelStats | null): string {
  if (!k) return `${tool}: kernel: counters unreadable`;
  return (
    `${tool}: kernel: ${k.procFiltered} records dropped by --pid/--comm, ${k.portFiltered} records or connections by --port; ` +
    `${k.notFresh} connections first seen mid-stream not copied, ${k.outOfWindow} segments past the receive window not copied, ` +
    `${k.listener} segments copied from a listener, ${k.limit} directions at the copy limit, ${k.cut} packets cut`
  );
}
