/**
 * Guard counters (bpf/guard.bpf.c): loads and attaches the hooks, sizes
 * every map before load (memory fixed at start), and reads them once per
 * interval into a GuardSample. Each read also starts the kernel's next
 * generation (sketch epoch, distinct-source registers). With --block it
 * adds and removes the sources the ingress program drops.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import {
  GUARD_HLL,
  GUARD_HLL_BITS,
  GUARD_SCAN_WORDS,
  GUARD_STAT,
  WL_GUARD_ADDR,
  WL_GUARD_CLOCK,
  WL_GUARD_COUNTS,
  WL_GUARD_DROP_KEY,
  WL_GUARD_HLL,
  WL_GUARD_IFCFG,
  WL_GUARD_LISTEN,
  WL_GUARD_LISTEN_KEY,
  WL_GUARD_PORT,
  WL_GUARD_QUEUE,
  WL_GUARD_SCAN,
  WL_GUARD_SCAN_KEY,
} from '../events/layout';
import { formatAddress } from '../text/address';
import { DropReasons } from '../kernel/drop-reasons';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot, loadAndAttach } from '../kernel/hooks';
import { sumSlotsU64, u32le } from '../kernel/encode';
import { BpfMap } from '../kernel/maps';
import { NativeLink, native } from '../kernel/native';
import { BpfObject } from '../kernel/object';
import { NetnsCounters } from '../kernel/netstat';
import { Iface, TcAttachment } from '../kernel/tc';
import { IpBytes } from '../net/ip-text';
import {
  DistinctRegisters,
  GUARD_PROTOS,
  GuardCounts,
  GuardProto,
  GuardSample,
  ListenCounts,
  ListenQueue,
  PortCounts,
  ZERO_GUARD_COUNTS,
} from '../model/guard';

export interface GuardSizes {
  /** Entries of the per-source table (sources above the floor). */
  sources: number;
  /** Entries of the per-port table (ports above the floor). */
  ports: number;
  /** Entries of the scan table (remote x bucket). */
  scans: number;
  /** Cells per sketch row, as a power of two. */
  sketchBits: number;
  /** Packets in an interval before a source or port gets its own entry. */
  floor: number;
  /** Entries of the block table. */
  blocks: number;
}

export const DEFAULT_SIZES: GuardSizes = {
  sources: 4096,
  ports: 1024,
  scans: 4096,
  sketchBits: 14,
  floor: 100,
  blocks: 1024,
};

export interface GuardOptions {
  ifaces: Iface[];
  hookMode: HookMode;
  features: Features;
  sizes: GuardSizes;
  /** --block: the ingress program drops the sources in the block table. */
  block: boolean;
}

const TC_SLOT = 'interface packets (TC ingress and egress)';
const ARPHRD_LOOPBACK = 772;
const SKETCH_ROWS = 4;
/** Bits per scan bitmap (port hashed to one at random per run). */
export const SCAN_BITS = GUARD_SCAN_WORDS * 64;
/** The most --scan-ports can be: what linear counting over SCAN_BITS counts within 2% (twice its bits). */
export const SCAN_PORTS_MAX = 2 * SCAN_BITS;
/** SYNs from one remote in a scan bucket before its unanswered ones are tracked (a spoofed flood's stay under it). */
export const SYN_FLOOR = 5;
/** What the queue iterator may write in one namespace: 3,276 listeners with a queue (the rest is read and dropped). */
const QUEUE_READ_MAX = 64 * 1024;

/** Where the queue iterator's link lands once attached: snapshot() runs it. */
interface IterHolder {
  link?: NativeLink;
}

