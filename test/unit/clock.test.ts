/**
 * The data's clock (src/model/time) printed as wall time (src/output/clock):
 * numbers of ns, exact to the microsecond, compared against the same sums
 * done in BigInt here (the reference) and against Date's own text.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Clock, monotonicBase, monoNowNs } from '../../src/output/clock';
import { TimeBase } from '../../src/model/time';
import { u64 } from '../../src/events/record';
import { LINKTYPE, type CaptureInterface, type Packet } from '../../src/model/packet';
import { PacketStreams } from '../../src/net/packet-streams';
import type { FlowOutput } from '../../src/net/flow-tracker';
import { DnsTransaction, DnsTransactions } from '../../src/analysis/dns/transactions';
import { dnsJson } from '../../src/output/dns-text';
import { ipv4, udp } from '../helpers/frames';

const NS = 1_000_000_000n;
const pad = (n: number | bigint, w: number): string => String(n).padStart(w, '0');

/** ISO and local time of day of a wall time in ns, the BigInt way. */
function reference(wallNs: bigint): { iso: string; tod: string } {
  const sec = wallNs / NS;
  const us = (wallNs % NS) / 1000n;
  const d = new Date(Number(sec) * 1000);
  return {
    iso: `${d.toISOString().slice(0, 19)}.${pad(us, 6)}Z`,
    tod: `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(us, 6)}`,
  };
}

/** A kernel record's u64 time as the decoders read it (a number, no BigInt). */
function asRecord(mono: bigint): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(mono);
  return u64(new DataView(b.buffer, b.byteOffset, 8), 0);
}

describe('Clock: kernel CLOCK_MONOTONIC stamps', () => {
  // Wall less monotonic with ns close to a second's end: every sum carries.
  const OFFSET = 1_700_000_000_999_999_999n;
  const clock = new Clock(monotonicBase(OFFSET));

  it('prints ISO and time of day exactly to the µs, across the u32 halves and second boundaries, up to 2^53 ns', () => {
    const stamps = [
      0n,
      1n,
      999_999_999n,
      (1n << 32n) - 1n,
      1n << 32n,
      (1n << 32n) + 1n,
      4_294_967_296_999n,
      5n * NS - 1n,
      5n * NS,
      (1n << 40n) + 123_456_789n,
      86_400n * NS * 30n + 999_999_001n,
      (1n << 52n) + 999n,
      (1n << 53n) - 1n,
    ];
    for (const mono of stamps) {
      const ts = asRecord(mono);
      assert.equal(BigInt(ts), mono, 'the number is the stamp below 2^53');
      const want = reference(mono + OFFSET);
      assert.equal(clock.iso(ts), want.iso, `iso of ${mono}`);
      assert.equal(clock.timeOfDay(ts), want.tod, `time of day of ${mono}`);
    }
  });

  it('a second boundary between two stamps 2 ns apart', () => {
    // OFFSET's ns are 999_999_999: mono ...000 is the last ns of a wall second, ...001 the first of the next.
    const a = asRecord(7n * NS);
    const b = asRecord(7n * NS + 1n);
    assert.equal(clock.iso(a), reference(7n * NS + OFFSET).iso);
    assert.match(clock.iso(a), /\.999999Z$/);
    assert.equal(clock.iso(b), reference(7n * NS + 1n + OFFSET).iso);
    assert.match(clock.iso(b), /\.000000Z$/);
    assert.notEqual(clock.iso(a).slice(0, 19), clock.iso(b).slice(0, 19));
  });

  it('past 2^53 ns (104 days up) off by a few ns at most: at most one µs in the text', () => {
    for (const mono of [(1n << 53n) + 1n, (1n << 54n) + 3n, (1n << 55n) + 123_456_789n]) {
      const ts = asRecord(mono);
      assert.ok(Math.abs(Number(BigInt(ts) - mono)) <= 8, 'within a few ns');
      const got = clock.iso(ts);
      const want = reference(mono + OFFSET).iso;
      const us = (s: string): number => Date.parse(s.slice(0, 19) + 'Z') * 1000 + Number(s.slice(20, 26));
      assert.ok(Math.abs(us(got) - us(want)) <= 1, `${got} vs ${want}`);
    }
  });

  it('now, as the live commands tick, is the kernel clock (process.hrtime) in ns', () => {
    const before = process.hrtime.bigint();
    const now = monoNowNs();
    const after = process.hrtime.bigint();
    assert.ok(BigInt(Math.round(now)) >= before - 1000n && BigInt(Math.round(now)) <= after + 1000n);
    // The default clock is monotonic: now prints as the wall clock's now (to the ms here).
    const shown = Date.parse(new Clock().iso(now));
    assert.ok(Math.abs(shown - Date.now()) < 50, `${new Clock().iso(now)}`);
  });
});

