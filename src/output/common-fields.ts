/**
 * The fields every live command's --json line starts with, in this order:
 * ts, pid, tid, uid, comm, netns, saddr, sport, daddr, dport. Unknown process
 * fields are null (0 would name the idle task).
 */
import { ProcInfo, SockInfo } from '../events/record';
import { Clock } from './clock';

/**
 * Those fields as the start of a JSON line (no closing brace; the tool adds
 * its own fields): the per-record hot path, without an intermediate object.
 */
export function commonJsonPrefix(clock: Clock, tsNs: bigint, proc: ProcInfo | null, sock: SockInfo): string {
  const p = proc
    ? `"pid":${proc.pid},"tid":${proc.tid},"uid":${proc.uid},"comm":${JSON.stringify(proc.comm)}`
    : '"pid":null,"tid":null,"uid":null,"comm":null';
  return (
    `{"ts":"${clock.iso(tsNs)}",${p},"netns":${sock.netns},` +
    `"saddr":"${sock.saddr}","sport":${sock.sport},"daddr":"${sock.daddr}","dport":${sock.dport}`
  );
}
