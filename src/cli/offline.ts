/**
 * `-r FILE` for the analyzers (dns, tls, http, tcp): a pcap or pcapng file (or
 * standard input) read as the live commands read the kernel, and printed
 * the same way. The file's packets go through the flow tracker
 * (src/net/packet-streams) to the same analyzers as live records; the
 * clock is the packets' (a file replays as fast as it reads, timeouts
 * included): ns since the first packet's second (src/model/time), which
 * the output clock turns back into wall time. --pid, --comm and --port apply to each record's process
 * (wirelens's pcapng comments) and ends, in user space. Input that fails
 * before its first packet (not a capture, empty, unreadable) is one error
 * line and its remedy, nothing on stdout (exit 2); a file cut short or failing
 * later, the records read so far and the summary, then the error (exit 2).
 * Ctrl-C, SIGTERM or SIGHUP (a pipe or FIFO that stays open) stops the
 * reading as -c does; either way the analyzers finish at the data's last
 * time, so what they hold is reported as at the end of a file (exit 0).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Proc } from '../model/packet';
import type { Datagram, Segment } from '../model/segment';
import type { SockInfo } from '../events/record';
import { KernelFilters } from '../probes/filters';
import { PacketStreams, TcpNote } from '../net/packet-streams';
import type { FlowOutput } from '../net/flow-tracker';
import { CaptureReader } from '../sources/pcap/capture-reader';
import { TimeBase } from '../model/time';
import { Clock } from '../output/clock';
import { onStdoutClosed, stdoutBacklog, writeOut } from '../output/stdout';
import { escapeTerminal } from '../text/sanitize';
import { UsageError, WlError } from '../errors';
import { Flags } from './args';
import { STOPPED, StopRequest, catchStopSignals } from './signals';

/** What a record of the analyzers carries, for the filters. */
export interface OfflineRecord {
  tsNs: number;
  proc: Proc | null;
  sock: SockInfo;
}

export interface OfflineTool<R extends OfflineRecord> {
  name: string;
  /** Describe every TCP packet to note() (tcp). */
  tcpNotes?: boolean;
  /** A segment or datagram, in the order the packets give them. */
  take?(x: Segment | Datagram, emit: (r: R) => void): void;
  note?(n: TcpNote, emit: (r: R) => void): void;
  /** The data's clock moved on (ns since the file's base second). */
  tick(nowNs: number, emit: (r: R) => void): void;
  /** The input ended (after the flow tracker's last segments), at the data's last time. */
  finish(nowNs: number, emit: (r: R) => void): void;
  header(): string;
  human(r: R, clock: Clock): string;
  json(r: R, clock: Clock): string;
  /** Summary lines for stderr (the file's own figures come from the runner). */
  summary(): string[];
  periodic?(): string[];
  /** A record printed (past --pid/--comm/--port, within -c N; every one when silent): the summary counts these. */
  counted?(r: R): void;
  /** No line per record (http --stats-only): records are only counted. */
  silent?: boolean;
  /** Lines for stdout after the last record (http --stats-only's table). */
  trailer?(json: boolean, clock: Clock, nowNs: number): string[];
}

export interface OfflineOptions {
  path: string;
  json: boolean;
  count: number | undefined;
  /** Stop after this many seconds of the data's clock. */
  durationS: number | undefined;
  /** Print tool.periodic() every this many seconds of the data's clock. */
  statsS: number | undefined;
  filters: KernelFilters;
  verbose: boolean;
}

/** The -r flag the analyzers share. */
export const READ_FLAG = {
  name: 'read',
  short: 'r',
  type: 'string',
  valueName: 'FILE',
  help: 'read a pcap or pcapng file ("-" for standard input) instead of the live kernel',
} as const;

/** The options for -r from the parsed flags; flags that only mean something live are refused. */
export function offlineOptions(f: Flags): OfflineOptions {
  if (f.hooks !== undefined) throw new UsageError('--hooks chooses kernel hooks; -r reads a file: leave it out');
  return {
    path: f.read as string,
    json: f.json === true,
    count: f.count as number | undefined,
    durationS: f.duration as number | undefined,
    statsS: f.stats as number | undefined,
    filters: {
      pids: (f.pid as number[] | undefined) ?? [],
      comm: f.comm as string | undefined,
      ports: (f.port as number[] | undefined) ?? [],
    },
    verbose: f.verbose === true,
  };
}

/** The data's clock advances the analyzers at least this often (as live ticks every 250 ms). */
const TICK_NS = 250_000_000;
/** Output waiting for the reader of stdout above this: reading pauses until it drains. */
const MAX_BACKLOG = 4 << 20;

const wlErr = (m: string): void => void process.stderr.write(`wirelens: ${m}\n`);

