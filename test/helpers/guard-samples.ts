/**
 * Synthetic GuardSamples for the detector tests: a timeline of cumulative
 * counters a test advances second by second, as the kernel's would.
 */
import {
  DistinctRegisters,
  GuardCounts,
  GuardProto,
  GuardSample,
  ListenCounts,
  ListenQueue,
  ZERO_GUARD_COUNTS,
} from '../../src/model/guard';

export const OWN_NETNS = 4026531840;

/** HyperLogLog registers (1024) holding `n` distinct items (a deterministic hash of 0..n-1). */
export function registersFor(n: number, salt = 0): Uint8Array {
  const reg = new Uint8Array(1024);
  for (let i = 0; i < n; i++) {
    let h = Math.imul(i + 1 + salt * 0x9e3779b1, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
    const idx = h & 1023;
    const rest = h >>> 10;
    const rho = rest === 0 ? 23 : Math.clz32(rest) - 10 + 1;
    if (reg[idx]! < rho) reg[idx] = rho;
  }
  return reg;
}

const fmix = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
};

/** The seed the kernel's scan_bit() would have (random per run there; fixed here, or a test's). */
export const SCAN_SEED = 0x2545f491;
const SCAN_WORDS = 128; // 32-bit words: WL_GUARD_SCAN_WORDS (64-bit) * 2
const TAG_SCAN = 0x5343;

/** A port's bit, as bpf/guard.bpf.c scan_bit() hashes it (TCP: proto 0). */
export function scanBit(port: number, seed = SCAN_SEED, proto = 0): number {
  return fmix(fmix((seed ^ TAG_SCAN) >>> 0) ^ ((proto << 16) | port)) & (SCAN_WORDS * 32 - 1);
}

/** A bitmap (4096 bits) of these ports, as the kernel sets them for TCP. */
export function portBits(ports: number[], seed = SCAN_SEED): Uint32Array {
  const b = new Uint32Array(SCAN_WORDS);
  for (const p of ports) {
    const bit = scanBit(p, seed);
    b[bit >>> 5]! |= 1 << (bit & 31);
  }
  return b;
}

type Add = Partial<GuardCounts>;

function setBits(into: Map<string, Map<number, Uint32Array>>, addr: string, bucket: number, ports: number[]): void {
  const per = into.get(addr) ?? new Map<number, Uint32Array>();
  const add = portBits(ports);
  const bits = per.get(bucket) ?? new Uint32Array(add.length);
  for (let i = 0; i < add.length; i++) bits[i]! |= add[i]!;
  per.set(bucket, bits);
  into.set(addr, per);
}

export class Timeline {
  tNs = 1e12;
  bucket = 0;
  protos = new Map<GuardProto, GuardCounts>();
  ports = new Map<string, { c: GuardCounts; daddr: string }>();
  sources = new Map<string, GuardCounts>();
  listen = new Map<string, ListenCounts>();
  queues = new Map<string, ListenQueue>();
  scans = new Map<string, Map<number, Uint32Array>>();
  pending = new Map<string, Map<number, Uint32Array>>();
  netstat = new Map<number, Map<string, number>>([[OWN_NETNS, new Map()]]);
  drops = new Map<number, Map<string, number>>();
  distinct: DistinctRegisters = {
    all: new Uint8Array(1024),
    syn: new Uint8Array(1024),
    udp: new Uint8Array(1024),
    icmp: new Uint8Array(1024),
  };

  private static add(into: GuardCounts, a: Add): void {
    for (const [k, v] of Object.entries(a)) into[k as keyof GuardCounts] += v ?? 0;
  }

  proto(p: GuardProto, a: Add): this {
    const c = this.protos.get(p) ?? { ...ZERO_GUARD_COUNTS };
    Timeline.add(c, a);
    this.protos.set(p, c);
    return this;
  }

  /** Adds to a port and to its protocol's totals. */
  port(proto: GuardProto, port: number, a: Add, daddr = '10.0.0.2'): this {
    const k = `${proto}/${port}`;
    const e = this.ports.get(k) ?? { c: { ...ZERO_GUARD_COUNTS }, daddr };
    Timeline.add(e.c, a);
    this.ports.set(k, e);
    return this.proto(proto, a);
  }

