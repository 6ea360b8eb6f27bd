/**
 * pcapng files, read from the specification (draft-ietf-opsawg-pcapng):
 * sections (each starts with a Section Header Block giving the byte order;
 * interface ids restart in each), Interface Description Blocks (link type,
 * snap length, if_name, if_description, if_filter, if_tsresol as a power of
 * 10 or of 2, if_tsoffset), Enhanced, Simple and the obsolete Packet Blocks
 * (opt_comment, epb_flags/pack_flags direction), Interface Statistics Blocks.
 * Every other block is skipped. Block lengths are checked before anything is
 * buffered for them. wirelens's own comments ("PID: n\nCmd: c\nUID: n\nNetNS:
 * n\nTID: n", or "NetNS: n" alone) become Packet.proc and Packet.netns; other
 * comments become Packet.comment (as safe text).
 */
import type { CaptureInterface, Packet, Proc } from '../../model/packet';
import { wireText } from '../../text/sanitize';
import { ByteQueue } from './byte-queue';
import { BE, type Endian, type InterfaceStats, LE, MAX_BLOCK, MAX_INTERFACES, type PacketReader } from './types';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_ISB = 5;
const BT_EPB = 6;
const MAGIC = 0x1a2b3c4d;

/** Whether four bytes start a pcapng file. */
export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a;
}

/** What wirelens's comment says about a packet: its process and/or its network namespace. */
export interface ProcNote {
  proc?: Proc;
  netns?: number;
}

/** wirelens's process comment, parsed strictly (anything else is an ordinary comment). */
export function parseProcComment(s: string): ProcNote | undefined {
  return parseProcBytes(Buffer.from(s, 'utf8'));
}

/** Reads a decimal of 1 to 10 digits at b[i..end); returns [value, next index] or undefined. */
function digits(b: Uint8Array, i: number, end: number): [number, number] | undefined {
  let v = 0;
  const from = i;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39 && i - from < 10) v = v * 10 + (b[i++]! - 0x30);
  return i > from && (i === end || b[i] === 0x0a) ? [v, i] : undefined;
}

const startsWith = (b: Uint8Array, i: number, end: number, p: readonly number[]) => {
  if (i + p.length > end) return false;
  for (let k = 0; k < p.length; k++) if (b[i + k] !== p[k]) return false;
  return true;
};
const PID = [0x50, 0x49, 0x44, 0x3a, 0x20]; // "PID: "
const CMD = [0x43, 0x6d, 0x64, 0x3a, 0x20]; // "Cmd: "
const UID = [0x55, 0x49, 0x44, 0x3a, 0x20]; // "UID: "
const TID = [0x54, 0x49, 0x44, 0x3a, 0x20]; // "TID: "
const NETNS = [0x4e, 0x65, 0x74, 0x4e, 0x53, 0x3a, 0x20]; // "NetNS: "

/**
 * "PID: n\nCmd: comm[\nUID: n][\nNetNS: n][\nTID: n]", or "NetNS: n" alone,
 * from an opt_comment's bytes (the writer's procComment); the comm as safe
 * text.
 */
export function parseProcBytes(b: Uint8Array, from = 0, end = b.length): ProcNote | undefined {
  if (startsWith(b, from, end, NETNS)) {
    const n = digits(b, from + NETNS.length, end);
    return n && n[1] === end ? { netns: n[0] } : undefined;
  }
  if (!startsWith(b, from, end, PID)) return undefined;
  const pid = digits(b, from + 5, end);
  if (!pid || pid[1] === end) return undefined;
  let i = pid[1] + 1;
  if (!startsWith(b, i, end, CMD)) return undefined;
  i += 5;
  const c0 = i;
  let plain = true;
  while (i < end && b[i] !== 0x0a) {
    if (b[i]! < 0x20 || b[i]! >= 0x7f) plain = false;
    i++;
  }
  const p: Proc = {
    pid: pid[0],
    comm: plain ? Buffer.from(b.buffer, b.byteOffset + c0, i - c0).toString('latin1') : wireText(b, c0, i),
  };
  const note: ProcNote = { proc: p };
  while (i < end) {
    i++; // the newline
    const key = startsWith(b, i, end, UID)
      ? UID
      : startsWith(b, i, end, TID)
        ? TID
        : startsWith(b, i, end, NETNS)
          ? NETNS
          : undefined;
    if (!key) return undefined;
    const n = digits(b, i + key.length, end);
    if (!n) return undefined;
    if (key === UID) p.uid = n[0];
    else if (key === TID) p.tid = n[0];
    else note.netns = n[0];
    i = n[1];
  }
  return note;
}

