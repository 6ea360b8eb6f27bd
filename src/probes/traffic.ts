/**
 * Traffic counters (bpf/traffic.bpf.c): loads and attaches the hooks, then
 * reads every counter map in one pass per interval into a snapshot of
 * totals since start. Nothing is sent per packet.
 */
import * as fs from 'node:fs';
import { TOP_PROTOS, WL_TOP_ADDR, WL_TOP_COUNTS, WL_TOP_IFCFG, WL_TOP_PROC } from '../events/layout';
import { cString } from '../events/record';
import { formatAddress } from '../text/address';
import { cgroup2Root } from '../kernel/cgroup';
import { DropReasons } from '../kernel/drop-reasons';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot, loadAndAttach } from '../kernel/hooks';
import { u32le } from '../kernel/encode';
import { BpfMap } from '../kernel/maps';
import { BpfObject } from '../kernel/object';
import { AttachTarget, NativeLink, native } from '../kernel/native';
import { Iface, TcAttachment } from '../kernel/tc';
import { readNetdevStats } from '../kernel/netdev';
import { otherNetnsPaths } from '../kernel/netns';
import { ExistingOwners, ownExistingSockets, ownerSlots } from './owner-slots';

export interface Counts {
  rxBytes: number;
  rxPkts: number;
  txBytes: number;
  txPkts: number;
  conns: number;
  retrans: number;
}

export const ZERO_COUNTS: Readonly<Counts> = { rxBytes: 0, rxPkts: 0, txBytes: 0, txPkts: 0, conns: 0, retrans: 0 };

export interface ProcCounts extends Counts {
  pid: number;
  uid: number;
  comm: string;
}

/** Totals since start, as read at tNs (process.hrtime). */
export interface TrafficSnapshot {
  tNs: bigint;
  procs: Map<number, ProcCounts>;
  /** Keyed by address text. */
  remotes: Map<string, Counts>;
  /** Keyed by "tcp/80", "udp/53". */
  ports: Map<string, Counts>;
  protos: Map<string, Counts>;
  /** Keyed by interface name: the TC counters of -i's interfaces, else every device's own counters. */
  ifaces: Map<string, Counts>;
  /** Packets each device dropped (its own counters). */
  devDrops: Map<string, { rxDropped: number; txDropped: number }>;
  /** Drops by the kernel's reason name (all packets of the host). */
  drops: Map<string, number>;
  /** How full each LRU table is: near max, the least recent entries are being evicted (their counts lost). */
  tables: { name: string; entries: number; max: number }[];
}

export interface TrafficOptions {
  ifaces: Iface[];
  hookMode: HookMode;
  features: Features;
  /** Entries of each LRU table (processes, remote addresses, ports). */
  maxEntries?: number;
  /** Seconds between reads (default 1): how stale a socket's own flush may leave its counts. */
  intervalS?: number;
}

const SOCK_SLOT = 'socket packets (cgroup_skb on the root cgroup)';
const ITER_SLOT = 'per-socket counts moved to the tables (iterator)';
const RELEASE_SLOT = 'counts of sockets as they are closed (cgroup/sock_release)';

/** Where the iterators' links land once attached: snapshot() runs them. */
interface IterHolder {
  links: NativeLink[];
}
const TC_SLOT = 'interface packets (TC ingress and egress)';

