/**
 * Packet capture in the kernel (bpf/capture.bpf.c): the socket hook
 * (cgroup_skb on the root cgroup, every local socket's packets from the IP
 * header, with the process) or TC on interfaces (every frame), the pcap
 * filter expression compiled by libpcap, translated to eBPF and loaded as
 * its own program in slot 0 of each hook direction's prog array, the emit
 * program in slot 1. An expression the kernel cannot run (protochain
 * loops) is applied in user space instead, with libpcap's interpreter, on
 * every packet the kernel copies: exact, but every packet is copied.
 *
 * Interfaces with different link-layer headers (Ethernet and raw IP devices
 * such as tun) are captured as LINUX_SLL2, as tcpdump -i any does: the
 * expression is compiled for SLL2 and translated once per header kind (the
 * header made from the skb, src/filter/cbpf-to-ebpf.ts), each kind's
 * program in its own slot, chosen per interface by wl_cap_ifs; user space
 * turns each frame into an SLL2 packet (KernelPackets).
 */
import * as fs from 'node:fs';
import { WlError } from '../errors';
import { CAP_STAT, EV, WL_CAP_EPB, WL_CAP_IFCFG, WL_HDR } from '../events/layout';
import { C, decodeClassic } from '../filter/cbpf';
import { Sll2Frame, TranslateError, rejectsAll, tailCallOutcomes, translateClassic } from '../filter/cbpf-to-ebpf';
import { Insn, encodeEbpf } from '../filter/ebpf';
import { cgroup2Root } from '../kernel/cgroup';
import { u32le, u64le } from '../kernel/encode';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot } from '../kernel/hooks';
import { BpfMap } from '../kernel/maps';
import { native } from '../kernel/native';
import { BpfObject } from '../kernel/object';
import { Iface, TcAttachment } from '../kernel/tc';
import { CaptureInterface, LINKTYPE, Packet } from '../model/packet';
import { wallMinusMonoNs } from '../output/clock';
import { KernelPackets } from '../sources/kernel/capture-packets';
import { RunningFamily } from './family';
import { KernelFilters } from './filters';
import { ExistingOwners, ownExistingSockets, ownerSlots } from './owner-slots';

/** libpcap's DLT_ values for pcap_compile (DLT_RAW is 12 on Linux; files say LINKTYPE_RAW 101). */
const DLT = { EN10MB: 1, RAW: 12, LINUX_SLL2: 276 } as const;

/** Slots of the TC prog arrays (WL_CAP_TC_SLOTS in bpf/capture.bpf.c): 0 and 2.. filters, 1 emit. */
const TC_SLOTS = 16;
/** The SLL2 header's length, and its snap length's share of the frame. */
const SLL2_HEADER = 20;

export interface CaptureSpec {
  /** Empty: the socket hook. Otherwise TC on these interfaces (SLL2 when their headers differ). */
  ifaces: Iface[];
  expression: string;
  snaplen: number;
  /** Which directions: -Q. */
  directions: { in: boolean; out: boolean };
  filters: KernelFilters;
  uid?: number | undefined;
  /** --cgroup (socket hook only): its id and level. */
  cgroup?: { id: bigint; level: number } | undefined;
  hookMode: HookMode;
  features: Features;
  ringBytes: number;
  /** Each packet, as one reused object: valid until the handler returns. */
  onPacket: (p: Packet) => void;
  /**
   * Packets as pcapng blocks made in the kernel (capture -w FILE), when the
   * capture can make them (not for SLL2, nor with an expression judged in
   * user space): KernelCapture.blocks says. Interfaces are then numbered
   * at start, in `ifaces` order; packets the kernel cannot describe still
   * come to onPacket.
   */
  blocks?: CaptureBlocks;
  /**
   * How long a record may wait in the ring: while records come, the kernel
   * wakes the reader at least every `wakeMs`; a timer drains it every
   * `drainMs` (the last records once traffic stops). Default 50 and 50.
   */
  latency?: { wakeMs: number; drainMs: number; wakeupBytes?: number };
}

