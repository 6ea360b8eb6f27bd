/**
 * pcapng writer (little-endian), written from the pcapng specification
 * (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface
 * Description Block per capture interface (added at any time: an IDB may
 * follow packets in a section), Enhanced Packet Blocks carrying the process
 * in `opt_comment` and the direction in `epb_flags`, and Interface Statistics
 * Blocks with the drop counts.
 *
 * Blocks are encoded into one buffer and handed to `write` by `flush()`
 * (one write per batch); the buffer is flushed by itself when it grows past
 * `batchBytes`, so memory stays bounded whatever the caller does. A flushed
 * Buffer is a view of bytes the writer never touches again: the consumer may
 * keep it (asynchronous writes); a consumer that is done with it when `write`
 * returns (a synchronous file write) says so with `reuse`, and the writer
 * then fills the same memory again (no fresh pages to fault in per batch).
 *
 * A process's comment is encoded once and kept by the identity of its Proc
 * object (sources hand the same object for the same process).
 */
import type { CaptureInterface, CaptureStats, Packet, Proc } from '../model/packet';
import { escapeTerminal } from '../text/sanitize';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_FILTER = 11;
export const IF_TSOFFSET = 14;
export const EPB_FLAGS = 2;
export const ISB_STARTTIME = 2;
export const ISB_ENDTIME = 3;
export const ISB_IFRECV = 4;
export const ISB_IFDROP = 5;
export const ISB_FILTERACCEPT = 6;
export const ISB_OSDROP = 7;

/** An option's value is at most this long (the length field is 16 bits; keep it 4-aligned). */
const MAX_OPTION = 65532;
const DEFAULT_BATCH = 256 * 1024;

export interface PcapngWriterOptions {
  /** shb_userappl; 'wirelens' by default. */
  userappl?: string;
  /** Flush by itself once this many bytes are buffered (default 256 KiB). */
  batchBytes?: number;
  /** `write` is done with its Buffer when it returns: the writer may fill that memory again. */
  reuse?: boolean;
  /** The capture's own network namespace inode: a packet's netns is written only when it differs. */
  hostNetns?: number;
}

/** Encoded process comments kept at most (the table is emptied when full). */
const MAX_COMMENTS = 4096;

/** Statistics for an ISB: CaptureStats plus the optional OS-side drops (isb_osdrop). */
export interface IsbStats extends CaptureStats {
  osDropped?: number;
}

export interface WallTime {
  sec: number;
  nsec: number;
}

/**
 * A wall time as a 64-bit count of nanoseconds, split in its high and low
 * 32 bits, exactly (sec * 1e9 overflows a double's 53 bits).
 */
export function nsHighLow(sec: number, nsec: number): [number, number] {
  nsSplit(sec, nsec);
  return [nsHi, nsLo];
}

/** nsSplit's answer: module variables, so the per-packet path allocates no array. */
let nsHi = 0;
let nsLo = 0;
/** The last whole second split (packets come in time order): its nanoseconds as high and low words. */
let lastSec = -1;
let secHi = 0;
let secLo = 0;

function nsSplit(sec: number, nsec: number): void {
  if (!(sec >= 0)) sec = 0;
  if (!(nsec >= 0)) nsec = 0;
  sec = Math.floor(sec);
  nsec = Math.floor(nsec);
  if (sec !== lastSec) {
    const a = Math.floor(sec / 65536) * 1e9; // sec * 1e9 = a * 2^16 + b
    const b = (sec % 65536) * 1e9;
    const mid = (a % 65536) * 65536 + b; // = ah * 2^32 + mid
    const carry = Math.floor(mid / 4294967296);
    secHi = Math.floor(a / 65536) + carry;
    secLo = mid - carry * 4294967296;
    lastSec = sec;
  }
  const lo = secLo + nsec; // nsec < 2^32 after a second's worth, so one carry at most
  const carry = lo >= 4294967296 ? 1 : 0;
  nsHi = (secHi + carry) >>> 0;
  nsLo = lo - carry * 4294967296;
}

/** Writes a wall time as pcapng's two 32-bit words of nanoseconds. */
function putNs(d: DataView, off: number, sec: number, nsec: number): void {
  nsSplit(sec, nsec);
  d.setUint32(off, nsHi, true);
  d.setUint32(off + 4, nsLo, true);
}

/** Copies n bytes between DataViews: a word at a time for short runs (no view to allocate), set() for long ones. */
function copyIn(dst: DataView, to: number, src: DataView, from: number, n: number): void {
  if (n > 512) {
    new Uint8Array(dst.buffer, dst.byteOffset + to, n).set(new Uint8Array(src.buffer, src.byteOffset + from, n));
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) dst.setUint32(to + i, src.getUint32(from + i, true), true);
  for (; i < n; i++) dst.setUint8(to + i, src.getUint8(from + i));
}

