/** Decoder of struct wl_cap_event (bpf/include/events.h): one captured packet and its process. */
import { CAP, EV, FLAG, WL_CAP_EVENT, WL_HDR } from './layout';
import { cString } from './record';

export interface CapturedRecord {
  /** CLOCK_MONOTONIC ns, as a double: exact for the first 104 days of uptime. */
  monoNs: number;
  hook: 'sock' | 'tc';
  egress: boolean;
  ifindex: number;
  /** skb->protocol in host order (0x0800, 0x86dd, ...). */
  protocol: number;
  /** The packet's length (IP packet for socket hooks, frame for TC). */
  len: number;
  /** Socket hooks: the socket's network namespace inode. */
  netns: number;
  proc: { pid: number; uid: number; comm: string } | undefined;
  /** A view into the ring's batch: copy it to keep it. */
  data: Uint8Array;
}

export function decodeCapture(v: DataView, off: number, len: number): CapturedRecord | null {
  if (len < WL_CAP_EVENT.size) return null;
  const f = WL_CAP_EVENT.fields;
  if (v.getUint16(off + f.hdr + WL_HDR.fields.type, true) !== EV.CAPTURE) return null;
  const caplen = v.getUint32(off + f.caplen, true);
  if (caplen > len - WL_CAP_EVENT.size) return null;
  const flags = v.getUint16(off + f.hdr + WL_HDR.fields.flags, true);
  const ts = off + f.hdr + WL_HDR.fields.ts_ns;
  const hook = v.getUint8(off + f.hook);
  return {
    monoNs: v.getUint32(ts + 4, true) * 4294967296 + v.getUint32(ts, true),
    hook: hook === CAP.HOOK_TC ? 'tc' : 'sock',
    egress: v.getUint8(off + f.egress) !== 0,
    ifindex: v.getUint32(off + f.ifindex, true),
    protocol: ((v.getUint16(off + f.protocol, true) & 0xff) << 8) | (v.getUint16(off + f.protocol, true) >> 8),
    len: v.getUint32(off + f.len, true),
    netns: v.getUint32(off + f.netns, true),
    proc:
      flags & FLAG.PROC_UNKNOWN
        ? undefined
        : {
            pid: v.getUint32(off + f.pid, true),
            uid: v.getUint32(off + f.uid, true),
            comm: cString(v, off + f.comm, 16),
          },
    data: new Uint8Array(v.buffer, v.byteOffset + off + WL_CAP_EVENT.size, caplen),
  };
}