/** The hook plan; the TC attachments are made for -i's interfaces (doctor passes stand-ins). */
export function trafficSlots(
  ifaces: Iface[],
  tcx = new TcAttachment(ifaces, false),
  classic = new TcAttachment(ifaces, true),
  cgroupPath: string = cgroup2Root(),
  iter: IterHolder = { links: [] },
  /** false: every packet goes to the tables as it passes (the portable path, for --hooks fallback). */
  perSocket = true,
): HookSlot[] {
  const cgroup = { kind: 'cgroup' as const, path: cgroupPath };
  const keep = (target: AttachTarget) => (obj: BpfObject, p: string) => {
    const link = obj.attach(p, target);
    iter.links.push(link);
    return {
      close: () => {
        iter.links.splice(iter.links.indexOf(link), 1);
        link.close();
      },
    };
  };
  const perPacket = 'every packet is added to the tables as it passes (costs more per packet)';
  // Each interface's parse settings are in place before a TC program sees a packet (written again per program: harmless).
  const tcAttach = (att: TcAttachment) => (obj: BpfObject, p: string) => {
    const cfg = obj.map('wl_top_ifcfg');
    for (const i of ifaces) {
      const v = Buffer.alloc(WL_TOP_IFCFG.size);
      v.writeUInt16LE(i.l2Len, WL_TOP_IFCFG.fields.l2_len);
      cfg.update(u32le(i.ifindex), v);
    }
    return att.attach(obj, p, p === 'wl_top_tc_in');
  };
  const out: HookSlot[] = [
    {
      slot: SOCK_SLOT,
      required: true,
      candidates: [{ kind: 'cgroup', programs: ['wl_top_sock_in', 'wl_top_sock_out'], target: cgroup }],
    },
    ...ownerSlots(cgroup),
  ];
  if (perSocket) {
    out.push(
      {
        slot: ITER_SLOT,
        required: false,
        degraded: perPacket,
        candidates: [
          // Every socket's storage, in every namespace.
          { kind: 'iter', programs: ['wl_top_flush_iter'], attach: keep({ kind: 'iter', map: 'wl_top_socks' }) },
          // Where that is refused: this namespace's TCP and UDP sockets; the rest move their counts themselves.
          { kind: 'iter', programs: ['wl_top_flush_tcp', 'wl_top_flush_udp'], attach: keep({ kind: 'iter' }) },
        ],
      },
      {
        slot: RELEASE_SLOT,
        required: false,
        degraded: perPacket,
        candidates: [{ kind: 'cgroup', programs: ['wl_top_release'], target: cgroup }],
      },
      {
        slot: 'TCP sockets at CLOSE',
        required: false,
        degraded: "a TCP socket's last packets after its process closed it (FIN, ACKs) are lost",
        candidates: [{ kind: 'tp_btf', programs: ['wl_top_close_btf'] }],
      },
    );
  }
  out.push(
    {
      slot: 'TCP retransmits',
      required: false,
      degraded: 'no retransmit counts',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_top_retrans_err_btf'] },
        { kind: 'tp_btf', programs: ['wl_top_retrans_btf'] },
        { kind: 'tracepoint', programs: ['wl_top_retrans_tp'] },
      ],
    },
    {
      slot: 'packet drops (skb:kfree_skb)',
      required: false,
      degraded: 'no drop counts',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_top_drop_btf'] },
        { kind: 'tracepoint', programs: ['wl_top_drop_tp'] },
      ],
    },
  );
  if (ifaces.length > 0) {
    const programs = ['wl_top_tc_in', 'wl_top_tc_out'];
    out.push({
      slot: TC_SLOT,
      required: true,
      candidates: [
        { kind: 'tcx', programs, attach: tcAttach(tcx) },
        { kind: 'tc', programs, attach: tcAttach(classic) },
      ],
    });
  }
  return out;
}

function readCounts(v: Buffer, off: number, into: Counts): void {
  const f = WL_TOP_COUNTS.fields;
  into.rxBytes += Number(v.readBigUInt64LE(off + f.rx_bytes));
  into.rxPkts += Number(v.readBigUInt64LE(off + f.rx_pkts));
  into.txBytes += Number(v.readBigUInt64LE(off + f.tx_bytes));
  into.txPkts += Number(v.readBigUInt64LE(off + f.tx_pkts));
  into.conns += Number(v.readBigUInt64LE(off + f.conns));
  into.retrans += Number(v.readBigUInt64LE(off + f.retrans));
}

/** Sums a per-CPU counts value over its CPU slots. */
function sumCounts(m: BpfMap, v: Buffer): Counts {
  const c = { ...ZERO_COUNTS };
  for (let off = 0; off + WL_TOP_COUNTS.size <= v.length; off += m.slotBytes) readCounts(v, off, c);
  return c;
}