/**
 * The comment wirelens writes for a packet's process and network namespace:
 * "PID: n\nCmd: comm\nUID: n\nNetNS: n\nTID: n" (known fields only), or
 * "NetNS: n" alone when only the namespace is known; undefined when neither
 * is. The reader's parseProcBytes is its inverse.
 */
export function procComment(p: Proc | undefined, netns?: number): string | undefined {
  if (!p) return netns ? `NetNS: ${netns}` : undefined;
  let s = `PID: ${p.pid}\nCmd: ${escapeTerminal(p.comm)}`;
  if (p.uid !== undefined) s += `\nUID: ${p.uid}`;
  if (netns) s += `\nNetNS: ${netns}`;
  if (p.tid !== undefined) s += `\nTID: ${p.tid}`;
  return s;
}

function utf8Bounded(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= MAX_OPTION) return b;
  let n = MAX_OPTION;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--; // do not cut a character in two
  return b.subarray(0, n);
}

const pad4 = (n: number) => (n + 3) & ~3;

/** An opt_comment option (header, UTF-8 text bounded, padding) as bytes. */
function commentOption(s: string): Buffer {
  const text = utf8Bounded(s);
  const c = Buffer.alloc(4 + pad4(text.length));
  c.writeUInt16LE(OPT_COMMENT, 0);
  c.writeUInt16LE(text.length, 2);
  text.copy(c, 4);
  return c;
}

/** Encoded options: a list of [code, value]; the end-of-options marker is added when any are present. */
type Opt = [number, Uint8Array];

function optionsLength(opts: Opt[]): number {
  if (opts.length === 0) return 0;
  let n = 4;
  for (const [, v] of opts) n += 4 + pad4(v.length);
  return n;
}

function u64le(n: number): Buffer {
  const b = Buffer.alloc(8);
  const v = Math.max(0, Math.floor(n));
  b.writeUInt32LE(v % 4294967296, 0);
  b.writeUInt32LE(Math.floor(v / 4294967296) >>> 0, 4);
  return b;
}

function timeOpt(t: WallTime): Buffer {
  const [hi, lo] = nsHighLow(t.sec, t.nsec);
  const b = Buffer.alloc(8);
  b.writeUInt32LE(hi, 0);
  b.writeUInt32LE(lo, 4);
  return b;
}

export class PcapngWriter {
  private buf: Buffer;
  /** The same memory as buf, for the hot path's writes (cheaper than Buffer's write methods). */
  private dv: DataView;
  /** Write position in buf; blocks from `start` to `len` wait for flush(), bytes before `start` belong to the consumer. */
  private len = 0;
  private start = 0;
  private readonly batch: number;
  private readonly ifaces: CaptureInterface[] = [];
  private total = 0;
  private readonly reuse: boolean;
  /** opt_comment options (header, text, padding) by the Proc they describe. */
  private readonly comments = new Map<Proc, Buffer>();
  /** The same for packets of another network namespace than hostNetns, and for a namespace alone. */
  private readonly nsComments = new Map<Proc, { netns: number; option: Buffer }>();
  private readonly nsAlone = new Map<number, Buffer>();
  private readonly hostNetns: number | undefined;

  constructor(
    private readonly write: (b: Buffer) => void,
    opts: PcapngWriterOptions = {},
  ) {
    this.batch = Math.max(4096, opts.batchBytes ?? DEFAULT_BATCH);
    this.reuse = opts.reuse === true;
    this.hostNetns = opts.hostNetns;
    this.buf = Buffer.allocUnsafe(this.batch * 4);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    const appl = utf8Bounded(opts.userappl ?? 'wirelens');
    const o: Opt[] = [[SHB_USERAPPL, appl]];
    const body = 16 + optionsLength(o);
    const off = this.begin(BT_SHB, body);
    this.buf.writeUInt32LE(BYTE_ORDER_MAGIC, off);
    this.buf.writeUInt16LE(1, off + 4);
    this.buf.writeUInt16LE(0, off + 6);
    this.buf.writeInt32LE(-1, off + 8); // section length: not given
    this.buf.writeInt32LE(-1, off + 12);
    this.end(this.putOptions(off + 16, o), body);
  }

  /** Interfaces added so far, in id order. */
  get interfaces(): readonly CaptureInterface[] {
    return this.ifaces;
  }

  /** Bytes produced so far (flushed or buffered). */
  get size(): number {
    return this.total + this.len - this.start;
  }

