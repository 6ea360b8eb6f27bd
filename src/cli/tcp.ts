/** `wirelens tcp`: one line per TCP connection open and close on this host. */
import { TcpRecord } from '../events/tcp';
import { startTcpLife } from '../probes/tcp-life';
import { commonJsonPrefix } from '../output/common-fields';
import { formatEndpoint } from '../output/address';
import { escapeTerminal } from '../output/sanitize';
import { Clock } from '../output/clock';
import { formatDuration } from '../output/duration';
import { FlagSpec, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';

export const TCP_FLAGS: FlagSpec[] = [...LIVE_FLAGS];

export const TCP_HELP = `wirelens tcp: TCP connections opening and closing, with their process

One line when a connection opens (active connect, or passive accept with the
accepting process) and one when it closes (duration, bytes each way), for IPv4
and IPv6 in every network namespace. Filters run in the kernel.

options:
${flagHelp(TCP_FLAGS)}

JSON fields: ts pid tid uid comm netns saddr sport daddr dport event direction
duration_ms tx_bytes rx_bytes established (saddr/sport is the local end;
duration_ms, tx_bytes and rx_bytes are null on open lines)`;

export const tcpTool: LiveTool<TcpRecord> = {
  name: 'tcp',
  start: (opts, features, emit, onBad) =>
    startTcpLife({ filters: opts.filters, hookMode: opts.hookMode, features }, emit, onBad),
  header: () =>
    `${'TIME'.padEnd(15)} ${'EVENT'.padEnd(5)} ${'DIR'.padEnd(7)} ${'PID'.padStart(7)} ${'UID'.padStart(6)} ${'COMM'.padEnd(16)} ${'NETNS'.padStart(10)} ${'LOCAL'.padEnd(22)}    ${'REMOTE'.padEnd(22)} ${'DURATION'.padStart(11)} ${'TX'.padStart(10)} ${'RX'.padStart(10)}`,
  human: (r: TcpRecord, clock: Clock) => {
    const comm = r.proc ? escapeTerminal(r.proc.comm) : '-';
    const pid = r.proc ? String(r.proc.pid) : '-';
    const dir = r.event === 'close' && !r.established ? 'failed' : r.direction;
    const arrow = r.direction === 'passive' ? '<-' : '->';
    const close = r.event === 'close';
    return [
      clock.timeOfDay(r.tsNs).padEnd(15),
      r.event.padEnd(5),
      dir.padEnd(7),
      pid.padStart(7),
      (r.proc ? String(r.proc.uid) : '-').padStart(6),
      comm.padEnd(16),
      String(r.sock.netns).padStart(10),
      formatEndpoint(r.sock.saddr, r.sock.sport).padEnd(22),
      arrow,
      formatEndpoint(r.sock.daddr, r.sock.dport).padEnd(22),
      (close ? formatDuration(r.durationNs) : '').padStart(11),
      (close ? String(r.txBytes) : '').padStart(10),
      (close ? String(r.rxBytes) : '').padStart(10),
    ]
      .join(' ')
      .trimEnd();
  },
  json: (r: TcpRecord, clock: Clock) => {
    const close = r.event === 'close';
    const dur = close && r.durationNs !== null ? String(Number(r.durationNs) / 1e6) : 'null';
    return (
      `${commonJsonPrefix(clock, r.tsNs, r.proc, r.sock)},"event":"${r.event}","direction":"${r.direction}",` +
      `"duration_ms":${dur},"tx_bytes":${close ? String(r.txBytes) : 'null'},` +
      `"rx_bytes":${close ? String(r.rxBytes) : 'null'},"established":${r.established}}`
    );
  },
};

export async function tcpCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, TCP_FLAGS, TCP_HELP);
  return flags ? runLive(tcpTool, liveOptions(flags)) : 0;
}
