/** Address text, terminal escaping, timestamps, ring-buffer batch splitting. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatAddress, formatEndpoint } from '../../src/output/address';
import { escapeTerminal } from '../../src/output/sanitize';
import { isoMicros } from '../../src/output/clock';
import { forEachRecord } from '../../src/kernel/ringbuf';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('formatAddress (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100000001000100010001', '2001:db8:1:0:1:1:1:1'],
    ['00000000000000000000ffffc0000207', '::ffff:192.0.2.7'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [h, want] of cases) it(`${h} -> ${want}`, () => assert.equal(formatAddress(hex(h)), want));
  it('IPv4', () => assert.equal(formatAddress(Uint8Array.from([127, 0, 0, 1])), '127.0.0.1'));
  it('endpoints bracket IPv6', () => {
    assert.equal(formatEndpoint('::1', 80), '[::1]:80');
    assert.equal(formatEndpoint('10.0.0.1', 80), '10.0.0.1:80');
  });
});

describe('escapeTerminal', () => {
  it('escapes control characters, DEL, C1 and backslash', () => {
    assert.equal(escapeTerminal('a\x1b[31mb\x07\x7f\x9b\\'), 'a\\x1b[31mb\\x07\\x7f\\x9b\\\\');
  });
  it('keeps printable text', () => assert.equal(escapeTerminal('nginx: worker'), 'nginx: worker'));
});

describe('isoMicros', () => {
  it('prints microseconds', () => {
    assert.equal(isoMicros(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456Z');
  });
});

describe('forEachRecord', () => {
  it('splits a batch of length-prefixed, 8-aligned records and stops at a torn tail', () => {
    const rec = (len: number, fill: number) => {
      const b = Buffer.alloc(8 + ((len + 7) & ~7));
      b.writeUInt32LE(len, 0);
      b.fill(fill, 8, 8 + len);
      return b;
    };
    const torn = Buffer.alloc(8);
    torn.writeUInt32LE(1000, 0);
    const batch = Buffer.concat([rec(3, 1), rec(16, 2), rec(9, 3), torn]);
    const seen: [number, number, number][] = [];
    const n = forEachRecord(batch, (v, off, len) => seen.push([off, len, v.getUint8(off)]));
    assert.equal(n, 3);
    assert.deepEqual(seen, [
      [8, 3, 1],
      [24, 16, 2],
      [48, 9, 3],
    ]);
  });
});
