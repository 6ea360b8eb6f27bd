/**
 * The typed record that flows from probes to outputs, and the decoders of
 * its common parts (wl_hdr, wl_proc, wl_sock_id) over a DataView.
 */
import { formatAddress } from '../text/address';
import { wireText } from '../text/sanitize';
import { WL_HDR, WL_PROC, WL_SOCK_ID, FLAG } from './layout';

export interface ProcInfo {
  pid: number;
  tid: number;
  uid: number;
  gid: number;
  /** The cgroup's id (its kernfs inode: counts up from 1, a number). */
  cgroupId: number;
  comm: string;
}

export interface SockInfo {
  netns: number;
  family: 'ipv4' | 'ipv6';
  protocol: number;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
}

export interface RecordHeader {
  /** CLOCK_MONOTONIC nanoseconds when the kernel saw it. */
  tsNs: number;
  type: number;
  flags: number;
  cpu: number;
}

/**
 * A little-endian u64 as a number, no BigInt per record: exact below 2^53
 * (times up to 104 days of uptime, socket cookies and cgroup ids, which
 * count up from 1, byte counters up to 8 PiB); above, the nearest double.
 */
export function u64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 4294967296 + v.getUint32(at, true);
}

export function decodeHeader(v: DataView, off: number): RecordHeader {
  const f = WL_HDR.fields;
  return {
    tsNs: u64(v, off + f.ts_ns),
    type: v.getUint16(off + f.type, true),
    flags: v.getUint16(off + f.flags, true),
    cpu: v.getUint32(off + f.cpu, true),
  };
}

/**
 * A NUL-terminated C string of at most `max` bytes from the kernel (a task
 * name: any bytes a process chose), as safe text, once, here: valid UTF-8
 * decoded, controls and invalid bytes as \xNN (see text/sanitize).
 */
export function cString(v: DataView, off: number, max: number): string {
  const b = new Uint8Array(v.buffer, v.byteOffset + off, max);
  let n = 0;
  while (n < max && b[n] !== 0) n++;
  return wireText(b, 0, n);
}

/** Task names seen lately, by their 16 bytes (a direct-mapped table): decoded once, not per record. */
const COMM_SLOTS = 256;
const commKeys = new Uint32Array(COMM_SLOTS * 4);
const commTexts: (string | undefined)[] = new Array<string | undefined>(COMM_SLOTS).fill(undefined);

/** A task name (16 bytes, NUL-padded) as cString gives it, remembered by its bytes. */
export function commText(v: DataView, off: number): string {
  const a = v.getUint32(off, true);
  const b = v.getUint32(off + 4, true);
  const c = v.getUint32(off + 8, true);
  const d = v.getUint32(off + 12, true);
  const h = (a ^ Math.imul(b, 31) ^ Math.imul(c, 131) ^ Math.imul(d, 1031) ^ (a >>> 16)) & (COMM_SLOTS - 1);
  const k = h * 4;
  const hit = commTexts[h];
  if (hit !== undefined && commKeys[k] === a && commKeys[k + 1] === b && commKeys[k + 2] === c && commKeys[k + 3] === d)
    return hit;
  const text = cString(v, off, 16);
  commKeys[k] = a;
  commKeys[k + 1] = b;
  commKeys[k + 2] = c;
  commKeys[k + 3] = d;
  commTexts[h] = text;
  return text;
}

export function decodeProc(v: DataView, off: number, hdrFlags: number): ProcInfo | null {
  if (hdrFlags & FLAG.PROC_UNKNOWN) return null;
  const f = WL_PROC.fields;
  return {
    pid: v.getUint32(off + f.pid, true),
    tid: v.getUint32(off + f.tid, true),
    uid: v.getUint32(off + f.uid, true),
    gid: v.getUint32(off + f.gid, true),
    cgroupId: u64(v, off + f.cgroup_id),
    comm: commText(v, off + f.comm),
  };
}

export function decodeSock(v: DataView, off: number): SockInfo {
  const f = WL_SOCK_ID.fields;
  const family = v.getUint16(off + f.family, true) === 10 ? 'ipv6' : 'ipv4';
  const bytes = (o: number): Uint8Array => new Uint8Array(v.buffer, v.byteOffset + off + o, family === 'ipv6' ? 16 : 4);
  return {
    netns: v.getUint32(off + f.netns, true),
    family,
    protocol: v.getUint16(off + f.protocol, true),
    sport: v.getUint16(off + f.sport, true),
    dport: v.getUint16(off + f.dport, true),
    saddr: formatAddress(bytes(f.saddr)),
    daddr: formatAddress(bytes(f.daddr)),
  };
}
