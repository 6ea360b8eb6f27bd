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
  cgroupId: bigint;
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
  tsNs: bigint;
  type: number;
  flags: number;
  cpu: number;
}

export function decodeHeader(v: DataView, off: number): RecordHeader {
  const f = WL_HDR.fields;
  return {
    tsNs: v.getBigUint64(off + f.ts_ns, true),
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

export function decodeProc(v: DataView, off: number, hdrFlags: number): ProcInfo | null {
  if (hdrFlags & FLAG.PROC_UNKNOWN) return null;
  const f = WL_PROC.fields;
  return {
    pid: v.getUint32(off + f.pid, true),
    tid: v.getUint32(off + f.tid, true),
    uid: v.getUint32(off + f.uid, true),
    gid: v.getUint32(off + f.gid, true),
    cgroupId: v.getBigUint64(off + f.cgroup_id, true),
    comm: cString(v, off + f.comm, 16),
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