/** The hook plan; the TC attachments are made for the interfaces (doctor passes stand-ins). */
export function guardSlots(
  ifaces: Iface[],
  tcx = new TcAttachment(ifaces, false),
  classic = new TcAttachment(ifaces, true),
  iter: IterHolder = {},
): HookSlot[] {
  const tcAttach = (att: TcAttachment) => (obj: BpfObject, p: string) => {
    const cfg = obj.map('wl_guard_ifcfg');
    for (const i of ifaces) {
      const v = Buffer.alloc(WL_GUARD_IFCFG.size);
      v.writeUInt16LE(i.l2Len, WL_GUARD_IFCFG.fields.l2_len);
      v.writeUInt8(
        i.haType === ARPHRD_LOOPBACK || (i.haType === undefined && i.name === 'lo') ? 1 : 0,
        WL_GUARD_IFCFG.fields.loopback,
      );
      cfg.update(u32le(i.ifindex), v);
    }
    return att.attach(obj, p, p === 'wl_guard_tc_in');
  };
  const programs = ['wl_guard_tc_in', 'wl_guard_tc_out'];
  return [
    {
      slot: TC_SLOT,
      required: true,
      candidates: [
        { kind: 'tcx', programs, attach: tcAttach(tcx) },
        { kind: 'tc', programs, attach: tcAttach(classic) },
      ],
    },
    {
      slot: 'handshakes completed (sock:inet_sock_set_state)',
      required: false,
      degraded: 'SYN floods are judged without completed handshakes (kernel counters only)',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_guard_state_btf'] },
        { kind: 'tracepoint', programs: ['wl_guard_state_tp'] },
      ],
    },
    {
      slot: 'SYN-ACK retransmits (tcp:tcp_retransmit_synack)',
      required: false,
      degraded: 'no SYN-ACK retransmit evidence',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_guard_synack_btf'] },
        { kind: 'tracepoint', programs: ['wl_guard_synack_tp'] },
      ],
    },
    {
      slot: 'resets sent (tcp:tcp_send_reset)',
      required: false,
      degraded: 'no per-listener reset evidence',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_guard_rst_btf'] },
        { kind: 'tracepoint', programs: ['wl_guard_rst_tp'] },
      ],
    },
    {
      slot: "listeners' queues (iter/tcp, once per interval)",
      required: false,
      degraded: "SYN floods are judged without the listeners' SYN and accept queues",
      candidates: [
        {
          kind: 'iter',
          programs: ['wl_guard_queues'],
          attach: (obj: BpfObject, p: string) => {
            const link = obj.attach(p, { kind: 'iter' });
            iter.link = link;
            return {
              close: () => {
                iter.link = undefined;
                link.close();
              },
            };
          },
        },
      ],
    },
    {
      slot: 'packet drops (skb:kfree_skb)',
      required: false,
      degraded: 'no drops-by-reason evidence',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_guard_drop_btf'] },
        { kind: 'tracepoint', programs: ['wl_guard_drop_tp'] },
      ],
    },
  ];
}

const COUNT_FIELDS: [keyof GuardCounts, number][] = [
  ['pkts', WL_GUARD_COUNTS.fields.pkts],
  ['bytes', WL_GUARD_COUNTS.fields.bytes],
  ['syn', WL_GUARD_COUNTS.fields.syn],
  ['synack', WL_GUARD_COUNTS.fields.synack],
  ['rstIn', WL_GUARD_COUNTS.fields.rst_in],
  ['rstOut', WL_GUARD_COUNTS.fields.rst_out],
  ['unreachOut', WL_GUARD_COUNTS.fields.unreach_out],
  ['udp', WL_GUARD_COUNTS.fields.udp],
  ['icmp', WL_GUARD_COUNTS.fields.icmp],
  ['est', WL_GUARD_COUNTS.fields.est],
  ['blocked', WL_GUARD_COUNTS.fields.blocked],
];

/** Sums per-CPU wl_guard_counts (at `at` within each slot) into one. */
function sumCounts(m: BpfMap, v: Buffer, at = 0): GuardCounts {
  const c = { ...ZERO_GUARD_COUNTS };
  for (let off = 0; off + at + WL_GUARD_COUNTS.size <= v.length; off += m.slotBytes)
    for (const [k, f] of COUNT_FIELDS) c[k] += Number(v.readBigUInt64LE(off + at + f));
  return c;
}

/** The address of a wl_guard_addr at `off`. */
function addrText(b: Buffer, off: number): string {
  const fam = b.readUInt8(off + WL_GUARD_ADDR.fields.family);
  const a = off + WL_GUARD_ADDR.fields.addr;
  return formatAddress(b.subarray(a, a + (fam === 10 ? 16 : 4)));
}

/** A per-CPU wl_guard_port: counts summed, the address of any CPU that saw one. */
function portValue(m: BpfMap, v: Buffer, proto: GuardProto, port: number): PortCounts {
  let daddr = '';
  for (let off = 0; off + WL_GUARD_PORT.size <= v.length && !daddr; off += m.slotBytes) {
    const fam = v.readUInt8(off + WL_GUARD_PORT.fields.family);
    if (fam) {
      const a = off + WL_GUARD_PORT.fields.daddr;
      daddr = formatAddress(v.subarray(a, a + (fam === 10 ? 16 : 4)));
    }
  }
  return { proto, port, c: sumCounts(m, v, WL_GUARD_PORT.fields.c), daddr };
}

/**
 * Reads a table of port bitmaps per remote and bucket (wl_guard_scans, wl_guard_unanswered) into `into`,
 * deleting entries of buckets before `oldest`; an empty bitmap (every SYN answered) is left out.
 * Returns the entries the table holds.
 */