export interface CaptureBlocks {
  /** The capture's own network namespace (not written in comments). */
  hostNetns: number;
  /** Blocks need their wall-clock second (-G); else onBlock gets 0 (no per-packet time arithmetic). */
  seconds: boolean;
  /** A block of `length` bytes at `offset` of the ring's memory (KernelCapture.writeRanges), of second `sec`. */
  onBlock(offset: number, length: number, sec: number): void;
  /** After each batch: the blocks' memory is the kernel's again once this returns. */
  onBatchEnd(): void;
}

const ARPHRD_LOOPBACK = 772;
const EPB_TYPE = WL_CAP_EPB.fields.hdr + WL_HDR.fields.type;

export function isLoopback(i: Iface): boolean {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${i.name}/type`, 'utf8').trim()) === ARPHRD_LOOPBACK;
  } catch {
    return false;
  }
}

/**
 * Where a hook's packets start, in libpcap's terms: raw IP (socket packets,
 * or interfaces without a link-layer header), Ethernet, or LINUX_SLL2 when
 * the interfaces' headers differ (`sll2`).
 */
export function hookLink(ifaces: Iface[]): { dlt: number; linkType: number; sll2: boolean } {
  const eth = ifaces.filter((i) => i.l2Len === 14).length;
  if (ifaces.length === 0 || eth === 0) return { dlt: DLT.RAW, linkType: LINKTYPE.RAW, sll2: false };
  if (eth === ifaces.length) return { dlt: DLT.EN10MB, linkType: LINKTYPE.ETHERNET, sll2: false };
  return { dlt: DLT.LINUX_SLL2, linkType: LINKTYPE.LINUX_SLL2, sll2: true };
}

/** Interfaces of one header kind in an SLL2 capture: one filter program, in prog array slot `slot`. */
export interface HeaderKind {
  l2Len: 0 | 14;
  haType: number;
  slot: number;
  ifaces: Iface[];
}

const ARPHRD_ETHER = 1;
const ARPHRD_NONE = 65534;

/** The header kinds of an SLL2 capture's interfaces (frame header length, ARPHRD type), each with its slot. */
export function headerKinds(ifaces: Iface[]): HeaderKind[] {
  const kinds = new Map<string, HeaderKind>();
  for (const i of ifaces) {
    const l2Len = i.l2Len === 14 ? 14 : 0;
    const haType = i.haType ?? (l2Len ? ARPHRD_ETHER : ARPHRD_NONE);
    const key = `${l2Len}/${haType}`;
    let k = kinds.get(key);
    if (!k) {
      const slot = kinds.size === 0 ? 0 : kinds.size + 1; // slot 1 is the emit program
      if (slot >= TC_SLOTS) {
        throw new WlError(
          'WL_ERR_USAGE',
          `-i: interfaces of more than ${TC_SLOTS - 1} link-layer types in one capture`,
          {
            remedy: 'name fewer interfaces with -i, or capture them in several runs',
          },
        );
      }
      k = { l2Len, haType, slot, ifaces: [] };
      kinds.set(key, k);
    }
    k.ifaces.push(i);
  }
  return [...kinds.values()];
}

/** What an SLL2 program of this kind runs on (cbpf-to-ebpf's Sll2Frame). */
export function sll2Frame(k: HeaderKind, egress: boolean): Sll2Frame {
  return { l2Len: k.l2Len, haType: k.haType, egress };
}

/** The expression compiled by libpcap: one line of libpcap's words on a mistake. */
export function compileExpression(expression: string, dlt: number, snaplen: number): Buffer {
  try {
    return native().pcapCompile(expression, dlt, snaplen, true);
  } catch (e) {
    const msg = (e as Error).message;
    const linkish = /ether|link|vlan|mpls|pppoe|broadcast|not a broadcast|arp/i.test(msg + expression);
    const hint =
      dlt === DLT.RAW && linkish
        ? ' (socket packets have no link-layer header: capture with -i IFACE for link-layer filters)'
        : dlt === DLT.LINUX_SLL2 && linkish
          ? ' (interfaces with different link-layer headers are captured as Linux cooked v2, as tcpdump -i any:' +
            ' capture the Ethernet interfaces alone for Ethernet and VLAN filters)'
          : '';
    throw new WlError('WL_ERR_USAGE', `filter expression: ${msg}${hint}`, {
      remedy: 'see `man pcap-filter` for the syntax; quote the expression as one argument',
    });
  }
}

export interface KernelFilterPlan {
  classic: Buffer;
  /** null: the kernel cannot run it (why in `userSpaceReason`); user space filters instead. */
  translated: Insn[] | null;
  userSpaceReason?: string;
}

/**
 * Compiles and translates; `translated` is for display (-d) with a
 * placeholder prog array, for `frame` when the program is an SLL2 one.
 */
export function planFilter(expression: string, dlt: number, snaplen: number, frame?: Sll2Frame): KernelFilterPlan {
  const classic = compileExpression(expression, dlt, snaplen);
  const prog = decodeClassic(classic);
  if (rejectsAll(prog)) {
    throw new WlError('WL_ERR_USAGE', `filter expression rejects all packets: ${JSON.stringify(expression)}`, {
      remedy: 'check the expression (for socket packets there is no link layer: arp, ether and vlan match nothing)',
    });
  }
  try {
    return { classic, translated: translateClassic(prog, tailCallOutcomes(-1, 1, 1), frame) };
  } catch (e) {
    if (e instanceof TranslateError) return { classic, translated: null, userSpaceReason: e.message };
    throw e;
  }
}

/** True when the classic program accepts every packet (no expression, or one that is always true). */
function acceptsAll(classic: Buffer): boolean {
  const p = decodeClassic(classic);
  return p.length === 1 && p[0]!.code === (C.RET | C.K) && p[0]!.k !== 0;
}

/** cgroup_skb lets a packet through with 1; TC_ACT_UNSPEC / TCX_NEXT (-1) leaves it to the next. */
export const SOCK_PASS = 1;
export const TC_PASS = -1;

export interface Direction {
  entry: string;
  emit: string;
  progs: string;
  ingress: boolean;
}

export function directions(tc: boolean, want: { in: boolean; out: boolean }): Direction[] {
  const h = tc ? 'tc' : 'sock';
  const all: Direction[] = [
    { entry: `wl_cap_${h}_in`, emit: `wl_cap_${h}_in_emit`, progs: `wl_cap_${h}_in_progs`, ingress: true },
    { entry: `wl_cap_${h}_out`, emit: `wl_cap_${h}_out_emit`, progs: `wl_cap_${h}_out_progs`, ingress: false },
  ];
  return all.filter((d) => (d.ingress ? want.in : want.out));
}

/**
 * Fills one hook direction's prog array: slot 1 the emit program, slot 0
 * the compiled filter (tail-calls slot 1 on a match), or emit itself when
 * `classic` is null (no expression, or one the kernel cannot run). An SLL2
 * capture (`kinds`) has one filter per header kind, each in its kind's slot.
 */
export function fillProgArray(
  obj: BpfObject,
  d: Direction,
  tc: boolean,
  classic: Buffer | null,
  kinds?: readonly HeaderKind[],
  held?: number[],
): void {
  const progs = obj.map(d.progs);
  const emitFd = obj.progFd(d.emit);
  progs.update(u32le(1), u32le(emitFd));
  const slots = kinds ? kinds.map((k) => ({ slot: k.slot, frame: sll2Frame(k, !d.ingress) })) : [{ slot: 0 }];
  if (!classic) {
    for (const s of slots) progs.update(u32le(s.slot), u32le(emitFd));
    return;
  }
  const prog = decodeClassic(classic);
  const attachType = tc ? undefined : d.ingress ? 'cgroup_inet_ingress' : 'cgroup_inet_egress';
  for (const s of slots) {
    const insns = translateClassic(
      prog,
      tailCallOutcomes(progs.fd, 1, tc ? TC_PASS : SOCK_PASS),
      'frame' in s ? s.frame : undefined,
    );
    let fd: number;
    try {
      fd = native().progLoad(tc ? 'sched_cls' : 'cgroup_skb', encodeEbpf(insns), 'wl_cap_filter', attachType);
    } catch (e) {
      throw new WlError('WL_ERR_LIBBPF', `the kernel refused the compiled filter: ${(e as Error).message}`, {
        remedy: 'report this expression as a bug; WIRELENS_DEBUG=1 shows the verifier log',
        cause: e,
      });
    }
    try {
      progs.update(u32le(s.slot), u32le(fd));
    } catch (e) {
      native().closeFd(fd);
      throw e;
    }
    // Kept open while the capture runs when the caller asks (`held`): a program only a prog array holds
    // looks like an earlier run's leftover to another wirelens starting meanwhile.
    if (held) held.push(fd);
    else native().closeFd(fd); // the prog array holds it now
  }
}

/**
 * An SLL2 capture's wl_cap_ifs: each interface's filter slot, header length
 * and frame snap length (the SLL2 packet is cut at `snaplen`: its 20-byte
 * header replaces the frame's own).
 */
export function fillIfaceConfig(obj: BpfObject, kinds: readonly HeaderKind[], snaplen: number): void {
  const map = obj.map('wl_cap_ifs');
  const L = WL_CAP_IFCFG.fields;
  for (const k of kinds) {
    for (const i of k.ifaces) {
      const v = Buffer.alloc(WL_CAP_IFCFG.size);
      v.writeUInt32LE(k.slot, L.slot);
      v.writeUInt16LE(k.l2Len, L.l2_len);
      v.writeUInt32LE(Math.max(1, snaplen - SLL2_HEADER + k.l2Len), L.snaplen);
      map.update(u32le(i.ifindex), v);
    }
  }
}

export class KernelCapture {
  readonly choices: HookChoice[];
  readonly linkType: number;
  /** Set when the expression runs in user space (libpcap's interpreter per packet). */
  readonly userSpaceFilter: string | undefined;
  private readonly family: RunningFamily;
  private readonly stats: BpfMap;
  private readonly tc: TcAttachment[];
  private userRejected = 0;
  private readonly packets: KernelPackets;
  /** Packets come as pcapng blocks (CaptureSpec.blocks) besides onPacket's. */
  readonly blocks: boolean;
  /** Sockets older than the capture given their process at start. */
  existingOwners: ExistingOwners | undefined;

  constructor(spec: CaptureSpec) {
    const tc = spec.ifaces.length > 0;
    const { dlt, linkType, sll2 } = hookLink(spec.ifaces);
    this.linkType = linkType;
    const kinds = sll2 ? headerKinds(spec.ifaces) : undefined;
    const plan = planFilter(spec.expression, dlt, spec.snaplen);
    const inKernel = plan.translated !== null && !acceptsAll(plan.classic);
    this.userSpaceFilter = plan.translated === null ? plan.userSpaceReason : undefined;
    const dirs = directions(tc, spec.directions);
    const filter = plan.translated === null ? plan.classic : null;

    const blocks = spec.blocks !== undefined && !kinds && filter === null ? spec.blocks : undefined;
    // Tests stand in for a kernel that refuses the programs making blocks (the fallback is user space's).
    if (blocks && process.env.WIRELENS_REFUSE_BLOCKS === '1')
      throw new Error('pcapng block programs refused (WIRELENS_REFUSE_BLOCKS=1)');
    this.blocks = blocks !== undefined;
    const fill = (obj: BpfObject, d: Direction): { close(): void } => {
      if (kinds) fillIfaceConfig(obj, kinds, spec.snaplen);
      if (blocks) spec.ifaces.forEach((i, id) => obj.map('wl_cap_idb').update(u32le(i.ifindex), u32le(id)));
      const held: number[] = [];
      fillProgArray(obj, d, tc, inKernel ? plan.classic : null, kinds, held);
      return { close: () => held.splice(0).forEach((fd) => native().closeFd(fd)) };
    };
    const hooked = (attach: (obj: BpfObject, d: Direction) => { close(): void }) => (obj: BpfObject, p: string) => {
      const d = dirs.find((x) => x.emit === p || x.entry === p)!;
      if (p === d.emit) return fill(obj, d);
      return attach(obj, d);
    };
    // Emit before entry: the prog arrays are full before the first packet reaches them.
    const programs = dirs.flatMap((d) => [d.emit, d.entry]);
    const cgroup = { kind: 'cgroup' as const, path: cgroup2Root() };
    // A loopback interface passes each packet twice, out then in. Keep the arriving pass, as libpcap
    // does: the leaving one is seen before the device splits packets past its GSO size (BIG TCP), so
    // only the arriving one matches what tcpdump shows. Its process is the receiving socket's.
    const outIfaces = spec.ifaces.filter((i) => !isLoopback(i));
    const tcx = { in: new TcAttachment(spec.ifaces, false), out: new TcAttachment(outIfaces, false) };
    const classic = { in: new TcAttachment(spec.ifaces, true), out: new TcAttachment(outIfaces, true) };
    this.tc = [tcx.in, tcx.out, classic.in, classic.out];
    const tcAttach = (att: { in: TcAttachment; out: TcAttachment }) => (obj: BpfObject, d: Direction) =>
      (d.ingress ? att.in : att.out).attach(obj, d.entry, d.ingress);
    const slots: HookSlot[] = tc
      ? [
          {
            slot: 'interface packets (TC ingress and egress)',
            required: true,
            candidates: [
              { kind: 'tcx', programs, attach: hooked(tcAttach(tcx)) },
              { kind: 'tc', programs, attach: hooked(tcAttach(classic)) },
            ],
          },
          ...ownerSlots(cgroup).map((s) => ({ ...s, required: false })),
        ]
      : [
          {
            slot: 'socket packets (cgroup_skb on the root cgroup)',
            required: true,
            candidates: [{ kind: 'cgroup', programs, attach: hooked((obj, d) => obj.attach(d.entry, cgroup)) }],
          },
          ...ownerSlots(cgroup),
        ];
    const wallOff = wallMinusMonoNs();
    const packets = new KernelPackets({
      linkType,
      snaplen: spec.snaplen,
      expression: spec.expression,
      ...(tc ? { ifaceNames: new Map(spec.ifaces.map((i) => [i.ifindex, i.name])) } : {}),
      ...(kinds
        ? {
            sll2: new Map(kinds.flatMap((k) => k.ifaces.map((i) => [i.ifindex, { l2Len: k.l2Len, haType: k.haType }]))),
          }
        : {}),
      wallMinusMonoNs: wallOff,
    });
    this.packets = packets;
    // Blocks name interfaces by the ids given now, as the records' interfaces are numbered.
    if (blocks) for (const i of spec.ifaces) packets.interfaceId(i.ifindex);
    const onRecord = (v: DataView, off: number, len: number): void => {
      if (blocks && len >= WL_CAP_EPB.size && v.getUint16(off + EPB_TYPE, true) === EV.CAPTURE_EPB) {
        const n = v.getUint32(off + WL_CAP_EPB.fields.epb_len, true);
        if (n < 32 || n > len - WL_CAP_EPB.fields.block_type) packets.bad++;
        else blocks.onBlock(off + WL_CAP_EPB.fields.block_type, n, blocks.seconds ? packets.secondOf(v, off) : 0);
        return;
      }
      const p = packets.decode(v, off, len);
      if (!p) return;
      if (
        filter &&
        native().pcapFilter(filter, Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), p.wireLen) === 0
      ) {
        this.userRejected++;
        return;
      }
      spec.onPacket(p);
    };
    this.family = RunningFamily.start({
      object: 'capture',
      slots,
      filters: spec.filters,
      hookMode: spec.hookMode,
      features: spec.features,
      ringBytes: spec.ringBytes,
      configure: (obj) => {
        obj.setGlobal('wl_cap_snaplen', u32le(spec.snaplen));
        obj.setGlobal('wl_cap_l2_len', u32le(linkType === LINKTYPE.ETHERNET ? 14 : 0));
        obj.setGlobal('wl_cap_mixed', u32le(kinds ? 1 : 0));
        obj.setGlobal('wl_cap_uid_set', u32le(spec.uid !== undefined ? 1 : 0));
        obj.setGlobal('wl_cap_uid', u32le(spec.uid ?? 0));
        obj.setGlobal('wl_cap_cgroup_id', u64le(spec.cgroup?.id ?? 0n));
        obj.setGlobal('wl_cap_cgroup_level', u32le(spec.cgroup?.level ?? 0));
        obj.setGlobal('wl_cap_wakeup_ns', u64le(BigInt(Math.round((spec.latency?.wakeMs ?? 50) * 1e6))));
        if (blocks) {
          obj.setGlobal('wl_cap_epb', u32le(1));
          obj.setGlobal('wl_cap_wall_off', u64le(BigInt.asUintN(64, wallOff)));
          obj.setGlobal('wl_cap_host_netns', u32le(blocks.hostNetns));
        }
      },
      onRecord,
      drainMs: spec.latency?.drainMs ?? 50,
      ...(spec.latency?.wakeupBytes !== undefined ? { wakeupBytes: spec.latency.wakeupBytes } : {}),
      ...(blocks ? { onBatchEnd: () => blocks.onBatchEnd() } : {}),
    });
    this.choices = this.family.choices;
    this.stats = this.family.obj.map('wl_cap_stats');
    // Sockets made from here on get their owner at socket(); the ones made before get theirs now.
    if (this.choices.some((c) => c.slot === 'socket owners at socket()' && c.kind !== 'none')) {
      this.existingOwners = ownExistingSockets(this.family.obj.map('wl_owners'));
    }
  }

  /** Interfaces in the order packets named them (Packet.iface indexes this). */
  get interfaces(): readonly CaptureInterface[] {
    return this.packets.interfaces;
  }

  /** Records the ring held that did not decode. */
  get badRecords(): number {
    return this.packets.bad;
  }

  /** tcpdump's figures: received by filter, dropped by the kernel; and what wirelens adds. */
  counts(): { seen: number; procFiltered: number; matched: number; lost: number; userRejected: number } {
    const s = (slot: number) => Number(this.stats.sumPerCpuU64(slot));
    const k = this.family.kernelStats();
    return {
      seen: s(CAP_STAT.SEEN),
      procFiltered: s(CAP_STAT.PROC_FILTERED),
      matched: s(CAP_STAT.MATCHED),
      lost: Number(k.lost),
      userRejected: this.userRejected,
    };
  }

  drain(): void {
    this.family.drain();
  }

  /** Writes blocks' ranges of the ring to fd, from CaptureBlocks' handlers: bytes, or -errno. */
  writeRanges(fd: number, ranges: Uint32Array, count: number): number {
    return this.family.writeRanges(fd, ranges, count);
  }

  detach(): void {
    this.family.detach();
    for (const t of this.tc) t.close();
  }

  close(): void {
    this.detach();
    this.family.close();
  }
}