export class TrafficCounters {
  readonly choices: HookChoice[];
  private readonly obj: BpfObject;
  private readonly tc: TcAttachment[];
  private readonly ifnames: Map<number, string>;
  private readonly reasons = new DropReasons();
  private readonly iter: IterHolder = { links: [] };
  /** Sockets' counts are kept per socket and moved to the tables by the iterator. */
  readonly perSocket: boolean;
  /** Per socket through iter/tcp and iter/udp run in each namespace (the socket-storage iterator is refused); a socket no namespace walk finds moves its counts every this many ms of traffic. */
  readonly selfFlushMs: number = 0;
  /** Sockets made before start, given their process (undefined: the socket() hook is not attached). */
  readonly existingOwners?: ExistingOwners;
  private readonly maps: Record<'procs' | 'remotes' | 'ports' | 'protos' | 'ifaces' | 'drops', BpfMap>;

  constructor(opts: TrafficOptions) {
    this.reasons.preload();
    const tcx = new TcAttachment(opts.ifaces, false);
    const classic = new TcAttachment(opts.ifaces, true);
    this.tc = [tcx, classic];
    this.ifnames = new Map(opts.ifaces.map((i) => [i.ifindex, i.name]));
    const open = (): BpfObject => {
      const obj = BpfObject.open('traffic');
      try {
        obj.setMaxEntries('wl_events', 4096); // no records: the ring is only the shared header's
        obj.setGlobal('wl_top_sock_views', u32le(opts.ifaces.length > 0 ? 0 : 1));
        if (opts.maxEntries)
          for (const m of ['wl_top_procs', 'wl_top_remotes', 'wl_top_ports']) obj.setMaxEntries(m, opts.maxEntries);
      } catch (e) {
        obj.close();
        throw e;
      }
      return obj;
    };
    let loaded;
    try {
      loaded = loadAndAttach(
        open,
        trafficSlots(opts.ifaces, tcx, classic, cgroup2Root(), this.iter, opts.hookMode !== 'fallback'),
        opts.features,
        opts.hookMode,
      );
    } catch (e) {
      for (const t of this.tc) t.close(); // a qdisc made before the failure
      throw e;
    }
    this.obj = loaded.obj;
    this.choices = loaded.choices;
    // Per-socket counting only when what moves the counts to the tables is in place.
    const hooked = (slot: string): boolean => this.choices.some((c) => c.slot === slot && c.kind !== 'none');
    const iterChoice = this.choices.find((c) => c.slot === ITER_SLOT);
    this.perSocket = this.iter.links.length > 0 && hooked(RELEASE_SLOT); // links are kept only once attached
    if (this.perSocket && iterChoice?.programs.includes('wl_top_flush_tcp')) {
      // The iterators are run in every namespace with a process or a name; a socket elsewhere (passed to
      // a process of another namespace) moves its own counts, at most once an interval, and at close.
      this.selfFlushMs = Math.round(Math.max(1000, (opts.intervalS ?? 1) * 1000));
      this.obj.map('wl_top_mode').update(u32le(1), u32le(this.selfFlushMs));
    }
    if (this.perSocket) this.obj.map('wl_top_mode').update(u32le(0), u32le(1));
    // Now that sockets made from here on get their owner at socket(), the ones made before get theirs.
    if (hooked('socket owners at socket()')) this.existingOwners = ownExistingSockets(this.obj.map('wl_owners'));
    const m = (n: string): BpfMap => this.obj.map(n);
    this.maps = {
      procs: m('wl_top_procs'),
      remotes: m('wl_top_remotes'),
      ports: m('wl_top_ports'),
      protos: m('wl_top_protos'),
      ifaces: m('wl_top_ifaces'),
      drops: m('wl_drop_reasons'),
    };
  }

  /** Whether classic TC filters (not tcx links) were used: they need the cleanup tc.ts does. */
  get tcKind(): string | undefined {
    return this.choices.find((c) => c.slot === TC_SLOT)?.kind;
  }

