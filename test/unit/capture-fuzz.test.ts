/**
 * Fuzz: 20,000 mutations (bit flips, byte writes, truncations, absurd
 * lengths, spliced and inserted bytes) of real captures (tcpdump on lo and
 * on any, our own pcapng, hand-built big-endian pcapng and pcap) through the
 * incremental reader in random chunk sizes, then the decoder and the line
 * formatter in every mode. Nothing may throw or hang, memory stays bounded,
 * and no raw control character reaches the text.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LINKTYPE } from '../../src/model/packet';
import { decodePacket } from '../../src/net/decode/index';
import { PacketText, type PacketTextOptions } from '../../src/output/packet-text';
import { PcapngWriter } from '../../src/output/pcapng-writer';
import { CaptureReader } from '../../src/sources/pcap/capture-reader';
import { epb, idb, pcapFile, pcapngBlock, shb, spb, str, u32opt } from '../helpers/capture-build';
import { frameCorpus } from '../helpers/frames';
import { FIXTURES } from '../helpers/paths';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function seeds(): Buffer[] {
  const corpus = frameCorpus();
  const out: Buffer[] = [];
  const w = new PcapngWriter((b) => out.push(b));
  w.addInterface({ linkType: LINKTYPE.ETHERNET, name: 'eth0', snaplen: 0, filter: 'tcp' });
  w.addInterface({ linkType: LINKTYPE.RAW, name: 'sockets', snaplen: 0 });
  corpus.forEach((f, i) =>
    w.packet({
      sec: 1764000000 + i,
      nsec: i,
      iface: i % 2,
      linkType: 0,
      data: i % 2 ? f.bytes.subarray(14) : f.bytes,
      wireLen: f.bytes.length,
      direction: i % 3 ? 'in' : 'out',
      proc: { pid: i, comm: 'c\x1bx', uid: 1, tid: 2 },
      comment: 'note',
    }),
  );
  w.stats(0, { captured: 1, received: 2, dropped: 3 });
  w.flush();
  const d = corpus[3]!.bytes;
  const be = Buffer.concat([
    shb(true),
    idb(true, LINKTYPE.ETHERNET, 0, [
      [2, str('x')],
      [9, [0x86]],
    ]),
    epb(true, 0, 5n, d, d.length, [
      [1, str('PID: 1\nCmd: a')],
      [2, u32opt(true, 1)],
    ]),
    spb(true, d, d.length),
    pcapngBlock(true, 0x0bad, (b) => b.u32(1)),
    shb(true),
    idb(true, LINKTYPE.LINUX_SLL, 0),
    idb(true, LINKTYPE.NULL, 0),
    epb(true, 1, 9n, Buffer.concat([Buffer.from([2, 0, 0, 0]), d.subarray(14)]), d.length),
  ]);
  const sll = Buffer.concat([Buffer.from([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0xaa, 0, 0, 8, 0]), d.subarray(14)]);
  const pcapBe = pcapFile(true, true, LINKTYPE.LINUX_SLL, [
    { sec: 1, frac: 2, data: sll },
    { sec: 3, frac: 4, data: sll.subarray(0, 30) },
  ]);
  const real = ['lo-traffic.pcap', 'any-snap128.pcap', 'dns-dnsmasq.pcap'].map((f) =>
    fs.readFileSync(path.join(FIXTURES, f)),
  );
  return [...real, Buffer.concat(out), be, pcapBe];
}

const ABSURD = [0xffffffff, 0x7ffffffc, 0, 4, 12, 13, 16 * 1024 * 1024 + 4, 0x1000000, 0x0a0d0d0a, 0x1a2b3c4d];

function mutate(src: Buffer, r: () => number): Buffer {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * b.length);
    const kind = Math.floor(r() * 7);
    if (b.length === 0) break;
    if (kind === 0) b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
    else if (kind === 1) b[at] = Math.floor(r() * 256);
    else if (kind === 2) b = b.subarray(0, at);
    else if (kind === 3 && at + 4 <= b.length) {
      const v = ABSURD[Math.floor(r() * ABSURD.length)]!;
      if (r() < 0.5) b.writeUInt32LE(v, at & ~3);
      else b.writeUInt32BE(v, at & ~3);
    } else if (kind === 4) {
      const len = Math.floor(r() * 64);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    } else if (kind === 5) {
      const junk = Buffer.alloc(Math.floor(r() * 16));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(r() * 256);
      b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    } else b = b.subarray(Math.min(at, 24));
  }
  return b;
}

const MODES: PacketTextOptions[] = [
  {},
  { verbose: true },
  { link: true },
  { quick: true },
  { time: 'date', link: true, verbose: true },
  { hex: true },
  { ascii: true },
];

/** Control characters other than the newline and tab that -v/-X/-A use. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** An Ethernet frame of the corpus re-framed for another link type. */
function withLink(eth: Buffer, lt: number): Buffer {
  const type = eth.readUInt16BE(12);
  const ip = eth.subarray(14);
  if (lt === LINKTYPE.LINUX_SLL) {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(6, 4);
    h.writeUInt16BE(type, 14);
    return Buffer.concat([h, ip]);
  }
  if (lt === LINKTYPE.LINUX_SLL2) {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt32BE(1, 4);
    h[11] = 6;
    return Buffer.concat([h, ip]);
  }
  if (lt === LINKTYPE.NULL) return Buffer.concat([Buffer.from([type === 0x86dd ? 10 : 2, 0, 0, 0]), ip]);
  if (lt === LINKTYPE.ETHERNET || lt === 9999) return Buffer.from(eth);
  return Buffer.from(ip);
}

