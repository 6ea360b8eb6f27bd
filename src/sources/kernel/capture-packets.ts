/**
 * The kernel capture's records (struct wl_cap_event, bpf/capture.bpf.c) as
 * Packets, built for the rate a saturated link gives (tens of thousands of
 * packets a second on one core):
 *
 *  - one Packet object, reused for every record: it is valid until the
 *    handler returns (its bytes are in the ring, which the kernel reuses);
 *    no allocation per record: the bytes are given in place (Packet.at),
 *    and `data` makes its view only when a sink asks for it;
 *  - wall time from the monotonic stamp with two numbers, no BigInt;
 *  - one Proc object per process, kept while its pid, uid and comm stay the
 *    same, so sinks can keep what they derive from it (the pcapng comment)
 *    by identity, and the comm is decoded once, not per packet;
 *  - interfaces numbered as their first packet arrives;
 *  - a capture of interfaces with different link-layer headers (`sll2`):
 *    each frame rewritten as a LINUX_SLL2 packet (the 20-byte header as
 *    tcpdump -i any writes it, then the packet after the frame's own
 *    header) into one buffer reused for every record: a copy per packet,
 *    still no allocation.
 */
import { EV, FLAG, WL_CAP_EVENT, WL_HDR } from '../../events/layout';
import { commText } from '../../events/record';
import type { CaptureInterface, Direction, Packet, PacketBytes, Proc } from '../../model/packet';

/** Processes remembered at most; the table is emptied when it fills (rebuilt from the next records). */
const MAX_PROCS = 4096;

interface ProcEntry {
  uid: number;
  /** The 16 comm bytes as four little-endian words. */
  c0: number;
  c1: number;
  c2: number;
  c3: number;
  proc: Proc;
}

export interface KernelPacketsOptions {
  linkType: number;
  snaplen: number;
  /** The filter expression, written as each interface's if_filter. */
  expression: string;
  /** TC: interface names by ifindex. Undefined: the socket hook (one interface, "sockets"). */
  ifaceNames?: ReadonlyMap<number, string>;
  /** CLOCK_REALTIME less CLOCK_MONOTONIC, ns (output/clock's wallMinusMonoNs). */
  wallMinusMonoNs: bigint;
  /**
   * TC, interfaces with different headers (linkType LINUX_SLL2): each
   * interface's frame header length (14 Ethernet, 0 raw IP) and ARPHRD type.
   */
  sll2?: ReadonlyMap<number, { l2Len: number; haType: number }>;
}

/** The SLL2 header's length; sll2_pkttype of a leaving packet. */
const SLL2_HEADER = 20;
const PACKET_OUTGOING = 4;

const EMPTY = new DataView(new ArrayBuffer(0));

/** The reused Packet: `data` is made from `at` on first use per record. */
class RingPacket implements Packet {
  sec = 0;
  nsec = 0;
  iface = 0;
  wireLen = 0;
  direction: Direction = 'in';
  proc: Proc | undefined = undefined;
  netns: number | undefined = undefined;
  readonly at: PacketBytes = { view: EMPTY, offset: 0, length: 0 };
  view: Uint8Array | undefined = undefined;

  constructor(readonly linkType: number) {}

  get data(): Uint8Array {
    const a = this.at;
    return (this.view ??= new Uint8Array(a.view.buffer, a.view.byteOffset + a.offset, a.length));
  }
}

const F = WL_CAP_EVENT.fields;
const TS = F.hdr + WL_HDR.fields.ts_ns;
const TYPE = F.hdr + WL_HDR.fields.type;
const FLAGS = F.hdr + WL_HDR.fields.flags;

export class KernelPackets {
  /** Interfaces in the order packets named them (Packet.iface indexes this). */
  readonly interfaces: CaptureInterface[] = [];
  /** Records that did not decode (short, wrong type, length beyond the record). */
  bad = 0;
  private readonly byIfindex = new Map<number, number>();
  private readonly procs = new Map<number, ProcEntry>();
  private readonly offSec: number;
  private readonly offNsec: number;
  private readonly p: RingPacket;
  /** SLL2 captures: the rewritten packet of the current record (the same memory twice). */
  private readonly sll2Buf: DataView | undefined;
  private readonly sll2Bytes: Buffer | undefined;
  /** The ring's bytes as a Buffer (for Buffer#copy), made once per DataView the ring hands out. */
  private ringView: DataView | undefined;
  private ringBytes: Buffer = Buffer.alloc(0);

  constructor(private readonly o: KernelPacketsOptions) {
    const off = o.wallMinusMonoNs;
    this.offSec = Number(off / 1_000_000_000n);
    this.offNsec = Number(off % 1_000_000_000n);
    this.p = new RingPacket(o.linkType);
    if (o.sll2) {
      this.sll2Bytes = Buffer.alloc(Math.max(SLL2_HEADER, o.snaplen));
      this.sll2Buf = new DataView(this.sll2Bytes.buffer, this.sll2Bytes.byteOffset, this.sll2Bytes.length);
    }
    if (!o.ifaceNames) {
      this.interfaces.push({
        name: 'sockets',
        linkType: o.linkType,
        snaplen: o.snaplen,
        description: 'every local socket (cgroup_skb)',
        ...(o.expression ? { filter: o.expression } : {}),
      });
    }
  }

