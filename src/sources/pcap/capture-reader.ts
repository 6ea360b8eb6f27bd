/**
 * The one entry for capture files: sniffs the first four bytes (pcap µs/ns
 * in either byte order, or pcapng) and hands everything to the right reader.
 * Incremental like them: push chunks (from a file or stdin), end() at EOF.
 *
 *   const r = new CaptureReader();
 *   for await (const chunk of stream) for (const p of r.push(chunk)) use(p, r.interfaces[p.iface]);
 *   r.end(); if (r.error) fail(r.error); for (const n of r.notes) warn(n);
 */
import * as fs from 'node:fs';
import type { CaptureInterface, Packet } from '../../model/packet';
import { isPcapMagic, PcapReader } from './pcap-reader';
import { isPcapngMagic, PcapngReader } from './pcapng-reader';
import type { InterfaceStats, PacketReader } from './types';

export type { InterfaceStats, PacketReader } from './types';

export class CaptureReader implements PacketReader {
  private inner: PacketReader | undefined;
  private head: Buffer[] = [];
  private headLen = 0;
  private err: string | undefined;

  get format(): 'pcap' | 'pcapng' | 'unknown' {
    return this.inner?.format ?? 'unknown';
  }
  get interfaces(): readonly CaptureInterface[] {
    return this.inner?.interfaces ?? [];
  }
  get stats(): ReadonlyMap<number, InterfaceStats> {
    return this.inner?.stats ?? new Map();
  }
  get notes(): readonly string[] {
    return this.inner?.notes ?? [];
  }
  get error(): string | undefined {
    return this.err ?? this.inner?.error;
  }

  push(chunk: Uint8Array): Packet[] {
    if (this.inner) return this.inner.push(chunk);
    if (this.err !== undefined || chunk.length === 0) return [];
    this.head.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.headLen += chunk.length;
    if (this.headLen < 4) return [];
    const all = Buffer.concat(this.head);
    this.head = [];
    if (isPcapngMagic(all)) this.inner = new PcapngReader();
    else if (isPcapMagic(all)) this.inner = new PcapReader();
    else {
      this.err = `not a pcap or pcapng file (it starts with 0x${all.subarray(0, 4).toString('hex')})`;
      return [];
    }
    return this.inner.push(all);
  }

  end(): void {
    if (this.inner) return this.inner.end();
    if (this.err === undefined) {
      this.err =
        this.headLen === 0 ? 'empty file: no capture in it' : `truncated: file cut after ${this.headLen} bytes`;
    }
  }
}

export interface ReadAllResult {
  packets: Packet[];
  interfaces: readonly CaptureInterface[];
  stats: ReadonlyMap<number, InterfaceStats>;
  notes: readonly string[];
  error?: string;
  format: 'pcap' | 'pcapng' | 'unknown';
}

/** Reads a whole file (tests, small files): never throws; an unreadable file is an error value. */
export function readCaptureFile(path: string, chunkSize = 65536): ReadAllResult {
  const r = new CaptureReader();
  const packets: Packet[] = [];
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return {
      packets,
      interfaces: [],
      stats: new Map(),
      notes: [],
      error: `cannot open ${path}: ${code}`,
      format: 'unknown',
    };
  }
  try {
    for (;;) {
      const b = Buffer.allocUnsafe(chunkSize);
      let n: number;
      try {
        n = fs.readSync(fd, b, 0, chunkSize, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        return {
          packets,
          interfaces: r.interfaces,
          stats: r.stats,
          notes: r.notes,
          error: `cannot read ${path}: ${code}`,
          format: r.format,
        };
      }
      if (n === 0) break;
      for (const p of r.push(b.subarray(0, n))) packets.push(p);
      if (r.error !== undefined) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  r.end();
  const res: ReadAllResult = { packets, interfaces: r.interfaces, stats: r.stats, notes: r.notes, format: r.format };
  if (r.error !== undefined) res.error = r.error;
  return res;
}

export interface StreamResult {
  packets: number;
  /** The consumer asked to stop (returned false), e.g. -c reached. */
  stopped: boolean;
  interfaces: readonly CaptureInterface[];
  stats: ReadonlyMap<number, InterfaceStats>;
  notes: readonly string[];
  error?: string;
  format: 'pcap' | 'pcapng' | 'unknown';
}

/**
 * Reads a capture from a stream (`-r -` is process.stdin, `-r FILE` is
 * fs.createReadStream(FILE)), calling `f` per packet with the reader (for
 * its interfaces); `f` returning false stops the reading. Never rejects on
 * bad input or a failing stream: the error is in the result.
 */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array | string>,
  f: (p: Packet, r: CaptureReader) => boolean | void,
): Promise<StreamResult> {
  const r = new CaptureReader();
  let packets = 0;
  let stopped = false;
  let streamError: string | undefined;
  try {
    outer: for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      for (const p of r.push(b)) {
        packets++;
        if (f(p, r) === false) {
          stopped = true;
          break outer;
        }
      }
      if (r.error !== undefined) break;
    }
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    streamError = `cannot read the capture: ${x.code ?? x.message ?? String(e)}`;
  }
  if (!stopped) r.end();
  const res: StreamResult = {
    packets,
    stopped,
    interfaces: r.interfaces,
    stats: r.stats,
    notes: r.notes,
    format: r.format,
  };
  const err = streamError ?? r.error;
  if (err !== undefined) res.error = err;
  return res;
}

/** Reads a capture held in memory, in chunks of `chunkSize` (tests, fuzzing). */
export function readCaptureBytes(b: Uint8Array, chunkSize = b.length || 1): ReadAllResult {
  const r = new CaptureReader();
  const packets: Packet[] = [];
  for (let o = 0; o < b.length && r.error === undefined; o += chunkSize) {
    for (const p of r.push(b.subarray(o, Math.min(b.length, o + chunkSize)))) packets.push(p);
  }
  r.end();
  const res: ReadAllResult = { packets, interfaces: r.interfaces, stats: r.stats, notes: r.notes, format: r.format };
  if (r.error !== undefined) res.error = r.error;
  return res;
}
