/** pcapng writer and the pcap/pcapng readers: exact times, round trips, both byte orders, bad files. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LINKTYPE, type Packet } from '../../src/model/packet';
import { nsHighLow, PcapngWriter, type PcapngWriterOptions, procComment } from '../../src/output/pcapng-writer';
import { PacketText } from '../../src/output/packet-text';
import { CaptureReader, readCaptureBytes, readCaptureStream } from '../../src/sources/pcap/capture-reader';
import { parseProcComment, ticksToTime } from '../../src/sources/pcap/pcapng-reader';
import { epb, i64opt, idb, pb, pcapFile, pcapngBlock, shb, spb, str, u32opt } from '../helpers/capture-build';
import { frameCorpus } from '../helpers/frames';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function writeAll(f: (w: PcapngWriter) => void, batchBytes?: number, opts: PcapngWriterOptions = {}): Buffer {
  const out: Buffer[] = [];
  const w = new PcapngWriter((b) => out.push(b), { ...opts, ...(batchBytes ? { batchBytes } : {}) });
  f(w);
  w.flush();
  return Buffer.concat(out);
}

const corpus = frameCorpus();

function samplePackets(): Packet[] {
  return corpus.map((fr, k) => ({
    sec: 1764000000 + k,
    nsec: (k * 123456789) % 1e9,
    iface: k % 2,
    linkType: k % 2 ? LINKTYPE.RAW : LINKTYPE.ETHERNET,
    data: k % 2 ? fr.bytes.subarray(14) : fr.bytes,
    wireLen: fr.bytes.length + (k % 5),
    direction: k % 3 === 0 ? 'in' : k % 3 === 1 ? 'out' : 'unknown',
    ...(k % 4 === 1 ? { proc: { pid: 1000 + k, comm: 'curl', uid: 1000, tid: 2000 + k } } : {}),
    ...(k % 4 === 2 ? { proc: { pid: 7, comm: k % 3 ? 'nginx' : 'café☕' } } : {}),
    ...(k % 7 === 3 ? { comment: k % 2 ? `note ${k}` : `ünï ${k}` } : {}),
    // Another network namespace: with a process (after UID), or alone.
    ...(k % 5 === 1 || k % 5 === 2 ? { netns: 4026532000 + k } : {}),
  }));
}

describe('pcapng time arithmetic', () => {
  it('nsHighLow is exact (against BigInt)', () => {
    const r = rng(1);
    for (let i = 0; i < 5000; i++) {
      const sec = Math.floor(r() * 2 ** 33);
      // Several stamps in the same second, as a capture gives them (the writer keeps the second's split).
      for (const nsec of [Math.floor(r() * 1e9), 0, 999_999_999, Math.floor(r() * 1e9)]) {
        const [hi, lo] = nsHighLow(sec, nsec);
        const want = BigInt(sec) * 1000000000n + BigInt(nsec);
        assert.equal((BigInt(hi) << 32n) | BigInt(lo), want, `${sec}.${nsec}`);
      }
    }
  });
  it('ticksToTime is exact for 10^9, 10^6, 2^20 and 10^12 ticks per second', () => {
    const r = rng(2);
    for (const units of [1e9, 1e6, 2 ** 20, 1e12]) {
      for (let i = 0; i < 2000; i++) {
        const hi = Math.floor(r() * 2 ** 31);
        const lo = Math.floor(r() * 2 ** 32);
        const t = (BigInt(hi) << 32n) | BigInt(lo);
        const [sec, nsec] = ticksToTime(hi, lo, units);
        assert.equal(BigInt(sec), t / BigInt(units));
        assert.equal(BigInt(nsec), ((t % BigInt(units)) * 1000000000n) / BigInt(units));
      }
    }
  });
});

describe('pcapng writer -> reader', () => {
  it('round-trips packets, interfaces (one added after packets), processes, comments, directions, stats', () => {
    const pkts = samplePackets();
    const file = writeAll((w) => {
      w.addInterface({
        linkType: LINKTYPE.ETHERNET,
        name: 'eth0',
        description: 'first',
        snaplen: 262144,
        filter: 'tcp',
      });
      w.packet(pkts[0]!);
      w.addInterface({ linkType: LINKTYPE.RAW, name: 'sockets', snaplen: 65535 });
      for (const p of pkts.slice(1)) w.packet(p);
      w.stats(0, { captured: 10, received: 12, dropped: 2, osDropped: 1 }, { sec: 1, nsec: 2 }, { sec: 3, nsec: 4 });
      w.stats(1, { captured: 5, received: 5, dropped: 0 });
    }, 4096);
    for (const chunk of [file.length, 1, 7, 1000]) {
      const r = readCaptureBytes(file, chunk);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.notes, []);
      assert.equal(r.format, 'pcapng');
      assert.equal(r.packets.length, pkts.length);
      assert.deepEqual(r.interfaces, [
        { linkType: 1, name: 'eth0', description: 'first', snaplen: 262144, filter: 'tcp', tsUnitNs: 1 },
        { linkType: 101, name: 'sockets', snaplen: 65535, tsUnitNs: 1 },
      ]);
      r.packets.forEach((p, k) => {
        const w = pkts[k]!;
        assert.equal(p.sec, w.sec);
        assert.equal(p.nsec, w.nsec);
        assert.equal(p.iface, w.iface);
        assert.equal(p.linkType, w.linkType);
        assert.deepEqual(Buffer.from(p.data), Buffer.from(w.data));
        assert.equal(p.wireLen, w.wireLen);
        assert.equal(p.direction, w.direction);
        assert.deepEqual(p.proc, w.proc);
        assert.equal(p.netns, w.netns);
        assert.equal(p.comment, w.comment);
      });
      assert.deepEqual(r.stats.get(0), { received: 12, dropped: 2, filterAccepted: 10, osDropped: 1 });
      assert.deepEqual(r.stats.get(1), { received: 5, dropped: 0, filterAccepted: 5 });
    }
  });
  it('flushes by itself past batchBytes and once per flush() otherwise', () => {
    const writes: number[] = [];
    const w = new PcapngWriter((b) => writes.push(b.length), { batchBytes: 8192 });
    w.addInterface({ linkType: 1, name: 'x', snaplen: 0 });
    for (let i = 0; i < 10; i++) w.packet({ ...samplePackets()[0]!, iface: 0 });
    assert.equal(writes.length, 0);
    w.flush();
    assert.equal(writes.length, 1);
    for (let i = 0; i < 500; i++) w.packet({ ...samplePackets()[0]!, iface: 0 });
    w.flush();
    assert.ok(writes.length > 2 && writes.every((n) => n <= 8192), `${writes}`);
    assert.equal(
      writes.reduce((a, b) => a + b, 0),
      w.size,
    );
  });
  it('a process name cannot forge comment lines or control characters', () => {
    const c = procComment({ pid: 1, comm: 'a\nUID: 0\x1b[2J', uid: 5 });
    assert.equal(c, 'PID: 1\nCmd: a\\x0aUID: 0\\x1b[2J\nUID: 5');
    assert.deepEqual(parseProcComment(c), { proc: { pid: 1, comm: 'a\\x0aUID: 0\\x1b[2J', uid: 5 } });
    assert.equal(parseProcComment('PID: 1\nhello'), undefined);
    assert.equal(parseProcComment('hello'), undefined);
  });
  it('the network namespace: "NetNS: n" after UID, or alone; not written for the capture\'s own', () => {
    const c = procComment({ pid: 9, comm: 'curl', uid: 0, tid: 10 }, 4026532290);
    assert.equal(c, 'PID: 9\nCmd: curl\nUID: 0\nNetNS: 4026532290\nTID: 10');
    assert.deepEqual(parseProcComment(c!), { proc: { pid: 9, comm: 'curl', uid: 0, tid: 10 }, netns: 4026532290 });
    assert.equal(procComment(undefined, 4026532290), 'NetNS: 4026532290');
    assert.deepEqual(parseProcComment('NetNS: 4026532290'), { netns: 4026532290 });
    assert.equal(procComment(undefined), undefined);
    for (const bad of ['NetNS: x', 'NetNS: 1\nPID: 2', 'NetNS: ', 'PID: 1\nCmd: a\nNetNS: 1x'])
      assert.equal(parseProcComment(bad), undefined, bad);
    const pkt = (netns: number): Packet => ({ ...samplePackets()[1]!, iface: 0, netns });
    const file = writeAll(
      (w) => {
        w.addInterface({ linkType: LINKTYPE.RAW, name: 'sockets', snaplen: 0 });
        w.packet(pkt(4026531833));
        w.packet(pkt(4026532290));
      },
      4096,
      { hostNetns: 4026531833 },
    );
    const r = readCaptureBytes(file);
    assert.deepEqual(
      r.packets.map((p) => p.netns),
      [undefined, 4026532290],
    );
    const t = new PacketText({ time: 'none', hostNetns: 4026531833 });
    assert.match(t.format(pkt(4026532290)), /\[pid 1001 curl\] \[netns 4026532290\]$/);
    assert.match(t.format(pkt(4026531833)), /\[pid 1001 curl\]$/);
  });
});

describe('pcapng reader on hand-built files', () => {
  for (const be of [false, true]) {
    it(`${be ? 'big' : 'little'}-endian: sections restart interface ids; tsresol 2^-20 and 10^-3; tsoffset; EPB/SPB/PB; unknown blocks`, () => {
      const d1 = corpus[0]!.bytes;
      const d2 = corpus[3]!.bytes;
      const file = Buffer.concat([
        shb(be, [[4, str('hand')]]),
        idb(be, LINKTYPE.ETHERNET, 0, [
          [2, str('eth\x1b9')],
          [9, [0x80 | 20]],
          [14, i64opt(be, 100n)],
        ]),
        epb(be, 0, (5n << 20n) | 524288n, d1, d1.length + 4, [
          [1, str('PID: 42\nCmd: dig\nUID: 0')],
          [1, str('second comment')],
          [2, u32opt(be, 2)],
        ]),
        pcapngBlock(be, 0x0bad, (b) => b.u32(1234).raw([1, 2, 3])),
        spb(be, d2, d2.length),
        shb(be),
        idb(be, LINKTYPE.RAW, 96, [[9, [3]]]),
        idb(be, LINKTYPE.ETHERNET, 0),
        pb(be, 1, 7001n, d1, d1.length, [[2, u32opt(be, 1)]]),
        epb(be, 0, 7002n, d2.subarray(14), d2.length - 14),
        spb(be, d2.subarray(14), d2.length - 14),
      ]);
      const r = readCaptureBytes(file, 5);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.notes, []);
      assert.deepEqual(
        r.interfaces.map((i) => [i.name, i.linkType, i.snaplen, i.tsUnitNs]),
        [
          ['eth\\x1b9', 1, 0, undefined],
          ['', 101, 96, 1e6],
          ['', 1, 0, 1000],
        ],
      );
      const ps = r.packets;
      assert.equal(ps.length, 5);
      assert.deepEqual([ps[0]!.sec, ps[0]!.nsec, ps[0]!.iface, ps[0]!.direction], [105, 500000000, 0, 'out']);
      assert.deepEqual(ps[0]!.proc, { pid: 42, comm: 'dig', uid: 0 });
      assert.equal(ps[0]!.comment, 'second comment');
      assert.equal(ps[0]!.wireLen, d1.length + 4);
      assert.deepEqual([ps[1]!.iface, ps[1]!.sec, Buffer.from(ps[1]!.data).equals(d2)], [0, 0, true]);
      assert.deepEqual(
        [ps[2]!.iface, ps[2]!.linkType, ps[2]!.sec, ps[2]!.nsec, ps[2]!.direction],
        [2, 1, 0, 7001000, 'in'],
      );
      assert.deepEqual([ps[3]!.iface, ps[3]!.linkType, ps[3]!.sec, ps[3]!.nsec], [1, 101, 7, 2000000]);
      // SPB in a section whose interface 0 has snaplen 96: cut to 96.
      assert.equal(ps[4]!.data.length, Math.min(96, d2.length - 14));
    });
  }
  it('truncated file: the packets before the cut, and a note', () => {
    const d = corpus[3]!.bytes;
    const whole = Buffer.concat([
      shb(false),
      idb(false, 1, 0),
      epb(false, 0, 1n, d, d.length),
      epb(false, 0, 2n, d, d.length),
    ]);
    const r = readCaptureBytes(whole.subarray(0, whole.length - 10), 64);
    assert.equal(r.error, undefined);
    assert.equal(r.packets.length, 1);
    assert.match(r.notes[0]!, /^truncated: last block cut after \d+ of \d+ bytes/);
  });
  it('absurd block length: one-line error, no allocation, no packets after it', () => {
    const d = corpus[3]!.bytes;
    const bad = Buffer.from([6, 0, 0, 0, 0xfc, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    const r = readCaptureBytes(Buffer.concat([shb(false), idb(false, 1, 0), epb(false, 0, 1n, d, d.length), bad]));
    assert.equal(r.packets.length, 1);
    assert.match(r.error!, /^pcapng: absurd block length 2147483644 at offset \d+: the file is corrupt$/);
  });
  it('not a capture, empty, short', () => {
    assert.match(readCaptureBytes(Buffer.from('GET / HTTP/1.1\r\n')).error!, /^not a pcap or pcapng file/);
    assert.match(readCaptureBytes(Buffer.alloc(0)).error!, /^empty file/);
    assert.match(readCaptureBytes(Buffer.from([0xd4, 0xc3])).error!, /^truncated: file cut after 2 bytes/);
    const r = new CaptureReader();
    r.push(Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]));
    r.end();
    assert.match(r.error!, /bad byte-order magic/);
  });
});

describe('pcap reader', () => {
  for (const be of [false, true]) {
    for (const ns of [false, true]) {
      it(`${be ? 'big' : 'little'}-endian, ${ns ? 'ns' : 'µs'}`, () => {
        const d = corpus[5]!.bytes;
        const f = pcapFile(be, ns, LINKTYPE.ETHERNET, [
          { sec: 100, frac: 999999, data: d, wire: 1500 },
          { sec: 101, frac: 5, data: d.subarray(0, 20) },
        ]);
        const r = readCaptureBytes(f, 3);
        assert.equal(r.error, undefined);
        assert.equal(r.format, 'pcap');
        assert.deepEqual(r.interfaces, [{ linkType: 1, name: '', snaplen: 262144, tsUnitNs: ns ? 1 : 1000 }]);
        assert.deepEqual(
          r.packets.map((p) => [p.sec, p.nsec, p.data.length, p.wireLen, p.linkType]),
          [
            [100, ns ? 999999 : 999999000, d.length, 1500, 1],
            [101, ns ? 5 : 5000, 20, 20, 1],
          ],
        );
        const cut = readCaptureBytes(f.subarray(0, f.length - 3));
        assert.equal(cut.packets.length, 1);
        assert.match(cut.notes[0]!, /^truncated: last record cut after 33 of 36 bytes \(1 packets read before it\)$/);
      });
    }
  }
  it('absurd record length', () => {
    const f = pcapFile(false, false, 1, [{ sec: 1, frac: 0, data: Buffer.alloc(4) }]);
    f.writeUInt32LE(0x7fffffff, 24 + 8);
    const r = readCaptureBytes(f);
    assert.match(r.error!, /^pcap: absurd record length 2147483647 at offset 24/);
  });
});

describe('readCaptureStream', () => {
  it('reads a stream in odd chunks, stops when asked, reports a failing stream as an error value', async () => {
    const { Readable } = await import('node:stream');
    const d = corpus[3]!.bytes;
    const file = Buffer.concat([
      shb(false),
      idb(false, 1, 0),
      ...[1n, 2n, 3n].map((t) => epb(false, 0, t, d, d.length)),
    ]);
    const chunks = [file.subarray(0, 3), file.subarray(3, 50), file.subarray(50)];
    const seen: number[] = [];
    const all = await readCaptureStream(Readable.from(chunks), (p) => void seen.push(p.nsec));
    assert.deepEqual(
      [all.packets, all.stopped, all.error, all.notes, seen],
      [3, false, undefined, [], [1000, 2000, 3000]],
    );
    const first = await readCaptureStream(Readable.from(chunks), () => false);
    assert.deepEqual([first.packets, first.stopped], [1, true]);
    async function* failing() {
      yield file.subarray(0, 100);
      throw Object.assign(new Error('boom'), { code: 'EIO' });
    }
    const bad = await readCaptureStream(failing(), () => undefined);
    assert.equal(bad.error, 'cannot read the capture: EIO');
    const cut = await readCaptureStream(Readable.from([file.subarray(0, file.length - 5)]), () => undefined);
    assert.equal(cut.packets, 2);
    assert.match(cut.notes[0]!, /^truncated: last block cut/);
  });
});
