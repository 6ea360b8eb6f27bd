/**
 * The file sink of `wirelens capture -w`: pcapng to one file, to stdout
 * (`-w -`), or to rotating files like tcpdump's:
 *
 *  - `-C SIZE`: a new file once the current one is larger than SIZE million
 *    bytes (checked before each packet, so a file exceeds SIZE by at most one
 *    packet). Names: FILE, FILE1, FILE2, ... (tcpdump's).
 *  - `-C SIZE -W N`: a ring of N files FILE0 .. FILE{N-1} (the number padded
 *    with zeros to the width of N-1, as tcpdump does), overwritten in turn.
 *  - `-G SECONDS`: a new file every SECONDS seconds of packet time, named by
 *    strftime(FILE) at the time of the packet that opens it (%Y %m %d %H %M
 *    %S %s %j %% are supported; anything else after % is left as written).
 *    With `-W N`, `done` turns true at the packet that would open file N+1:
 *    that packet is not written, and the last file stays open until
 *    close() has written the statistics block into it.
 *  - `-G` with `-C`: a new file on either; a size rotation within the same
 *    time slot appends a count to the strftime name (FILE-formatted + 1, 2,
 *    ...), formatted at the time of that rotation, as tcpdump; -W then only
 *    pads the count.
 *
 * Every file holds at least one packet: a rotation (-C or -G) waits for the
 * current file's first packet, and a -G slot starts at the first packet of
 * its file (the first file is opened at start, named by that time, and its
 * slot starts when its first packet comes; tcpdump 4.99 rotates it away
 * empty when nothing arrives within SECONDS, and counts it in -W).
 *
 * Every file starts with a section header and all the interfaces seen so
 * far, so each one reads on its own. Statistics blocks go to the last file
 * at close(). Failures (open, write) are returned as one-line messages.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { CaptureInterface, Packet } from '../model/packet';
import { type IsbStats, PcapngWriter, type WallTime } from './pcapng-writer';
import { writeOutBytes } from './stdout';

export interface FileTarget {
  write(b: Buffer): void;
  close(): void;
  /** A file's descriptor, for blocks written by a RangeWriter. */
  fd?: number;
  /** `write` is done with its Buffer when it returns (a synchronous write): the writer reuses the memory. */
  synchronous?: boolean;
}

export interface CaptureFilesOptions {
  /** -w: a path, or '-' for stdout. */
  path: string;
  /** -C: rotate past this many million bytes. */
  sizeMB?: number;
  /** -W: number of files in the ring (with -C) or before done (with -G). */
  files?: number;
  /** -G: rotate every this many seconds. */
  rotateSeconds?: number;
  /** strftime in UTC rather than local time. */
  utc?: boolean;
  /** Passed to the pcapng writer (bytes buffered before a write by itself). */
  batchBytes?: number;
  /** Passed to the pcapng writer: the capture's own network namespace (not written in comments). */
  hostNetns?: number;
  /** Opens a target (tests); files are opened with fs by default, '-' is stdout. */
  open?: (path: string) => FileTarget;
}

/**
 * Writes `count` (offset, length) ranges of some memory to fd, in order:
 * bytes written, or -errno (capture's KernelCapture.writeRanges).
 */
export type RangeWriter = (fd: number, ranges: Uint32Array, count: number) => number;

/** Ranges gathered before a write of their own. */
const MAX_RANGES = 1024;

