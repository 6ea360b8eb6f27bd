/**
 * The fields every live command's --json line starts with, in this order:
 * ts, pid, tid, uid, comm, netns, saddr, sport, daddr, dport. Unknown process
 * fields are null (0 would name the idle task). And the columns the dns and
 * tls tables start with: TIME, SIDE, PID, COMM.
 */
import type { Proc } from '../model/packet';
import { SockInfo } from '../events/record';
import { Clock } from './clock';
import { Column } from './columns';

/**
 * Those fields as the start of a JSON line (no closing brace; the tool adds
 * its own fields): the per-record hot path, without an intermediate object.
 */
export function commonJsonPrefix(clock: Clock, tsNs: number, proc: Proc | null, sock: SockInfo): string {
  const p = proc
    ? `"pid":${proc.pid},"tid":${proc.tid ?? 'null'},"uid":${proc.uid ?? 'null'},"comm":${JSON.stringify(proc.comm)}`
    : '"pid":null,"tid":null,"uid":null,"comm":null';
  // 0: a source that does not know the namespace (a capture file).
  return (
    `{"ts":"${clock.iso(tsNs)}",${p},"netns":${sock.netns === 0 ? 'null' : sock.netns},` +
    `"saddr":"${sock.saddr}","sport":${sock.sport},"daddr":"${sock.daddr}","dport":${sock.dport}`
  );
}

/** A record of a live command, as its leading columns read it. */
export interface ProcRecord {
  tsNs: number;
  side: string;
  proc: Proc | null;
}

/**
 * TIME, SIDE, PID and COMM. Narrow: second-resolution time, cli/srv and an
 * 8-column name, then from `more` columns on microseconds, PID and whole task
 * names. Wide: all of them, the side spelled out.
 */
export function leadingColumns<R extends ProcRecord>(table: 'narrow' | 'wide', more: number): Column<R>[] {
  const time = (r: R, clock: Clock): string => clock.timeOfDay(r.tsNs);
  const pid = (r: R): string => (r.proc ? String(r.proc.pid) : '-');
  const comm = (r: R): string => r.proc?.comm ?? '-';
  if (table === 'wide') {
    return [
      { title: 'TIME', width: 15, cell: time },
      { title: 'SIDE', width: 6, cell: (r) => r.side },
      { title: 'PID', width: 7, right: true, cell: pid },
      { title: 'COMM', width: 16, cell: comm },
    ];
  }
  return [
    { title: 'TIME', width: 8, below: more, cell: (r, clock) => time(r, clock).slice(0, 8) },
    { title: 'TIME', width: 15, from: more, cell: time },
    { title: 'SIDE', width: 4, cell: (r) => (r.side === 'client' ? 'cli' : 'srv') },
    { title: 'PID', width: 7, right: true, from: more, cell: pid },
    { title: 'COMM', width: 8, below: more, cell: comm },
    { title: 'COMM', width: 15, from: more, cell: comm },
  ];
}