function readBitmaps(m: BpfMap, into: Map<string, Map<number, Uint32Array>>, oldest: number): number {
  let held = 0;
  const n = GUARD_SCAN_WORDS * 2;
  for (const { key, value } of m.entries()) {
    const bucket = key.readUInt32LE(WL_GUARD_SCAN_KEY.fields.bucket);
    if (bucket < oldest) {
      m.delete(key);
      continue;
    }
    held++;
    let any = 0;
    for (let i = 0; i < n && !any; i++) any = value.readUInt32LE(WL_GUARD_SCAN.fields.bits + i * 4);
    if (!any) continue;
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) bits[i] = value.readUInt32LE(WL_GUARD_SCAN.fields.bits + i * 4);
    const src = addrText(key, WL_GUARD_SCAN_KEY.fields.src);
    let per = into.get(src);
    if (!per) into.set(src, (per = new Map()));
    per.set(bucket, bits);
  }
  return held;
}

export function addrKey(ip: IpBytes): Buffer {
  const k = Buffer.alloc(WL_GUARD_ADDR.size);
  k.writeUInt8(ip.family === 4 ? 2 : 10, WL_GUARD_ADDR.fields.family);
  Buffer.from(ip.bytes).copy(k, WL_GUARD_ADDR.fields.addr);
  return k;
}

export class GuardCounters {
  readonly choices: HookChoice[];
  readonly sizes: GuardSizes;
  private readonly obj: BpfObject;
  private readonly tc: TcAttachment[];
  private readonly reasons = new DropReasons();
  private readonly netns = new NetnsCounters();
  private readonly iter: IterHolder = {};
  private readonly m: Record<
    'protos' | 'ports' | 'sources' | 'scans' | 'unanswered' | 'listen' | 'hll' | 'clock' | 'drops' | 'blocks' | 'stats',
    BpfMap
  >;
  private gen = 0;
  private readonly t0Ns = Number(process.hrtime.bigint());
  /** Seconds per scan bucket. */
  readonly bucketS: number;

  constructor(opts: GuardOptions & { bucketS: number }) {
    this.sizes = opts.sizes;
    this.bucketS = opts.bucketS;
    this.reasons.preload();
    const tcx = new TcAttachment(opts.ifaces, false);
    const classic = new TcAttachment(opts.ifaces, true);
    this.tc = [tcx, classic];
    const s = opts.sizes;
    const seeds = crypto.randomBytes(8);
    const open = (): BpfObject => {
      const obj = BpfObject.open('guard');
      try {
        obj.setMaxEntries('wl_events', 4096); // no records: the ring is only the shared header's
        obj.setMaxEntries('wl_guard_sources', s.sources);
        obj.setMaxEntries('wl_guard_ports', s.ports);
        obj.setMaxEntries('wl_guard_scans', s.scans);
        obj.setMaxEntries('wl_guard_unanswered', s.scans);
        obj.setMaxEntries('wl_guard_blocks', s.blocks);
        obj.setMaxEntries('wl_guard_rate', SKETCH_ROWS << s.sketchBits);
        obj.setMaxEntries('wl_guard_fail', SKETCH_ROWS << s.sketchBits);
        obj.setMaxEntries('wl_guard_syns', SKETCH_ROWS << s.sketchBits);
        obj.setGlobal('wl_guard_seed1', seeds.subarray(0, 4));
        obj.setGlobal('wl_guard_seed2', seeds.subarray(4, 8));
        obj.setGlobal('wl_guard_sketch_bits', u32le(s.sketchBits));
        obj.setGlobal('wl_guard_src_floor', u32le(s.floor));
        obj.setGlobal('wl_guard_port_floor', u32le(s.floor));
        obj.setGlobal('wl_guard_syn_floor', u32le(SYN_FLOOR));
        obj.setGlobal('wl_guard_block_on', u32le(opts.block ? 1 : 0));
      } catch (e) {
        obj.close();
        throw e;
      }
      return obj;
    };
    let loaded;
    try {
      loaded = loadAndAttach(open, guardSlots(opts.ifaces, tcx, classic, this.iter), opts.features, opts.hookMode);
    } catch (e) {
      for (const t of this.tc) t.close();
      throw e;
    }
    this.obj = loaded.obj;
    this.choices = loaded.choices;
    const m = (n: string): BpfMap => this.obj.map(n);
    this.m = {
      protos: m('wl_guard_protos'),
      ports: m('wl_guard_ports'),
      sources: m('wl_guard_sources'),
      scans: m('wl_guard_scans'),
      unanswered: m('wl_guard_unanswered'),
      listen: m('wl_guard_listen'),
      hll: m('wl_guard_hll'),
      clock: m('wl_guard_clock'),
      drops: m('wl_guard_drops'),
      blocks: m('wl_guard_blocks'),
      stats: m('wl_guard_stats'),
    };
    this.writeClock();
  }