/** Checks flag combinations the way tcpdump refuses them; a one-line message or undefined. */
export function captureFilesProblem(o: CaptureFilesOptions): string | undefined {
  if (o.path === '') return '-w needs a file name (or - for stdout)';
  const rotating = o.sizeMB !== undefined || o.rotateSeconds !== undefined;
  if (o.path === '-' && rotating) return '-C and -G need a file name with -w, not - (stdout)';
  if (o.sizeMB !== undefined && !(o.sizeMB > 0)) return '-C needs a size above 0 (millions of bytes)';
  if (o.rotateSeconds !== undefined && !(o.rotateSeconds >= 1 && Number.isInteger(o.rotateSeconds)))
    return '-G needs a whole number of seconds, at least 1';
  if (o.files !== undefined) {
    if (!(o.files >= 1 && Number.isInteger(o.files))) return '-W needs a whole number of files, at least 1';
    if (!rotating) return '-W needs -C or -G';
  }
  return undefined;
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** A small strftime: %Y %m %d %H %M %S %s %j %%; other conversions are left as they are. */
export function strftime(fmt: string, sec: number, utc = false): string {
  const d = new Date(sec * 1000);
  const get = {
    Y: () => String(utc ? d.getUTCFullYear() : d.getFullYear()),
    m: () => p2((utc ? d.getUTCMonth() : d.getMonth()) + 1),
    d: () => p2(utc ? d.getUTCDate() : d.getDate()),
    H: () => p2(utc ? d.getUTCHours() : d.getHours()),
    M: () => p2(utc ? d.getUTCMinutes() : d.getMinutes()),
    S: () => p2(utc ? d.getUTCSeconds() : d.getSeconds()),
    s: () => String(Math.floor(sec)),
    j: () => {
      const y = utc ? d.getUTCFullYear() : d.getFullYear();
      const start = utc ? Date.UTC(y, 0, 1) : new Date(y, 0, 1).getTime();
      const today = utc
        ? Date.UTC(y, d.getUTCMonth(), d.getUTCDate())
        : new Date(y, d.getMonth(), d.getDate()).getTime();
      return String(Math.round((today - start) / 86400000) + 1).padStart(3, '0');
    },
    '%': () => '%',
  } as Record<string, () => string>;
  return fmt.replace(/%(.)/g, (all, c: string) => (get[c] ? get[c]() : all));
}

/** Digits tcpdump pads the file number to with -W N. */
function counterWidth(files: number | undefined): number {
  if (files === undefined) return 0;
  let x = files - 1;
  let c = 0;
  while (x > 0) {
    c++;
    x = Math.floor(x / 10);
  }
  return c;
}

function fileTarget(path: string): FileTarget {
  if (path === '-') {
    return { write: (b) => writeOutBytes(b), close: () => undefined };
  }
  const fd = fs.openSync(path, 'w', 0o644);
  return {
    synchronous: true,
    fd,
    write: (b) => {
      let off = 0;
      while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
    },
    close: () => fs.closeSync(fd),
  };
}

/** An errno's name (ENOSPC), or its number. */
function errnoName(n: number): string {
  for (const [name, v] of Object.entries(os.constants.errno)) if (v === n) return name;
  return `errno ${n}`;
}

function errText(e: unknown): string {
  const x = e as NodeJS.ErrnoException;
  return x.code ?? x.message ?? String(e);
}

export class CaptureFiles {
  /** Names of the files opened, in order (a ring reuses names). */
  readonly opened: string[] = [];
  /** -G with -W: the last file is complete (tcpdump exits here); packet() writes nothing more. */
  done = false;
  /** Packets written to the current file. */
  private inFile = 0;
  private readonly ifaces: CaptureInterface[] = [];
  private w: PcapngWriter | undefined;
  private target: FileTarget | undefined;
  private count = 0; // size rotations within the current time slot (or overall without -G)
  private slotStart = 0;
  private timeFiles = 0;
  private readonly limit: number | undefined;
  private readonly width: number;
  private readonly openTarget: (path: string) => FileTarget;
  /** Blocks gathered as ranges of another memory, written by rangeWriter before anything else. */
  private rangeWriter: RangeWriter | undefined;
  private readonly ranges = new Uint32Array(MAX_RANGES * 2);
  private nRanges = 0;

  constructor(private readonly o: CaptureFilesOptions) {
    this.limit = o.sizeMB !== undefined ? o.sizeMB * 1_000_000 : undefined;
    this.width = counterWidth(o.sizeMB !== undefined ? o.files : undefined);
    this.openTarget = o.open ?? fileTarget;
  }

  /** Opens the first file (its -G name from `now`, seconds); a one-line error when it cannot. */
  open(now: number = Math.floor(Date.now() / 1000)): string | undefined {
    const bad = captureFilesProblem(this.o);
    if (bad) return bad;
    this.slotStart = now;
    return this.start(now);
  }

  /** Lets block() take ranges, written by `w` (only files opened by path have a descriptor). */
  acceptRanges(w: RangeWriter): boolean {
    if (this.target?.fd === undefined) return false;
    this.rangeWriter = w;
    return true;
  }

  /** Adds an interface to the current file and to every later one; returns its id. */
  addInterface(i: CaptureInterface): number {
    this.flushRanges();
    this.ifaces.push(i);
    this.w?.addInterface(i);
    return this.ifaces.length - 1;
  }

  get interfaces(): readonly CaptureInterface[] {
    return this.ifaces;
  }

  /**
   * Writes a packet, rotating first when -C or -G says so; a one-line error
   * when a file fails. Nothing is written once `done` (check it after the
   * call: the packet that turns it true is not written either).
   */
  packet(p: Packet): string | undefined {
    const e = this.beforePacket(p.sec);
    if (e !== undefined || this.done) return e;
    const r = this.flushRanges();
    if (r) return r;
    try {
      this.w!.packet(p);
    } catch (e) {
      return `cannot write ${this.current()}: ${errText(e)}`;
    }
    this.inFile++;
    return undefined;
  }

  /**
   * A packet as a ready pcapng block (`length` bytes at `offset` of the
   * RangeWriter's memory, naming an interface by the id addInterface gave
   * it), of second `sec`: rotated like packet(), gathered, and written by
   * flushRanges() (at the latest at the end of the caller's batch, while
   * that memory is valid). Needs acceptRanges().
   */
  block(offset: number, length: number, sec: number): string | undefined {
    const e = this.beforePacket(sec);
    if (e !== undefined || this.done) return e;
    if (!this.rangeWriter) return 'blocks need a file written by path';
    const w = this.w!;
    if (w.buffered > 0) {
      const bad = this.flush();
      if (bad) return bad;
    }
    if (this.nRanges === MAX_RANGES) {
      const bad = this.flushRanges();
      if (bad) return bad;
    }
    this.ranges[2 * this.nRanges] = offset;
    this.ranges[2 * this.nRanges + 1] = length;
    this.nRanges++;
    w.addExternal(length);
    this.inFile++;
    return undefined;
  }

  /** Writes the blocks gathered by block(); a one-line error when the file fails. */
  flushRanges(): string | undefined {
    const n = this.nRanges;
    if (n === 0) return undefined;
    this.nRanges = 0;
    const fd = this.target?.fd;
    const r = fd === undefined || !this.rangeWriter ? -9 : this.rangeWriter(fd, this.ranges, n);
    return r < 0 ? `cannot write ${this.current()}: ${errnoName(-r)}` : undefined;
  }

  /** Rotation before a packet of second `sec` (-C, -G); `done` may turn true. */
  private beforePacket(sec: number): string | undefined {
    if (this.done) return undefined;
    if (!this.w) return 'capture file is not open';
    const G = this.o.rotateSeconds;
    if (this.inFile === 0) {
      // A file's first packet: no rotation before it; the first file's -G slot starts here.
      if (this.opened.length === 1) this.slotStart = sec;
    } else if (G !== undefined && sec - this.slotStart >= G) {
      if (this.o.files !== undefined && this.o.sizeMB === undefined && this.timeFiles >= this.o.files) {
        this.done = true;
        return undefined;
      }
      this.slotStart = sec;
      this.count = 0;
      return this.rotate(sec);
    } else if (this.limit !== undefined && this.w.size > this.limit) {
      this.count++;
      if (this.o.files !== undefined && G === undefined) this.count %= this.o.files;
      return this.rotate(sec);
    }
    return undefined;
  }

  /** Hands buffered blocks to the file (one write); call once per batch of packets. */
  flush(): string | undefined {
    const r = this.flushRanges();
    if (r) return r;
    try {
      this.w?.flush();
    } catch (e) {
      return `cannot write ${this.current()}: ${errText(e)}`;
    }
    return undefined;
  }

  /** Writes the statistics blocks to the last file, flushes and closes it. */
  close(stats: { iface: number; stats: IsbStats; start?: WallTime; end?: WallTime }[] = []): string | undefined {
    const r = this.flushRanges();
    if (r) {
      this.finish();
      return r;
    }
    if (this.w) for (const s of stats) this.w.stats(s.iface, s.stats, s.start, s.end);
    return this.finish();
  }

  /** The name the current file has. */
  current(): string {
    return this.opened.at(-1) ?? this.o.path;
  }

  private name(sec: number): string {
    let base = this.o.path;
    if (this.o.rotateSeconds !== undefined) base = strftime(base, sec, this.o.utc);
    if (this.o.sizeMB === undefined) return base;
    if (this.count === 0 && this.width === 0) return base;
    return base + String(this.count).padStart(this.width, '0');
  }

  private start(sec: number): string | undefined {
    const name = this.name(sec);
    try {
      this.target = this.openTarget(name);
    } catch (e) {
      return `cannot open ${name} for writing: ${errText(e)}`;
    }
    this.opened.push(name);
    this.inFile = 0;
    if (this.o.rotateSeconds !== undefined && this.count === 0) this.timeFiles++;
    const t = this.target;
    this.w = new PcapngWriter((b) => t.write(b), {
      ...(this.o.batchBytes ? { batchBytes: this.o.batchBytes } : {}),
      reuse: t.synchronous === true,
      ...(this.o.hostNetns !== undefined ? { hostNetns: this.o.hostNetns } : {}),
    });
    for (const i of this.ifaces) this.w.addInterface(i);
    return undefined;
  }

  private rotate(sec: number): string | undefined {
    const e = this.finish();
    if (e) return e;
    return this.start(sec);
  }

  private finish(): string | undefined {
    const name = this.current();
    const r = this.flushRanges();
    try {
      this.w?.flush();
      this.target?.close();
    } catch (e) {
      return `cannot write ${name}: ${errText(e)}`;
    } finally {
      this.w = undefined;
      this.target = undefined;
    }
    return r;
  }
}