interface Iface {
  global: number;
  linkType: number;
  snaplen: number;
  /** Time stamp units per second. */
  units: number;
  offsetSec: number;
}

/** A 64-bit count of `units`-per-second ticks (high, low 32 bits) as seconds and nanoseconds. */
export function ticksToTime(hi: number, lo: number, units: number): [number, number] {
  if (units === 1e9 || units === 1e6 || (units <= 2 ** 30 && units >= 1)) {
    // Exact in doubles: divide in 16-bit steps so no intermediate exceeds 2^53.
    const qh = Math.floor(hi / units);
    const rh = hi % units;
    const m = rh * 65536 + (lo >>> 16);
    const q2 = Math.floor(m / units);
    const r2 = m % units;
    const m3 = r2 * 65536 + (lo & 0xffff);
    const q3 = Math.floor(m3 / units);
    const r3 = m3 % units;
    const sec = qh * 4294967296 + q2 * 65536 + q3;
    const nsec = units === 1e9 ? r3 : units === 1e6 ? r3 * 1000 : Math.floor((r3 * 1e9) / units);
    return [sec, nsec];
  }
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const u = BigInt(units);
  return [Number(t / u), Number(((t % u) * 1000000000n) / u)];
}

export class PcapngReader implements PacketReader {
  readonly format = 'pcapng' as const;
  readonly interfaces: CaptureInterface[] = [];
  readonly stats = new Map<number, InterfaceStats>();
  readonly notes: string[] = [];
  error: string | undefined;
  private readonly q = new ByteQueue();
  private e: Endian = LE;
  private section: Iface[] = [];
  private inSection = false;
  private blocks = 0;
  private packets = 0;
  private noteCount = 0;

  push(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    if (this.error !== undefined) return out;
    this.q.push(chunk);
    while (this.q.length >= 12) {
      let h = this.q.peek(12);
      let type = this.e.u32(h, 0);
      if (h.readUInt32LE(0) === BT_SHB) {
        type = BT_SHB;
        const le = h.readUInt32LE(8);
        const be = h.readUInt32BE(8);
        if (le === MAGIC) this.e = LE;
        else if (be === MAGIC) this.e = BE;
        else return this.fail(out, `pcapng: bad byte-order magic 0x${be.toString(16)} in section header`);
      } else if (!this.inSection) {
        return this.fail(out, 'pcapng: the file does not start with a section header block');
      }
      const len = this.e.u32(h, 4);
      if (len > MAX_BLOCK || len < 12 || len % 4 !== 0) {
        const why = len > MAX_BLOCK ? `absurd block length ${len}` : `bad block length ${len}`;
        return this.fail(out, `pcapng: ${why} at offset ${this.q.consumed}: the file is corrupt`);
      }
      if (this.q.length < len) break;
      h = this.q.peek(len);
      if (this.e.u32(h, len - 4) !== len) {
        return this.fail(out, `pcapng: block at offset ${this.q.consumed} has mismatched lengths: the file is corrupt`);
      }
      const body = h.subarray(8, len - 4);
      const p = this.block(type, body);
      if (this.error !== undefined) return this.fail(out, this.error);
      if (p) {
        out.push(p);
        this.packets++;
      }
      this.blocks++;
      this.q.skip(len);
    }
    return out;
  }