  /** The record as the shared Packet (until the next call), or null when it does not decode. */
  decode(v: DataView, off: number, len: number): Packet | null {
    if (len < WL_CAP_EVENT.size || v.getUint16(off + TYPE, true) !== EV.CAPTURE) {
      this.bad++;
      return null;
    }
    const caplen = v.getUint32(off + F.caplen, true);
    if (caplen > len - WL_CAP_EVENT.size) {
      this.bad++;
      return null;
    }
    const p = this.p;
    const mono = v.getUint32(off + TS + 4, true) * 4294967296 + v.getUint32(off + TS, true);
    let sec = this.offSec + Math.floor(mono / 1e9);
    let nsec = this.offNsec + (mono % 1e9);
    if (nsec >= 1e9) {
      nsec -= 1e9;
      sec++;
    } else if (nsec < 0) {
      nsec += 1e9;
      sec--;
    }
    p.sec = sec;
    p.nsec = nsec;
    p.iface = this.o.ifaceNames ? this.interfaceId(v.getUint32(off + F.ifindex, true)) : 0;
    p.at.view = v;
    p.at.offset = off + WL_CAP_EVENT.size;
    p.at.length = caplen;
    p.view = undefined;
    p.wireLen = v.getUint32(off + F.len, true);
    p.direction = v.getUint8(off + F.egress) !== 0 ? 'out' : 'in';
    if (this.sll2Buf) this.toSll2(v, off, caplen, this.sll2Buf);
    // Assigned, never deleted: the object keeps one shape.
    p.netns = v.getUint32(off + F.netns, true) || undefined;
    p.proc = v.getUint16(off + FLAGS, true) & FLAG.PROC_UNKNOWN ? undefined : this.procOf(v, off);
    return p;
  }

  /**
   * The record's frame as an SLL2 packet in `b` (cut at the snap length),
   * made the packet's bytes: protocol (skb->protocol), reserved, ifindex,
   * ARPHRD type, packet type (PACKET_OUTGOING when leaving), address length
   * and 8 address bytes (the Ethernet source, or none), then the frame after
   * its own header. The kernel's SLL2 filter programs make the same header.
   */
  private toSll2(v: DataView, off: number, caplen: number, b: DataView): void {
    const p = this.p;
    const ifindex = v.getUint32(off + F.ifindex, true);
    const i = this.o.sll2!.get(ifindex);
    const l2 = i ? i.l2Len : 0;
    const frame = off + WL_CAP_EVENT.size;
    b.setUint8(0, v.getUint8(off + F.protocol)); // network order as stored
    b.setUint8(1, v.getUint8(off + F.protocol + 1));
    b.setUint16(2, 0);
    b.setUint32(4, ifindex);
    b.setUint16(8, i ? i.haType : 0xffff);
    b.setUint8(10, p.direction === 'out' ? PACKET_OUTGOING : v.getUint8(off + F.pkt_type));
    const mac = l2 === 14 && caplen >= 12;
    b.setUint8(11, mac ? 6 : 0);
    b.setUint32(12, mac ? v.getUint32(frame + 6) : 0);
    b.setUint32(16, mac ? v.getUint16(frame + 10) << 16 : 0);
    const n = Math.min(Math.max(0, caplen - l2), b.byteLength - SLL2_HEADER);
    if (n <= 512) {
      // Short runs a word at a time (a native copy's call costs more than the bytes).
      let k = 0;
      for (; k + 4 <= n; k += 4) b.setUint32(SLL2_HEADER + k, v.getUint32(frame + l2 + k));
      for (; k < n; k++) b.setUint8(SLL2_HEADER + k, v.getUint8(frame + l2 + k));
    } else {
      if (v !== this.ringView) {
        this.ringView = v;
        this.ringBytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
      this.ringBytes.copy(this.sll2Bytes!, SLL2_HEADER, frame + l2, frame + l2 + n);
    }
    p.at.view = b;
    p.at.offset = 0;
    p.at.length = SLL2_HEADER + n;
    p.wireLen = Math.max(0, p.wireLen - l2) + SLL2_HEADER;
  }

  /** The wall-clock second of a record's monotonic stamp (its wl_hdr at `off`), as decode() gives it. */
  secondOf(v: DataView, off: number): number {
    const mono = v.getUint32(off + TS + 4, true) * 4294967296 + v.getUint32(off + TS, true);
    return this.offSec + Math.floor(mono / 1e9) + Math.floor((this.offNsec + (mono % 1e9)) / 1e9);
  }

  private procOf(v: DataView, off: number): Proc {
    const pid = v.getUint32(off + F.pid, true);
    const uid = v.getUint32(off + F.uid, true);
    const c = off + F.comm;
    const c0 = v.getUint32(c, true);
    const c1 = v.getUint32(c + 4, true);
    const c2 = v.getUint32(c + 8, true);
    const c3 = v.getUint32(c + 12, true);
    const e = this.procs.get(pid);
    if (e && e.uid === uid && e.c0 === c0 && e.c1 === c1 && e.c2 === c2 && e.c3 === c3) return e.proc;
    if (this.procs.size >= MAX_PROCS) this.procs.clear();
    const proc: Proc = { pid, uid, comm: commText(v, c) };
    this.procs.set(pid, { uid, c0, c1, c2, c3, proc });
    return proc;
  }

  /** The id of an interface (TC), numbering it now if it is new. */
  interfaceId(ifindex: number): number {
    let id = this.byIfindex.get(ifindex);
    if (id === undefined) {
      id = this.interfaces.length;
      this.interfaces.push({
        name: this.o.ifaceNames!.get(ifindex) ?? `if${ifindex}`,
        linkType: this.o.linkType,
        snaplen: this.o.snaplen,
        ...(this.o.expression ? { filter: this.o.expression } : {}),
      });
      this.byIfindex.set(ifindex, id);
    }
    return id;
  }
}
