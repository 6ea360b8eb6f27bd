/**
 * Packets of a capture file (src/sources/pcap) as the Segments and
 * Datagrams the stream analyzers take: the same model the kernel's
 * socket-payload records give (src/sources/kernel/payload-segments), built
 * here by the flow tracker. Who observed each packet decides whose views
 * its bytes are:
 *
 *  - a wirelens socket-hook capture (interface "sockets", link type RAW,
 *    each packet with its direction) saw every packet at a local socket:
 *    'out' as its sender sent it, 'in' as its receiver received it. On
 *    loopback that is each packet twice, once per socket. Each socket's
 *    packets are tracked apart (the socket's own end is part of the flow's
 *    identity), so a copy is never taken for a retransmission of the other,
 *    and each socket's segments carry its own times and process (observer
 *    'socket', `local` its end): the records come out as live;
 *  - any other capture saw the wire (observer 'wire'): both ends' views,
 *    with the capture point's times. A packet's process (wirelens's
 *    comments on a TC capture) is the sender's for 'out', the receiver's
 *    for 'in', so it goes to that end's view only.
 *
 * With `tcpNotes`, every TCP packet is also described (flags, sequence
 * numbers, payload length, whether the flow tracker found it a
 * retransmission) for the TCP lifecycle analysis. Time is the packets'.
 * Pure; never throws on bytes.
 */
import type { FlowKey } from '../model/flow';
import { LINKTYPE, type CaptureInterface, type Packet, type Proc } from '../model/packet';
import type { Datagram, Segment } from '../model/segment';
import { decodePacket } from './decode';
import { FlowTracker, type FlowOutput, type FlowTrackerOptions } from './flow-tracker';

/** One TCP packet, as the TCP lifecycle analysis reads it. */
export interface TcpNote {
  /** ns on the data's clock (src/model/time: since the file's base second). */
  tsNs: number;
  family: 'ipv4' | 'ipv6';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** TCP flags (FIN 0x01 SYN 0x02 RST 0x04 ... ACK 0x10). */
  flags: number;
  seq: number;
  ack: number;
  /** Payload bytes on the wire. */
  len: number;
  /** Network namespace inode, 0 when the file does not say. */
  netns: number;
  /** A socket-hook capture: the end of the local socket that saw it (its sender for 'out', its receiver for 'in'). */
  local: { addr: string; port: number } | undefined;
  /** The process of that socket, or on the wire of the end the source named. */
  proc: Proc | undefined;
  /** Wire: whose process `proc` is. */
  procAt: 'sender' | 'receiver' | undefined;
  /** The flow tracker dropped or trimmed it as bytes seen before (a retransmission, a duplicate). */
  retransmitted: boolean;
}

export interface PacketStreamsOptions {
  /** The flow tracker's options; its `time` is the clock of the segments and notes too. */
  tracker?: FlowTrackerOptions;
  /** Describe every TCP packet (TcpNote) too. */
  tcpNotes?: boolean;
}

export interface PacketStreamsStats {
  /** Packets seen at a local socket (socket-hook captures). */
  socketPackets: number;
  /** Packets seen on the wire. */
  wirePackets: number;
  /** Packets that carried a process (wirelens's comments). */
  withProcess: number;
}

/** A socket-hook capture's observation point: the local socket's end (its id stands for the namespace in the tracker). */
interface Point {
  id: number;
  addr: string;
  port: number;
  netns: number | undefined;
}

/** Observation points remembered (one per local socket end). */
const MAX_POINTS = 1 << 18;
const AT = Symbol('procAt');
type WireProc = Proc & { [AT]?: 'sender' | 'receiver' };

export class PacketStreams {
  readonly tracker: FlowTracker;
  readonly stats: PacketStreamsStats = { socketPackets: 0, wirePackets: 0, withProcess: 0 };
  private readonly points = new Map<string, Point>();
  private readonly byId = new Map<number, Point>();
  private nextPoint = 1;
  private readonly keys = new WeakMap<FlowKey, FlowKey>();
  private readonly wireProcs = new WeakMap<Proc, [WireProc | undefined, WireProc | undefined]>();
  private readonly tmp: FlowOutput[] = [];

  constructor(o: PacketStreamsOptions = {}) {
    this.tracker = new FlowTracker(o.tracker);
  }