  snapshot(): TrafficSnapshot {
    if (this.perSocket) {
      // iter/tcp and iter/udp walk the namespace they are run in: this one, then each other one.
      const others = this.selfFlushMs ? otherNetnsPaths() : [];
      for (const l of this.iter.links) {
        native().iterRun(l.fd());
        if (others.length > 0) native().iterRunIn(l.fd(), others);
      }
    }
    const s: TrafficSnapshot = {
      tNs: process.hrtime.bigint(),
      procs: new Map(),
      remotes: new Map(),
      ports: new Map(),
      protos: new Map(),
      ifaces: new Map(),
      devDrops: new Map(),
      drops: new Map(),
      tables: [],
    };
    const dev = readNetdevStats();
    for (const [name, d] of dev) s.devDrops.set(name, { rxDropped: d.rxDropped, txDropped: d.txDropped });
    if (this.ifnames.size === 0) {
      for (const [name, d] of dev)
        s.ifaces.set(name, {
          rxBytes: d.rxBytes,
          rxPkts: d.rxPkts,
          txBytes: d.txBytes,
          txPkts: d.txPkts,
          conns: 0,
          retrans: 0,
        });
    }
    const { procs, remotes, ports, protos, ifaces, drops } = this.maps;
    for (const { key, value } of procs.entries()) {
      const pid = key.readUInt32LE(0);
      const p: ProcCounts = { pid, uid: 0, comm: '', ...ZERO_COUNTS };
      for (let off = 0; off + WL_TOP_PROC.size <= value.length; off += procs.slotBytes) {
        readCounts(value, off + WL_TOP_PROC.fields.c, p);
        if (p.comm === '') {
          const view = new DataView(value.buffer, value.byteOffset, value.length);
          p.comm = cString(view, off + WL_TOP_PROC.fields.comm, 16);
          p.uid = value.readUInt32LE(off + WL_TOP_PROC.fields.uid);
        }
      }
      s.procs.set(pid, p);
    }
    for (const { key, value } of remotes.entries()) {
      const fam = key.readUInt8(WL_TOP_ADDR.fields.family);
      const a = key.subarray(WL_TOP_ADDR.fields.addr, WL_TOP_ADDR.fields.addr + (fam === 10 ? 16 : 4));
      s.remotes.set(formatAddress(a), sumCounts(remotes, value));
    }
    for (const { key, value } of ports.entries()) {
      const k = key.readUInt32LE(0);
      s.ports.set(`${TOP_PROTOS[k >>> 16] ?? 'other'}/${k & 0xffff}`, sumCounts(ports, value));
    }
    TOP_PROTOS.forEach((name, i) => {
      const v = protos.lookup(u32le(i));
      s.protos.set(name, v ? sumCounts(protos, v) : { ...ZERO_COUNTS });
    });
    for (const { key, value } of ifaces.entries()) {
      const ifindex = key.readUInt32LE(0);
      s.ifaces.set(this.ifnames.get(ifindex) ?? `if${ifindex}`, sumCounts(ifaces, value));
    }
    s.tables = [
      { name: 'processes', entries: s.procs.size, max: procs.info.maxEntries },
      { name: 'remotes', entries: s.remotes.size, max: remotes.info.maxEntries },
      { name: 'ports', entries: s.ports.size, max: ports.info.maxEntries },
    ];
    for (const [reason, n] of this.reasons.read(drops)) s.drops.set(reason, Number(n));
    return s;
  }

  /** Kernel memory the object's maps hold (memlock of each map, as the kernel accounts it). */
  mapMemoryBytes(): number {
    let total = 0;
    for (const info of this.obj.maps()) {
      if (info.internal) continue;
      try {
        const fd = this.obj.map(info.name).fd;
        const m = /^memlock:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        if (m) total += Number(m[1]);
      } catch {
        /* not readable: left out */
      }
    }
    return total;
  }

  close(): void {
    this.obj.detach();
    for (const t of this.tc) t.close();
    this.obj.close();
  }
}
