/**
 * What `wirelens capture`'s TC programs cost per packet by themselves,
 * without the rest of the machine: the kernel runs the entry program (and
 * through its tail calls the compiled filter and the emit program) on a
 * crafted frame many times over (BPF_PROG_TEST_RUN) and reports ns per run.
 * The ring is drained between batches, so every run writes a record as a
 * live capture would; the frame is a UDP datagram between two addresses no
 * local socket has, so the process lookup of TC ingress misses (a live
 * capture's hit costs the same lookup plus a storage read). A live run adds
 * cache traffic with the reader on another CPU that this does not have: see
 * `--only capture` for the whole cost, this for the programs' own.
 */
import * as dgram from 'node:dgram';
import { BpfObject } from '../../src/kernel/object';
import { native } from '../../src/kernel/native';
import { directions, fillProgArray } from '../../src/probes/capture';
import { u32le } from '../../src/kernel/encode';
import { ether, ipv4, udp } from '../../test/helpers/frames';
import { fixed, formatTable } from './table';

const RUNS = 2_000; // per test run: 2,000 records of at most 1,600 bytes fit the ring
const BATCHES = 25;

/** A UDP frame of `size` bytes on Ethernet, 10.1.0.1:40000 -> 10.1.0.2:9 (or 127.0.0.1:40000 -> 127.0.0.1:`port`). */
function udpFrame(size: number, port?: number): Buffer {
  const payload = new Array<number>(Math.max(0, size - 14 - 20 - 8)).fill(0x61);
  if (port !== undefined) return ether(0x0800, ipv4([127, 0, 0, 1], [127, 0, 0, 1], 17, udp(40000, port, payload)));
  return ether(0x0800, ipv4([10, 1, 0, 1], [10, 1, 0, 2], 17, udp(40000, 9, payload)));
}

/** Median ns per run of `fd` on `frame` over the batches, the ring drained after each. */
function nsPerRun(fd: number, frame: Buffer, drain: () => void): number {
  const per: number[] = [];
  native().progTestRun(fd, frame, RUNS);
  drain();
  for (let i = 0; i < BATCHES; i++) {
    per.push(native().progTestRun(fd, frame, RUNS).durationNs);
    drain();
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

/** Rows of the table for one build of the object: records (default) or pcapng blocks (-w FILE). */
function programRows(blocks: boolean, port: number): string[][] {
  const obj = BpfObject.open('capture');
  const rows: string[][] = [];
  try {
    const [d] = directions(true, { in: true, out: false });
    const keep = new Set([d!.entry, d!.emit]);
    for (const p of obj.programs()) obj.setAutoload(p, keep.has(p));
    obj.setMaxEntries('wl_events', 8 << 20);
    if (blocks) obj.setGlobal('wl_cap_epb', u32le(1));
    obj.load();
    // BPF_PROG_TEST_RUN runs on the namespace's loopback device (ifindex 1).
    if (blocks) obj.map('wl_cap_idb').update(u32le(1), u32le(0));
    let records = 0;
    const ring = obj.ringBuffer('wl_events', () => void records++);
    const entry = obj.progFd(d!.entry);
    // The ring's pages are cold until written once: a few laps first, so every case meets the same ring.
    fillProgArray(obj, d!, true, null);
    for (let i = 0; i < 12; i++) {
      native().progTestRun(entry, udpFrame(1514), RUNS);
      ring.drain();
    }
    const cases: { name: string; expr: string | null; snaplen: number; port?: number }[] = blocks
      ? [
          { name: 'pcapng blocks (-w FILE), no expression', expr: null, snaplen: 262144 },
          { name: 'pcapng blocks, for a local socket (its process comment)', expr: null, snaplen: 262144, port },
        ]
      : [
          { name: 'no expression, snaplen 96', expr: null, snaplen: 96 },
          { name: 'no expression, full snaplen', expr: null, snaplen: 262144 },
          { name: "'udp' (matches)", expr: 'udp', snaplen: 262144 },
          { name: "'tcp port 443' (rejects: nothing copied)", expr: 'tcp port 443', snaplen: 262144 },
          { name: 'no expression, for a local socket (found)', expr: null, snaplen: 262144, port },
        ];
    for (const c of cases) {
      const classic = c.expr === null ? null : native().pcapCompile(c.expr, 1, 262144, true);
      fillProgArray(obj, d!, true, classic);
      // The snap length is read-only data of the loaded object: the 96-byte case runs a 96-byte frame.
      const row = [c.name];
      for (const size of [96, 1514]) {
        if (c.snaplen === 96 && size !== 96) {
          row.push('-');
          continue;
        }
        records = 0;
        const ns = nsPerRun(entry, udpFrame(size, c.port), () => ring.drain());
        const want = c.expr === 'tcp port 443' ? 0 : (BATCHES + 1) * RUNS;
        if (records !== want) throw new Error(`capture program bench: ${records} records, ${want} expected`);
        row.push(fixed(ns, 0));
      }
      rows.push(row);
    }
  } finally {
    obj.close();
  }
  return rows;
}

export async function captureProgramCost(): Promise<string> {
  // A bound UDP socket: the frames of the "local socket" cases are for it, so TC ingress's lookup finds it.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  let rows: string[][];
  try {
    rows = [...programRows(false, port), ...programRows(true, port)];
  } finally {
    sock.close();
  }
  return [
    "capture's TC ingress program by itself (BPF_PROG_TEST_RUN, a UDP frame, ns per run: entry, filter and emit by tail calls, one ring record each; median of 25 x 2,000 runs)",
    formatTable(['case', '96-byte frame', '1514-byte frame'], rows),
  ].join('\n');
}
