/** Address text, terminal escaping, timestamps, ring-buffer batch splitting. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatAddress, formatEndpoint } from '../../src/text/address';
import { escapeTerminal, latin1Text, wireText } from '../../src/text/sanitize';
import { Clock } from '../../src/output/clock';
import { forEachRecord } from '../../src/kernel/ringbuf';
import { cString, commText } from '../../src/events/record';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('formatAddress (RFC 5952, as inet_ntop writes it)', () => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100000001000100010001', '2001:db8:1:0:1:1:1:1'],
    ['00000000000000000000ffffc0000207', '::ffff:192.0.2.7'],
    ['fe800000000000000000000000000000', 'fe80::'],
    // IPv4-compatible (deprecated): dotted, as glibc's inet_ntop (ss, tcpdump, dig) writes it.
    ['000000000000000000000000c0000207', '::192.0.2.7'],
    ['00000000000000000000000000010002', '::0.1.0.2'],
  ];
  for (const [h, want] of cases) it(`${h} -> ${want}`, () => assert.equal(formatAddress(hex(h)), want));
  it('IPv4', () => assert.equal(formatAddress(Uint8Array.from([127, 0, 0, 1])), '127.0.0.1'));
  it('endpoints bracket IPv6', () => {
    assert.equal(formatEndpoint('::1', 80), '[::1]:80');
    assert.equal(formatEndpoint('10.0.0.1', 80), '10.0.0.1:80');
  });
});

describe('escapeTerminal', () => {
  it('escapes control characters, DEL and C1 by their UTF-8 bytes, keeps backslash', () => {
    assert.equal(escapeTerminal('a\x1b[31mb\x07\x7f\x9b\\'), 'a\\x1b[31mb\\x07\\x7f\\xc2\\x9b\\');
  });
  it('escapes bidirectional overrides', () => assert.equal(escapeTerminal('a\u202eb'), 'a\\xe2\\x80\\xaeb'));
  it('keeps printable text', () => assert.equal(escapeTerminal('nginx: worker café'), 'nginx: worker café'));
  it('is idempotent', () => {
    const once = escapeTerminal('x\x1b\x9b\\y');
    assert.equal(escapeTerminal(once), once);
  });
});

describe('wireText', () => {
  const t = (b: number[] | string) => wireText(typeof b === 'string' ? Buffer.from(b, 'latin1') : Uint8Array.from(b));
  it('decodes valid UTF-8', () => assert.equal(t('/caf\xc3\xa9'), '/café'));
  it('escapes a C1 control written as UTF-8 by its bytes', () => assert.equal(t('a\xc2\x9bb'), 'a\\xc2\\x9bb'));
  it('escapes C0 and DEL', () => assert.equal(t('a\x00\x1b[0m\x7f'), 'a\\x00\\x1b[0m\\x7f'));
  it('escapes each byte of an invalid sequence', () => {
    assert.equal(t('\xff\xfe'), '\\xff\\xfe');
    assert.equal(t('\xc3('), '\\xc3('); // a lead byte without its continuation
    assert.equal(t('\xe0\x80\xaf'), '\\xe0\\x80\\xaf'); // overlong
    assert.equal(t('\xed\xa0\x80'), '\\xed\\xa0\\x80'); // surrogate
    assert.equal(t('\xf4\x90\x80\x80'), '\\xf4\\x90\\x80\\x80'); // above U+10FFFF
    assert.equal(t('\x9b'), '\\x9b'); // a lone C1 byte (latin1 CSI)
  });
  it('keeps four-byte characters and backslash', () => assert.equal(t('\xf0\x9f\x98\x80 /a\\b'), '\u{1f600} /a\\b'));
  it('never lets a control character through (fuzz)', () => {
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      const b = new Uint8Array(1 + (n % 40));
      for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      const s = wireText(b);
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(s), JSON.stringify(s));
      assert.equal(wireText(Buffer.from(s, 'utf8')), s);
      assert.equal(latin1Text(Buffer.from(b).toString('latin1')), s);
    }
  });
});

describe('Clock.iso', () => {
  it('prints microseconds', () => {
    assert.equal(Clock.at(1_700_000_000).iso(123_456_789), '2023-11-14T22:13:20.123456Z');
  });
});

describe('forEachRecord', () => {
  it('splits length-prefixed, 8-aligned records, skips discarded ones, stops at one being written or cut short', () => {
    const rec = (len: number, fill: number, bits = 0) => {
      const b = Buffer.alloc(8 + ((len + 7) & ~7));
      b.writeUInt32LE((len | bits) >>> 0, 0);
      b.fill(fill, 8, 8 + len);
      return b;
    };
    // The kernel's length word: bit 30 once its program discarded the record, bit 31 while it writes it.
    const parts = [rec(3, 1), rec(16, 2), rec(5, 9, 1 << 30), rec(9, 3)];
    const done = parts.reduce((n, b) => n + b.length, 0);
    for (const tail of [rec(4, 7, 0x80000000), Buffer.from([0xe8, 3, 0, 0, 0, 0, 0, 0])]) {
      const batch = Buffer.concat([...parts, tail]);
      const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
      const seen: [number, number, number][] = [];
      const stop = forEachRecord(view, (v, off, len) => seen.push([off, len, v.getUint8(off)]));
      assert.equal(stop, done, 'stops before the record being written, or the one cut short');
      assert.deepEqual(seen, [
        [8, 3, 1],
        [24, 16, 2],
        [64, 9, 3],
      ]);
    }
  });
});

describe('commText', () => {
  it('gives what cString gives for every name, whatever the table remembers (collisions, reuse, bad bytes)', () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const names: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(16);
      const n = Math.floor(rnd() * 16);
      for (let j = 0; j < n; j++) b[j] = rnd() < 0.1 ? Math.floor(rnd() * 256) : 97 + Math.floor(rnd() * 26);
      names.push(b);
    }
    for (let round = 0; round < 3; round++) {
      for (const b of names) {
        const v = new DataView(b.buffer, b.byteOffset, 16);
        assert.equal(commText(v, 0), cString(v, 0, 16));
      }
    }
  });
});