  end(): void {
    if (this.error !== undefined) return;
    if (this.q.consumed === 0 && this.q.length === 0) {
      this.error = 'pcapng: empty file';
      return;
    }
    if (this.q.length > 0) {
      const left = this.q.length;
      const want = left >= 8 ? ` of ${this.e.u32(this.q.peek(8), 4)}` : '';
      this.notes.push(
        `truncated: last block cut after ${left}${want} bytes` +
          ` (${this.packets} packets in ${this.blocks} blocks read before it)`,
      );
      this.q.clear();
    }
  }

  private fail(out: Packet[], msg: string): Packet[] {
    this.error = msg;
    this.q.clear();
    return out;
  }

  private note(msg: string): void {
    if (this.noteCount++ < 20) this.notes.push(msg);
    else if (this.noteCount === 21) this.notes.push('(further notes left out)');
  }

  /** Options from `off` to the end of `b`: calls f(code, value) for each; stops at opt_endofopt or a bad length. */
  private options(b: Buffer, off: number, f: (code: number, v: Buffer) => void): void {
    while (off + 4 <= b.length) {
      const code = this.e.u16(b, off);
      const n = this.e.u16(b, off + 2);
      if (code === 0) return;
      if (off + 4 + n > b.length) {
        this.note(`pcapng: option ${code} runs past its block; ignored`);
        return;
      }
      f(code, b.subarray(off + 4, off + 4 + n));
      off += 4 + ((n + 3) & ~3);
    }
  }

  private block(type: number, b: Buffer): Packet | undefined {
    switch (type) {
      case BT_SHB:
        return this.shb(b);
      case BT_IDB:
        return this.idb(b);
      case BT_EPB:
        return this.packetBlock(b, false);
      case BT_SPB:
        return this.spb(b);
      case BT_PB:
        return this.packetBlock(b, true);
      case BT_ISB:
        return this.isb(b);
      default:
        return undefined;
    }
  }

  private shb(b: Buffer): undefined {
    if (b.length < 16) {
      this.error = 'pcapng: section header block too short';
      return;
    }
    const major = this.e.u16(b, 4);
    if (major !== 1) {
      this.error = `pcapng: unsupported version ${major}.${this.e.u16(b, 6)} (only 1.x is known)`;
      return;
    }
    this.section = [];
    this.inSection = true;
  }

  private idb(b: Buffer): undefined {
    if (b.length < 8) {
      this.note('pcapng: interface description block too short; ignored');
      return;
    }
    if (this.interfaces.length >= MAX_INTERFACES) {
      this.error = `pcapng: more than ${MAX_INTERFACES} interfaces: the file is corrupt`;
      return;
    }
    const linkType = this.e.u16(b, 0);
    const snaplen = this.e.u32(b, 4);
    const i: CaptureInterface = { linkType, name: '', snaplen };
    let units = 1e6;
    let offsetSec = 0;
    this.options(b, 8, (code, v) => {
      if (code === 2) i.name = wireText(v);
      else if (code === 3) i.description = wireText(v);
      else if (code === 11 && v.length >= 1 && v[0] === 0) i.filter = wireText(v, 1);
      else if (code === 9 && v.length >= 1) {
        const r = v[0]!;
        const exp = r & 0x7f;
        units = r & 0x80 ? 2 ** exp : 10 ** exp;
        if (exp > 63 || !Number.isFinite(units) || units < 1) {
          this.note(`pcapng: if_tsresol ${r} is out of range; microseconds assumed`);
          units = 1e6;
        }
      } else if (code === 14 && v.length >= 8) {
        const lo = this.e.u32(v, this.e === LE ? 0 : 4);
        const hi = this.e === LE ? v.readInt32LE(4) : v.readInt32BE(0);
        offsetSec = hi * 4294967296 + lo;
      }
    });
    if (1e9 % units === 0) i.tsUnitNs = 1e9 / units;
    this.interfaces.push(i);
    this.section.push({ global: this.interfaces.length - 1, linkType, snaplen, units, offsetSec });
    return undefined;
  }