function passes(r: OfflineRecord, f: KernelFilters): boolean {
  if (f.pids.length > 0 && (r.proc === null || !f.pids.includes(r.proc.pid))) return false;
  if (f.comm !== undefined && r.proc?.comm !== f.comm) return false;
  if (f.ports.length > 0 && !f.ports.includes(r.sock.sport) && !f.ports.includes(r.sock.dport)) return false;
  return true;
}

async function drained(): Promise<void> {
  if (stdoutBacklog() <= MAX_BACKLOG) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      clearInterval(poll);
      resolve();
    };
    // A reader that went away never drains: the close listener stops the run, this stops waiting.
    const poll = setInterval(() => {
      if (stdoutBacklog() <= MAX_BACKLOG || process.stdout.destroyed) done();
    }, 100);
    process.stdout.on('drain', done);
  });
}

/**
 * A file's contents as a stream. A FIFO (or a socket) is read as a pipe, as
 * standard input is: a read waiting for a writer must not hold the process
 * (a file stream's read in the thread pool would, after Ctrl-C).
 */
export function inputStream(fd: number): fs.ReadStream | net.Socket {
  const st = fs.fstatSync(fd);
  if (st.isFIFO() || st.isSocket()) return new net.Socket({ fd, readable: true, writable: false });
  return fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
}

/** The remedy for a file that could not be read as a capture. */
function fileRemedy(kind: 'read' | 'not-capture' | 'damaged'): string {
  switch (kind) {
    case 'read':
      return 'check the path and its permissions';
    case 'not-capture':
      return 'give a pcap or pcapng file (tcpdump -w, wirelens capture -w)';
    case 'damaged':
      return 'copy the capture again whole, or let the capturing tool finish writing it';
  }
}

/**
 * What went wrong reading a capture file, as one error and its remedy:
 * `packets` read before it (0: the input failed before its first packet).
 * A truncation note already says how many packets came before it.
 */
export function captureProblem(
  shown: string,
  o: { streamError?: string | undefined; readerError?: string | undefined; note?: string | undefined },
  format: 'pcap' | 'pcapng' | 'unknown',
  packets: number,
  what = 'records',
): { message: string; remedy: string } | undefined {
  const problem = o.streamError ?? o.readerError ?? o.note;
  if (problem === undefined) return undefined;
  const counted = /read before it\)$/.test(problem) || packets === 0 ? '' : ` (after ${packets} packets)`;
  const message = `-r ${shown}: ${escapeTerminal(problem)}${counted}`;
  if (o.streamError !== undefined) {
    return {
      message,
      remedy: /EISDIR/.test(o.streamError) ? fileRemedy('not-capture') : fileRemedy('read'),
    };
  }
  if (format === 'unknown') return { message, remedy: fileRemedy('not-capture') };
  return {
    message,
    remedy:
      packets > 0
        ? `the ${what} above are from the packets before that point; ${fileRemedy('damaged')}`
        : fileRemedy('damaged'),
  };
}