  /** Whether classic TC filters (not tcx links) were used. */
  get tcKind(): string | undefined {
    return this.choices.find((c) => c.slot === TC_SLOT)?.kind;
  }

  private bucketAt(tNs: number): number {
    return Math.floor((tNs - this.t0Ns) / (this.bucketS * 1e9));
  }

  private writeClock(): void {
    const v = Buffer.alloc(WL_GUARD_CLOCK.size);
    v.writeUInt32LE(this.gen >>> 0, WL_GUARD_CLOCK.fields.gen);
    v.writeUInt32LE(this.bucketAt(Number(process.hrtime.bigint())) >>> 0, WL_GUARD_CLOCK.fields.bucket);
    this.m.clock.update(u32le(0), v);
  }

  /** Reads every counter; closes the current generation (its distinct-source registers) and opens the next. */
  snapshot(): GuardSample {
    const closing = this.gen;
    this.gen++;
    this.writeClock();
    const tNs = Number(process.hrtime.bigint());
    const { protos, ports, sources, scans, listen } = this.m;
    const sample: GuardSample = {
      tNs,
      bucket: this.bucketAt(tNs),
      protos: new Map(),
      ports: new Map(),
      sources: new Map(),
      listen: new Map(),
      queues: new Map(),
      scans: new Map(),
      pending: new Map(),
      drops: new Map(),
      netstat: new Map(),
      ownNetns: this.netns.own,
      tables: [],
    };
    sample.distinct = this.readDistinct(closing);
    GUARD_PROTOS.forEach((name, i) => {
      const v = protos.lookup(u32le(i));
      sample.protos.set(
        name,
        v ? portValue(protos, v, name, 0) : { proto: name, port: 0, c: { ...ZERO_GUARD_COUNTS }, daddr: '' },
      );
    });
    for (const { key, value } of ports.entries()) {
      const k = key.readUInt32LE(0);
      const proto = GUARD_PROTOS[k >>> 16] ?? 'other';
      sample.ports.set(`${proto}/${k & 0xffff}`, portValue(ports, value, proto, k & 0xffff));
    }
    for (const { key, value } of sources.entries()) sample.sources.set(addrText(key, 0), sumCounts(sources, value));
    const netnses = new Set<number>();
    for (const { key, value } of listen.entries()) {
      const netns = key.readUInt32LE(WL_GUARD_LISTEN_KEY.fields.netns);
      const port = key.readUInt16LE(WL_GUARD_LISTEN_KEY.fields.port);
      const l: ListenCounts = { netns, port, est: 0, synackRetrans: 0, rstSent: 0 };
      for (let off = 0; off + WL_GUARD_LISTEN.size <= value.length; off += listen.slotBytes) {
        l.est += Number(value.readBigUInt64LE(off + WL_GUARD_LISTEN.fields.est));
        l.synackRetrans += Number(value.readBigUInt64LE(off + WL_GUARD_LISTEN.fields.synack_retrans));
        l.rstSent += Number(value.readBigUInt64LE(off + WL_GUARD_LISTEN.fields.rst_sent));
      }
      sample.listen.set(`${netns}/${port}`, l);
      netnses.add(netns);
    }
    const oldest = sample.bucket - 10; // well past any window: gone from the kernel too
    const scanEntries = readBitmaps(scans, sample.scans, oldest);
    const unansweredEntries = readBitmaps(this.m.unanswered, sample.pending, oldest);
    sample.queues = this.readQueues(netnses);
    for (const { key, value } of this.m.drops.entries()) {
      const netns = key.readUInt32LE(WL_GUARD_DROP_KEY.fields.netns);
      const reason = this.reasons.name(key.readUInt32LE(WL_GUARD_DROP_KEY.fields.reason));
      const per = sample.drops.get(netns) ?? new Map<string, number>();
      per.set(reason, (per.get(reason) ?? 0) + Number(sumSlotsU64(value, this.m.drops.slotBytes)));
      sample.drops.set(netns, per);
    }
    sample.netstat = this.netns.read(netnses);
    sample.tables = [
      { name: 'sources', entries: sample.sources.size, max: sources.info.maxEntries },
      { name: 'ports', entries: sample.ports.size, max: ports.info.maxEntries },
      { name: 'scans', entries: scanEntries, max: scans.info.maxEntries },
      { name: 'unanswered', entries: unansweredEntries, max: this.m.unanswered.info.maxEntries },
    ];
    return sample;
  }