  /**
   * Counts `n` bytes of blocks written to the same file by someone else
   * (capture's kernel-made packet blocks): call it with nothing buffered.
   */
  addExternal(n: number): void {
    this.total += n;
  }

  /** Bytes waiting for flush(). */
  get buffered(): number {
    return this.len - this.start;
  }

  /** Writes an IDB; returns the interface id packets refer to (Packet.iface). Time stamps are in ns. */
  addInterface(i: CaptureInterface): number {
    const o: Opt[] = [[IF_NAME, utf8Bounded(i.name)]];
    if (i.description) o.push([IF_DESCRIPTION, utf8Bounded(i.description)]);
    o.push([IF_TSRESOL, Uint8Array.of(9)]);
    if (i.filter !== undefined && i.filter !== '') {
      const f = utf8Bounded(i.filter);
      const v = Buffer.alloc(Math.min(f.length + 1, MAX_OPTION));
      f.copy(v, 1, 0, v.length - 1); // first byte 0: the filter as a string
      o.push([IF_FILTER, v]);
    }
    const body = 8 + optionsLength(o);
    const off = this.begin(BT_IDB, body);
    this.buf.writeUInt16LE(i.linkType & 0xffff, off);
    this.buf.writeUInt16LE(0, off + 2);
    this.buf.writeUInt32LE(Math.max(0, Math.min(i.snaplen, 0xffffffff)) >>> 0, off + 4);
    this.end(this.putOptions(off + 8, o), body);
    this.ifaces.push({ ...i, tsUnitNs: 1 });
    return this.ifaces.length - 1;
  }

  /** Writes an EPB. p.iface must be an id returned by addInterface (others are written as they are). */
  packet(p: Packet): void {
    // The hot path: the process's comment comes encoded from the cache, the rest is written in place.
    const ns = p.netns !== this.hostNetns ? p.netns : undefined;
    const c1 = p.proc ? this.procOption(p.proc, ns) : ns ? this.netnsOption(ns) : undefined;
    const c2 = p.comment || undefined;
    const n2 = c2 === undefined ? -1 : Math.min(Buffer.byteLength(c2), MAX_OPTION);
    const dir = p.direction === 'in' ? 1 : p.direction === 'out' ? 2 : 0;
    let opts = 0;
    if (c1) opts += c1.length;
    if (n2 >= 0) opts += 4 + pad4(n2);
    if (dir) opts += 8;
    if (opts) opts += 4;
    const at = p.at;
    const cap = at ? at.length : p.data.length;
    const body = 20 + pad4(cap) + opts;
    const off = this.begin(BT_EPB, body);
    const b = this.buf;
    const d = this.dv;
    d.setUint32(off, p.iface >>> 0, true);
    putNs(d, off + 4, p.sec, p.nsec);
    d.setUint32(off + 12, cap, true);
    d.setUint32(off + 16, Math.max(cap, Math.min(p.wireLen, 0xffffffff)) >>> 0, true);
    if (at) copyIn(d, off + 20, at.view, at.offset, cap);
    else b.set(p.data, off + 20);
    let o = off + 20 + cap;
    const pad = pad4(cap) - cap;
    for (let k = 0; k < pad; k++) b[o++] = 0;
    if (c1) {
      b.set(c1, o);
      o += c1.length;
    }
    if (n2 >= 0) o = this.putString(o, c2!, n2);
    if (dir) {
      d.setUint16(o, EPB_FLAGS, true);
      d.setUint16(o + 2, 4, true);
      d.setUint32(o + 4, dir, true);
      o += 8;
    }
    if (opts) {
      d.setUint32(o, 0, true);
      o += 4;
    }
    this.end(o, body);
  }

  /**
   * The process's opt_comment, encoded (header, text, padding) once per Proc
   * object, and per Proc and namespace for packets of another namespace.
   */
  private procOption(proc: Proc, netns: number | undefined): Buffer {
    if (netns !== undefined) {
      const e = this.nsComments.get(proc);
      if (e !== undefined && e.netns === netns) return e.option;
      const option = commentOption(procComment(proc, netns)!);
      if (this.nsComments.size >= MAX_COMMENTS) this.nsComments.clear();
      this.nsComments.set(proc, { netns, option });
      return option;
    }
    let c = this.comments.get(proc);
    if (c === undefined) {
      c = commentOption(procComment(proc)!);
      if (this.comments.size >= MAX_COMMENTS) this.comments.clear();
      this.comments.set(proc, c);
    }
    return c;
  }