describe('capture fuzz', () => {
  it('20,000 mutated captures: no throw, no hang, bounded memory, no control characters in text', () => {
    const r = rng(0xc0ffee);
    const base = seeds();
    const texts = MODES.map((o) => new PacketText({ ...o, utc: true, maxConversations: 64 }));
    const t0 = Date.now();
    let packets = 0;
    let errors = 0;
    let notes = 0;
    const rssStart = process.memoryUsage().rss;
    for (let i = 0; i < 20000; i++) {
      const input = mutate(base[i % base.length]!, r);
      const reader = new CaptureReader();
      const chunk = 1 + Math.floor(r() * (r() < 0.3 ? 8 : 4096));
      let n = 0;
      for (let o = 0; o < input.length && reader.error === undefined; o += chunk) {
        for (const p of reader.push(input.subarray(o, o + chunk))) {
          packets++;
          if (n++ > 40) continue;
          const m = (i + n) % MODES.length;
          const s = texts[m]!.format(p, reader.interfaces[p.iface]);
          assert.ok(!CONTROL.test(s), `control character in ${JSON.stringify(s)}`);
          if (m === 0 || m === 2 || m === 3) assert.ok(!s.includes('\n') && !s.includes('\t'), s);
          assert.ok(p.data.length <= input.length);
        }
      }
      reader.end();
      if (reader.error !== undefined) {
        errors++;
        assert.ok(!reader.error.includes('\n') && reader.error.length < 200, reader.error);
      }
      notes += reader.notes.length;
      for (const note of reader.notes) assert.ok(!CONTROL.test(note) && !note.includes('\n'), note);
    }
    const ms = Date.now() - t0;
    const grown = process.memoryUsage().rss - rssStart;
    assert.ok(ms < 120_000, `took ${ms} ms`);
    assert.ok(grown < 256 * 1024 * 1024, `rss grew ${grown} bytes`);
    assert.ok(
      packets > 50_000 && errors > 1000 && notes > 1000,
      `${packets} packets, ${errors} errors, ${notes} notes`,
    );
  });

  it('20,000 random and mutated frames through the decoder and text for every link type', () => {
    const r = rng(7);
    const frames = frameCorpus().map((f) => f.bytes);
    const links = [
      LINKTYPE.ETHERNET,
      LINKTYPE.RAW,
      LINKTYPE.LINUX_SLL,
      LINKTYPE.LINUX_SLL2,
      LINKTYPE.NULL,
      LINKTYPE.IPV4,
      LINKTYPE.IPV6,
      12,
      9999,
    ];
    const text = new PacketText({ utc: true, verbose: true, link: true });
    for (let i = 0; i < 20000; i++) {
      const lt = links[i % links.length]!;
      const src = frames[i % frames.length]!;
      let b = withLink(src, lt);
      b = mutate(b, r);
      const d = decodePacket(b, lt);
      assert.ok(d.payloadOffset >= 0 && d.payloadOffset + d.payloadLength <= Math.max(b.length, d.payloadOffset));
      const s = text.format(
        {
          sec: i,
          nsec: 0,
          iface: 0,
          linkType: lt,
          data: b,
          wireLen: b.length,
          direction: 'in',
          proc: { pid: 1, comm: '\x07' },
        },
        undefined,
        d,
      );
      assert.ok(!CONTROL.test(s), JSON.stringify(s));
    }
  });
});