  /** A packet (of interface `iface`): its segments and datagrams onto `out`, its TCP note onto `notes`. */
  push(p: Packet, iface: CaptureInterface | undefined, out: FlowOutput[], notes?: TcpNote[]): void {
    if (p.proc !== undefined) this.stats.withProcess++;
    const d = decodePacket(p.data, p.linkType);
    const socket = iface?.name === 'sockets' && p.linkType === LINKTYPE.RAW && p.direction !== 'unknown';
    const t = d.transport;
    const net = d.net;
    let point: Point | undefined;
    let q = p;
    if (socket) {
      this.stats.socketPackets++;
      if (net !== undefined && net.kind !== 'arp' && (t?.kind === 'tcp' || t?.kind === 'udp')) {
        point = p.direction === 'out' ? this.point(net.src, t.sport, p.netns) : this.point(net.dst, t.dport, p.netns);
        q = { ...p, netns: point.id };
      }
    } else {
      this.stats.wirePackets++;
      if (p.proc !== undefined && p.direction !== 'unknown') q = { ...p, proc: this.wireProc(p.proc, p.direction) };
    }
    const before = notes ? this.tracker.stats.retransmitted + this.tracker.stats.trimmed : 0;
    const list = this.tmp;
    list.length = 0;
    this.tracker.pushDecoded(q, d, list);
    for (const x of list) out.push(this.view(x));
    if (notes && t?.kind === 'tcp' && net !== undefined && net.kind !== 'arp') {
      const wp = q.proc as WireProc | undefined;
      notes.push({
        tsNs: this.tracker.time.ns(p.sec, p.nsec),
        family: net.kind,
        src: net.src,
        sport: t.sport,
        dst: net.dst,
        dport: t.dport,
        flags: t.flags,
        seq: t.seq,
        ack: t.ack,
        len: d.payloadWireLength,
        netns: p.netns ?? 0,
        local: point ? { addr: point.addr, port: point.port } : undefined,
        proc: p.proc,
        procAt: wp?.[AT],
        retransmitted: this.tracker.stats.retransmitted + this.tracker.stats.trimmed > before,
      });
    }
  }

  /** The data's clock moved on without a packet. */
  tick(sec: number, nsec: number, out: FlowOutput[]): void {
    const list = this.tmp;
    list.length = 0;
    this.tracker.tick(sec, nsec, list);
    for (const x of list) out.push(this.view(x));
  }

  /** The input ended. */
  flush(out: FlowOutput[]): void {
    const list = this.tmp;
    list.length = 0;
    this.tracker.flush(list);
    for (const x of list) out.push(this.view(x));
  }

  private point(addr: string, port: number, netns: number | undefined): Point {
    const k = `${netns ?? ''}|${addr}|${port}`;
    let pt = this.points.get(k);
    if (pt !== undefined) return pt;
    if (this.points.size >= MAX_POINTS) {
      const first = this.points.entries().next().value;
      if (first !== undefined) {
        this.points.delete(first[0]);
        this.byId.delete(first[1].id);
      }
    }
    // Negative: never a namespace inode, which is what the tracker otherwise keeps there.
    pt = { id: -this.nextPoint++, addr, port, netns };
    this.points.set(k, pt);
    this.byId.set(pt.id, pt);
    return pt;
  }

  /** A process for the wire, marked with whose it is. */
  private wireProc(proc: Proc, direction: 'in' | 'out'): WireProc {
    let pair = this.wireProcs.get(proc);
    if (pair === undefined) {
      pair = [undefined, undefined];
      this.wireProcs.set(proc, pair);
    }
    const i = direction === 'out' ? 0 : 1;
    let w = pair[i];
    if (w === undefined) {
      w = { ...proc, [AT]: direction === 'out' ? 'sender' : 'receiver' };
      pair[i] = w;
    }
    return w;
  }

  /** The tracker's output as its observer's view. */
  private view(x: Segment | Datagram): Segment | Datagram {
    const id = x.key.netns;
    const pt = id !== undefined && id < 0 ? this.byId.get(id) : undefined;
    if (pt !== undefined) {
      // A socket-hook capture: the point's socket saw it.
      x.observer = 'socket';
      x.local = x.key.clientAddr === pt.addr && x.key.clientPort === pt.port ? 'client' : 'server';
      x.key = this.realKey(x.key, pt.netns);
      if (pt.netns === undefined) delete x.netns;
      else x.netns = pt.netns;
      return x;
    }
    const at = (x.proc as WireProc | undefined)?.[AT];
    if (at !== undefined) {
      const sender: 'client' | 'server' = x.dir === 'c2s' ? 'client' : 'server';
      x.local = at === 'sender' ? sender : sender === 'client' ? 'server' : 'client';
    }
    return x;
  }

  private realKey(k: FlowKey, netns: number | undefined): FlowKey {
    let r = this.keys.get(k);
    if (r === undefined) {
      r = { ...k };
      if (netns === undefined) delete r.netns;
      else r.netns = netns;
      this.keys.set(k, r);
    }
    return r;
  }
}