describe("Clock: a capture file's base second", () => {
  it('ns since the first packet are printed exactly to the µs, negatives (earlier packets) too', () => {
    const time = TimeBase.fromFirst();
    const clock = new Clock(time);
    const T0 = 1_700_000_000;
    assert.equal(time.ns(T0, 123_456_789), 123_456_789);
    assert.equal(time.sec, T0);
    const cases: [number, number][] = [
      [T0, 123_456_789],
      [T0, 999_999_999],
      [T0 + 1, 0],
      [T0 + 86_400 * 90, 999_999],
      [T0 - 1, 999_999_000],
    ];
    for (const [sec, nsec] of cases) {
      const want = reference(BigInt(sec) * NS + BigInt(nsec));
      const ts = time.ns(sec, nsec);
      assert.equal(clock.iso(ts), want.iso, `${sec}.${nsec}`);
      assert.equal(clock.timeOfDay(ts), want.tod, `${sec}.${nsec}`);
    }
    assert.equal(Clock.at(T0).iso(1_500), '2023-11-14T22:13:20.000001Z');
  });

  it("a DNS exchange whose packets span a second boundary: the query's time, the latency across it", () => {
    const T0 = 1_700_000_000;
    const u16 = (n: number) => [n >> 8, n & 255];
    const name = [4, ...Buffer.from('span'), 4, ...Buffer.from('test'), 0];
    const query = [...u16(9), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1];
    const answer = [...u16(9), 0x85, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1];
    const LO = [127, 0, 0, 1];
    const pkt = (sec: number, nsec: number, ip: number[]): Packet => {
      const data = Buffer.from(ip);
      return { sec, nsec, iface: 0, linkType: LINKTYPE.RAW, data, wireLen: data.length, direction: 'unknown' };
    };
    const WIRE: CaptureInterface = { name: 'lo', linkType: LINKTYPE.RAW, snaplen: 262144 };
    const time = TimeBase.fromFirst();
    const clock = new Clock(time);
    const ps = new PacketStreams({ tracker: { time } });
    const t = new DnsTransactions({ timeoutNs: 5e9, classify: true });
    const recs: DnsTransaction[] = [];
    const out: FlowOutput[] = [];
    ps.push(pkt(T0, 999_999_700, ipv4(LO, LO, 17, udp(40000, 53, query))), WIRE, out);
    ps.push(pkt(T0 + 1, 450, ipv4(LO, LO, 17, udp(53, 40000, answer))), WIRE, out);
    for (const x of out) recs.push(...t.push(x));
    assert.equal(recs.length, 2, 'client and server views of the wire');
    for (const r of recs) {
      assert.equal(r.tsNs, 999_999_700);
      assert.equal(r.latencyNs, 750);
      const j = JSON.parse(dnsJson(r, clock)) as { ts: string; latency_ms: number };
      assert.equal(j.ts, '2023-11-14T22:13:20.999999Z');
      assert.equal(j.latency_ms, 0.00075);
      assert.equal(clock.timeOfDay(r.tsNs), reference(BigInt(T0) * NS + 999_999_700n).tod);
    }
  });
});