  source(addr: string, a: Add): this {
    const c = this.sources.get(addr) ?? { ...ZERO_GUARD_COUNTS };
    Timeline.add(c, a);
    this.sources.set(addr, c);
    return this;
  }

  counter(name: string, n: number, netns = OWN_NETNS): this {
    const m = this.netstat.get(netns) ?? new Map<string, number>();
    m.set(name, (m.get(name) ?? 0) + n);
    this.netstat.set(netns, m);
    return this;
  }

  /** A listener's queues as the next samples read them (not cumulative: the kernel's current lengths). */
  queue(port: number, synQueue: number, acceptQueue: number, backlog: number, netns = OWN_NETNS): this {
    this.queues.set(`${netns}/${port}`, { netns, port, synQueue, acceptQueue, backlog });
    return this;
  }

  drop(reason: string, n: number, netns = OWN_NETNS): this {
    const per = this.drops.get(netns) ?? new Map<string, number>();
    per.set(reason, (per.get(reason) ?? 0) + n);
    this.drops.set(netns, per);
    return this;
  }

  /** Ports `addr` was refused at in the current bucket. */
  scan(addr: string, ports: number[]): this {
    setBits(this.scans, addr, this.bucket, ports);
    return this;
  }

  /** TCP ports `addr` sent a SYN to in the current bucket, pending until answered(). */
  syn(addr: string, ports: number[]): this {
    setBits(this.pending, addr, this.bucket, ports);
    return this;
  }

  /** This host answered `addr` at these ports (SYN-ACK, RST, unreachable): no longer pending. */
  answered(addr: string, ports: number[]): this {
    const bits = this.pending.get(addr)?.get(this.bucket);
    const clear = portBits(ports);
    if (bits) for (let i = 0; i < clear.length; i++) bits[i]! &= ~clear[i]!;
    return this;
  }

  /** Distinct sources of the interval ending at the next sample. */
  sourcesSeen(all: number, syn = 0, udp = 0, icmp = 0): this {
    this.distinct = {
      all: registersFor(all),
      syn: registersFor(syn, 1),
      udp: registersFor(udp, 2),
      icmp: registersFor(icmp, 3),
    };
    return this;
  }

  /** The sample at the current time, then advances the clock by `s` seconds. */
  sample(s = 1): GuardSample {
    const copy = (c: GuardCounts): GuardCounts => ({ ...c });
    const out: GuardSample = {
      tNs: this.tNs,
      bucket: this.bucket,
      protos: new Map(
        (['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as GuardProto[]).map((p) => [
          p,
          { proto: p, port: 0, c: copy(this.protos.get(p) ?? { ...ZERO_GUARD_COUNTS }), daddr: '10.0.0.2' },
        ]),
      ),
      ports: new Map(
        [...this.ports].map(([k, v]) => {
          const [proto, port] = k.split('/');
          return [k, { proto: proto as GuardProto, port: Number(port), c: copy(v.c), daddr: v.daddr }];
        }),
      ),
      sources: new Map([...this.sources].map(([k, v]) => [k, copy(v)])),
      listen: new Map([...this.listen].map(([k, v]) => [k, { ...v }])),
      queues: new Map([...this.queues].map(([k, v]) => [k, { ...v }])),
      scans: new Map([...this.scans].map(([k, v]) => [k, new Map([...v].map(([b, bits]) => [b, bits.slice()]))])),
      pending: new Map([...this.pending].map(([k, v]) => [k, new Map([...v].map(([b, bits]) => [b, bits.slice()]))])),
      distinct: this.distinct,
      drops: new Map([...this.drops].map(([k, v]) => [k, new Map(v)])),
      netstat: new Map([...this.netstat].map(([k, v]) => [k, new Map(v)])),
      ownNetns: OWN_NETNS,
      tables: [],
    };
    this.tNs += s * 1e9;
    return out;
  }
}