  /** "NetNS: n" alone (another namespace, no process), encoded once per namespace. */
  private netnsOption(netns: number): Buffer {
    let c = this.nsAlone.get(netns);
    if (c === undefined) {
      c = commentOption(procComment(undefined, netns)!);
      if (this.nsAlone.size >= MAX_COMMENTS) this.nsAlone.clear();
      this.nsAlone.set(netns, c);
    }
    return c;
  }

  /** An opt_comment of `n` UTF-8 bytes (n is already bounded; a longer string is cut at a character). */
  private putString(o: number, s: string, n: number): number {
    const b = this.buf;
    let len = n;
    let ascii = n === s.length;
    if (ascii) {
      // Short ASCII (the usual process comment): a loop beats Buffer#write's call overhead.
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        b[o + 4 + i] = c;
      }
    }
    if (!ascii) {
      if (n === MAX_OPTION && Buffer.byteLength(s) > MAX_OPTION) {
        const cut = utf8Bounded(s);
        len = cut.length;
        cut.copy(b, o + 4);
      } else b.write(s, o + 4, n, 'utf8');
    }
    b.writeUInt16LE(OPT_COMMENT, o);
    b.writeUInt16LE(len, o + 2);
    const end = o + 4 + pad4(n);
    for (let i = o + 4 + len; i < end; i++) b[i] = 0;
    return end;
  }

  /**
   * Writes an ISB for an interface: isb_ifrecv = received, isb_filteraccept =
   * captured, isb_ifdrop = dropped (lost in the kernel ring), isb_osdrop when
   * given, and the capture's start and end times when given. The block's
   * own time stamp is `end` (or `at`, or now).
   */
  stats(ifaceId: number, s: IsbStats, start?: WallTime, end?: WallTime, at?: WallTime): void {
    const o: Opt[] = [];
    if (start) o.push([ISB_STARTTIME, timeOpt(start)]);
    if (end) o.push([ISB_ENDTIME, timeOpt(end)]);
    o.push([ISB_IFRECV, u64le(s.received)]);
    o.push([ISB_IFDROP, u64le(s.dropped)]);
    o.push([ISB_FILTERACCEPT, u64le(s.captured)]);
    if (s.osDropped !== undefined) o.push([ISB_OSDROP, u64le(s.osDropped)]);
    let t = at ?? end;
    if (!t) {
      const ms = Date.now();
      t = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
    }
    const body = 12 + optionsLength(o);
    const off = this.begin(BT_ISB, body);
    const [hi, lo] = nsHighLow(t.sec, t.nsec);
    this.buf.writeUInt32LE(ifaceId >>> 0, off);
    this.buf.writeUInt32LE(hi, off + 4);
    this.buf.writeUInt32LE(lo, off + 8);
    this.end(this.putOptions(off + 12, o), body);
  }

  /** Hands the buffered blocks to `write` in one Buffer (nothing when empty). */
  flush(): void {
    if (this.len === this.start) return;
    // The consumer gets a view of bytes this writer never touches again (later blocks go after them).
    const out = this.buf.subarray(this.start, this.len);
    this.total += this.len - this.start;
    this.start = this.len;
    this.write(out);
    if (this.reuse) this.start = this.len = 0;
  }

  /** Reserves a block of `body` bytes; returns the body's offset in this.buf. */
  private begin(type: number, body: number): number {
    const need = body + 12;
    if (this.len > this.start && this.len - this.start + need > this.batch) this.flush();
    if (this.len + need > this.buf.length) {
      // A fresh buffer for several batches; pending blocks (less than a batch) move with it.
      const fresh = Buffer.allocUnsafe(Math.max(this.batch * 4, need + this.batch));
      this.buf.copy(fresh, 0, this.start, this.len);
      this.len -= this.start;
      this.start = 0;
      this.buf = fresh;
      this.dv = new DataView(fresh.buffer, fresh.byteOffset, fresh.length);
    }
    this.dv.setUint32(this.len, type, true);
    this.dv.setUint32(this.len + 4, need, true);
    return this.len + 8;
  }

  private end(bodyEnd: number, body: number): void {
    this.dv.setUint32(bodyEnd, body + 12, true);
    this.len = bodyEnd + 4;
    if (this.len - this.start >= this.batch) this.flush();
  }

  private putOptions(off: number, opts: Opt[]): number {
    if (opts.length === 0) return off;
    for (const [code, v] of opts) {
      this.buf.writeUInt16LE(code, off);
      this.buf.writeUInt16LE(v.length, off + 2);
      this.buf.set(v, off + 4);
      const p = pad4(v.length);
      this.buf.fill(0, off + 4 + v.length, off + 4 + p);
      off += 4 + p;
    }
    this.buf.writeUInt32LE(0, off); // opt_endofopt
    return off + 4;
  }
}