  /**
   * Listeners' queues in the interfaces' namespace and each listener's namespace known: the iterator walks
   * every TCP socket of a namespace and writes the listeners whose queues hold anything.
   */
  private readQueues(netnses: Set<number>): Map<string, ListenQueue> {
    const out = new Map<string, ListenQueue>();
    const link = this.iter.link;
    if (!link) return out;
    const want = [...new Set([this.netns.own, ...netnses])].filter((ino) => ino !== 0);
    const paths: string[] = [];
    const inos: number[] = [];
    for (const ino of want) {
      const p = this.netns.nsPath(ino);
      if (p) {
        paths.push(p);
        inos.push(ino);
      }
    }
    const bufs = native().iterReadIn(link.fd(), paths, QUEUE_READ_MAX);
    bufs.forEach((b, i) => {
      if (!b) return;
      const f = WL_GUARD_QUEUE.fields;
      for (let off = 0; off + WL_GUARD_QUEUE.size <= b.length; off += WL_GUARD_QUEUE.size) {
        const netns = b.readUInt32LE(off + f.netns);
        if (netns !== inos[i]) continue; // the process that stood for it moved meanwhile
        const port = b.readUInt16LE(off + f.port);
        const k = `${netns}/${port}`;
        const q = out.get(k) ?? { netns, port, synQueue: 0, acceptQueue: 0, backlog: 0 };
        q.synQueue += b.readUInt32LE(off + f.syn_queue);
        q.acceptQueue += b.readUInt32LE(off + f.accept_queue);
        q.backlog += b.readUInt32LE(off + f.backlog);
        out.set(k, q);
      }
    });
    return out;
  }

  /** Registers of a closed generation, merged over CPUs (a CPU whose slot holds another generation saw none of it). */
  private readDistinct(gen: number): DistinctRegisters {
    const regs = 1 << GUARD_HLL_BITS;
    const kind = (k: number): Uint8Array => {
      const out = new Uint8Array(regs);
      const v = this.m.hll.lookup(u32le(k * 2 + (gen & 1)));
      if (!v) return out;
      for (let off = 0; off + WL_GUARD_HLL.size <= v.length; off += this.m.hll.slotBytes) {
        if (v.readUInt32LE(off + WL_GUARD_HLL.fields.gen) !== gen >>> 0) continue;
        const r = off + WL_GUARD_HLL.fields.reg;
        for (let i = 0; i < regs; i++) if (v[r + i]! > out[i]!) out[i] = v[r + i]!;
      }
      return out;
    };
    return { all: kind(GUARD_HLL.ALL), syn: kind(GUARD_HLL.SYN), udp: kind(GUARD_HLL.UDP), icmp: kind(GUARD_HLL.ICMP) };
  }

  /** Kernel statistics: entries made past the floors (scan entries made by SYNs apart), frames not IP, packets blocked. */
  stats(): Record<keyof typeof GUARD_STAT, number> {
    const out = {} as Record<keyof typeof GUARD_STAT, number>;
    for (const [k, i] of Object.entries(GUARD_STAT))
      out[k as keyof typeof GUARD_STAT] = Number(this.m.stats.sumPerCpuU64(i));
    return out;
  }

  /** Drops packets from `ip` at ingress until `untilNs` (CLOCK_MONOTONIC); the program checks the time itself. */
  block(ip: IpBytes, untilNs: bigint): void {
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(untilNs);
    this.m.blocks.update(addrKey(ip), v);
  }

  unblock(ip: IpBytes): boolean {
    return this.m.blocks.delete(addrKey(ip));
  }

  /** Kernel memory the object's maps hold (memlock of each, as the kernel accounts it), and per map. */
  mapMemory(): { total: number; maps: { name: string; bytes: number }[] } {
    const maps: { name: string; bytes: number }[] = [];
    for (const info of this.obj.maps()) {
      if (info.internal) continue;
      try {
        const fd = this.obj.map(info.name).fd;
        const mm = /^memlock:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        if (mm) maps.push({ name: info.name, bytes: Number(mm[1]) });
      } catch {
        /* not readable: left out */
      }
    }
    return { total: maps.reduce((n, x) => n + x.bytes, 0), maps };
  }

  /** The kernel statistics as read at close. */
  lastStats: Record<keyof typeof GUARD_STAT, number> | undefined;

  close(): void {
    try {
      this.lastStats = this.stats();
    } catch {
      /* closed already */
    }
    this.obj.detach();
    for (const t of this.tc) t.close();
    this.obj.close();
  }
}