  private iface(id: number, what: string): Iface | undefined {
    const i = this.section[id];
    if (!i) this.note(`pcapng: ${what} for interface ${id}, which is not described; skipped`);
    return i;
  }

  private packet(i: Iface, hi: number, lo: number, data: Buffer, wire: number): Packet {
    let sec = 0;
    let nsec = 0;
    if (hi !== 0 || lo !== 0) [sec, nsec] = ticksToTime(hi, lo, i.units);
    return {
      sec: sec + i.offsetSec,
      nsec,
      iface: i.global,
      linkType: i.linkType,
      data,
      wireLen: Math.max(wire, data.length),
      direction: 'unknown',
    };
  }

  private packetOptions(p: Packet, b: Buffer, off: number, flagsCode: number): void {
    let comments: string | undefined;
    const e = this.e;
    while (off + 4 <= b.length) {
      const code = e.u16(b, off);
      const n = e.u16(b, off + 2);
      if (code === 0) break;
      const v = off + 4;
      if (v + n > b.length) {
        this.note(`pcapng: option ${code} runs past its block; ignored`);
        break;
      }
      if (code === 1) {
        const note = p.proc || p.netns !== undefined ? undefined : parseProcBytes(b, v, v + n);
        if (note) {
          if (note.proc) p.proc = note.proc;
          if (note.netns !== undefined) p.netns = note.netns;
        } else comments = (comments === undefined ? '' : comments + '\n') + wireText(b, v, v + n);
      } else if (code === flagsCode && n >= 4) {
        const d = e.u32(b, v) & 3;
        p.direction = d === 1 ? 'in' : d === 2 ? 'out' : 'unknown';
      }
      off = v + ((n + 3) & ~3);
    }
    if (comments !== undefined) p.comment = comments;
  }

  /**
   * An enhanced packet block, or (`obsolete`) the packet block it replaced:
   * the same but for a 16-bit interface id (then 16 bits of drops).
   */
  private packetBlock(b: Buffer, obsolete: boolean): Packet | undefined {
    if (b.length < 20) {
      this.note(`pcapng: ${obsolete ? 'packet block' : 'enhanced packet block'} too short; skipped`);
      return;
    }
    const i = this.iface(obsolete ? this.e.u16(b, 0) : this.e.u32(b, 0), 'packet');
    if (!i) return;
    const cap = this.e.u32(b, 12);
    if (20 + cap > b.length) {
      this.note(`pcapng: packet of ${cap} bytes does not fit its block; skipped`);
      return;
    }
    const p = this.packet(i, this.e.u32(b, 4), this.e.u32(b, 8), b.subarray(20, 20 + cap), this.e.u32(b, 16));
    this.packetOptions(p, b, 20 + ((cap + 3) & ~3), 2);
    return p;
  }

  private spb(b: Buffer): Packet | undefined {
    if (b.length < 4) return;
    const i = this.iface(0, 'simple packet');
    if (!i) return;
    const wire = this.e.u32(b, 0);
    let cap = Math.min(wire, b.length - 4);
    if (i.snaplen > 0) cap = Math.min(cap, i.snaplen);
    const p = this.packet(i, 0, 0, b.subarray(4, 4 + cap), wire);
    p.sec = 0; // a simple packet block has no time stamp
    return p;
  }

  private isb(b: Buffer): undefined {
    if (b.length < 12) return;
    const i = this.iface(this.e.u32(b, 0), 'statistics');
    if (!i) return;
    const s: InterfaceStats = {};
    const u64 = (v: Buffer) =>
      this.e === LE
        ? v.readUInt32LE(4) * 4294967296 + v.readUInt32LE(0)
        : v.readUInt32BE(0) * 4294967296 + v.readUInt32BE(4);
    this.options(b, 12, (code, v) => {
      if (v.length < 8) return;
      if (code === 4) s.received = u64(v);
      else if (code === 5) s.dropped = u64(v);
      else if (code === 6) s.filterAccepted = u64(v);
      else if (code === 7) s.osDropped = u64(v);
    });
    this.stats.set(i.global, s);
  }
}