export async function runOffline<R extends OfflineRecord>(tool: OfflineTool<R>, o: OfflineOptions): Promise<number> {
  const shown = o.path === '-' ? 'standard input' : escapeTerminal(o.path);
  const time = TimeBase.fromFirst();
  const clock = new Clock(time);
  const reader = new CaptureReader();
  const streams = new PacketStreams({ tracker: { time }, ...(tool.tcpNotes ? { tcpNotes: true } : {}) });
  let printed = 0;
  let filtered = 0;
  let pending: string[] = [];
  // A stop (-c, --duration, a signal, stdout closed) also ends a wait for input: a pipe may stay quiet.
  const stopper = new StopRequest();
  const stop = (why: string): void => stopper.stop(why);
  // The header waits for the first packet: input that is not a capture prints nothing on stdout.
  let headerDone = false;
  const header = (): void => {
    if (headerDone) return;
    headerDone = true;
    const h = o.json ? '' : tool.header();
    if (h !== '') pending.unshift(h + '\n');
  };
  const emit = (r: R): void => {
    if (!passes(r, o.filters)) {
      filtered++;
      return;
    }
    if (tool.silent) {
      tool.counted?.(r);
      return;
    }
    if (o.count !== undefined && printed >= o.count) return;
    // The summary counts what is printed: with -c, the records past N are neither shown nor counted.
    tool.counted?.(r);
    pending.push(o.json ? tool.json(r, clock) + '\n' : tool.human(r, clock) + '\n');
    printed++;
    if (o.count !== undefined && printed >= o.count) stop(`${o.count} records`);
  };
  const flush = (): void => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    writeOut(text);
  };
  const unsubscribe = onStdoutClosed((why) => stop(why));

  let packets = 0;
  let firstNs: number | undefined;
  let lastNs = 0;
  let nextTick: number | undefined;
  let nextStats: number | undefined;
  const statsNs = o.statsS === undefined ? undefined : Math.round(o.statsS * 1e9);
  const durationNs = o.durationS === undefined ? undefined : Math.round(o.durationS * 1e9);
  const out: FlowOutput[] = [];
  const notes: TcpNote[] = [];
  const give = (): void => {
    for (const x of out) tool.take?.(x, emit);
    out.length = 0;
    for (const n of notes) tool.note?.(n, emit);
    notes.length = 0;
  };

  let fd: number | undefined;
  if (o.path !== '-') {
    try {
      fd = fs.openSync(o.path, 'r');
    } catch (e) {
      unsubscribe();
      throw new WlError(
        'WL_ERR_USAGE',
        `-r ${shown}: cannot open it (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          remedy: fileRemedy('read'),
        },
      );
    }
  }
  // Ctrl-C or SIGTERM (a pipe or FIFO that stays open): stop reading, finish as at the end of the input.
  const unlisten = catchStopSignals((sig) => stop(sig));
  let streamError: string | undefined;
  const stream = fd === undefined ? process.stdin : inputStream(fd);
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    reading: for (;;) {
      const next = chunks.next();
      // Left waiting at a stop, it settles when the stream is destroyed below: not an unhandled rejection.
      next.catch(() => undefined);
      const got = await Promise.race([next, stopper.stopped]);
      if (got === STOPPED || got.done === true) break;
      for (const p of reader.push(got.value)) {
        const ns = time.ns(p.sec, p.nsec);
        firstNs ??= ns;
        if (durationNs !== undefined && ns - firstNs >= durationNs) {
          stop(`${o.durationS}s of the capture read`);
          break reading;
        }
        packets++;
        header();
        if (ns > lastNs) lastNs = ns;
        streams.push(p, reader.interfaces[p.iface], out, tool.tcpNotes ? notes : undefined);
        give();
        if (nextTick === undefined || lastNs >= nextTick) {
          tool.tick(lastNs, emit);
          nextTick = lastNs + TICK_NS;
        }
        if (statsNs !== undefined && tool.periodic) {
          nextStats ??= lastNs + statsNs;
          if (lastNs >= nextStats) {
            flush();
            for (const line of tool.periodic()) wlErr(line);
            nextStats = lastNs + statsNs;
          }
        }
        if (stopper.why !== undefined) break reading;
      }
      flush();
      if (reader.error !== undefined || stopper.why !== undefined) break;
      await Promise.race([drained(), stopper.stopped]);
    }
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    streamError = `cannot read it (${x.code ?? x.message})`;
  } finally {
    unlisten();
    // Stop reading: a file's descriptor is closed, standard input let go (the writer gets EPIPE).
    stream.destroy();
  }
  if (stopper.why === undefined) reader.end();
  // A file cut short is a note of the reader's (the packets before it are good): here it is the error.
  const cut = reader.notes.find((n) => n.startsWith('truncated') || n.startsWith('pcap: truncated'));
  const problem = captureProblem(shown, { streamError, readerError: reader.error, note: cut }, reader.format, packets);
  if (problem !== undefined && packets === 0) {
    // Nothing came of it: one error line (and its remedy), nothing on stdout.
    unsubscribe();
    throw new WlError('WL_ERR_USAGE', problem.message, { remedy: problem.remedy });
  }
  // The end of the input, or a stop: what the tracker still holds, then the analyzers at the last packet's
  // time (their pending records as at the end of a file; a live pipe's last records are not lost).
  streams.flush(out);
  give();
  tool.finish(lastNs, emit);
  header();
  for (const line of tool.trailer?.(o.json, clock, lastNs) ?? []) pending.push(line + '\n');
  flush();
  unsubscribe();

  const asError = streamError === undefined && reader.error === undefined ? cut : undefined;
  for (const n of reader.notes) if (n !== asError) wlErr(`note: ${escapeTerminal(n)}`);
  if (packets > 0 && streams.stats.withProcess === 0) {
    wlErr(`note: no process information in ${shown} (not written by wirelens capture)`);
  }
  const t = streams.tracker.stats;
  const parts = [`${printed} records`, `${packets} packets read`];
  if (filtered > 0) parts.push(`${filtered} records left out by --pid/--comm/--port`);
  wlErr(`${stopper.why !== undefined ? `stopped (${stopper.why})` : 'end of file'}: ${parts.join(', ')}`);
  for (const line of tool.summary()) wlErr(line);
  wlErr(
    `${tool.name}: file: ${t.flows} TCP connections (${t.midStream} first seen mid-stream, not analysed), ` +
      `${t.retransmitted} segments retransmitted, ${t.outOfOrder} out of order, ` +
      `${t.gaps} holes the capture missed (${t.gapBytes} bytes), ${t.skipped} packets not TCP or UDP over IP, ` +
      `${t.fragments} IP fragments not reassembled`,
  );
  if (problem !== undefined) {
    wlErr(`error: ${problem.message}`);
    wlErr(`remedy: ${problem.remedy}`);
    return 2;
  }
  return 0;
}
