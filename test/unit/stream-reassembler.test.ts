/** Putting a TCP direction back in order: duplicates, overlaps, segments ahead of a gap, the bound. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { StreamReassembler } from '../../src/analysis/streams/reassembler';

const b = (s: string) => Buffer.from(s);
const text = (parts: Uint8Array[]) => parts.map((p) => Buffer.from(p).toString()).join('');

describe('StreamReassembler', () => {
  it('in-order segments come straight through', () => {
    const r = new StreamReassembler();
    assert.equal(text(r.push(0, b('abc'))), 'abc');
    assert.equal(text(r.push(3, b('def'))), 'def');
    assert.equal(r.delivered, 6);
  });

  it('retransmissions and overlaps give only the new bytes', () => {
    const r = new StreamReassembler();
    r.push(0, b('abcd'));
    assert.equal(text(r.push(0, b('abcd'))), '');
    assert.equal(text(r.push(2, b('cdef'))), 'ef');
    assert.equal(text(r.push(1, b('b'))), '');
  });

  it('a segment ahead of a gap waits, and is copied (the caller reuses its buffer)', () => {
    const r = new StreamReassembler();
    const later = b('def');
    assert.equal(text(r.push(3, later)), '');
    later.fill(0x78);
    assert.equal(text(r.push(6, b('ghi'))), '');
    assert.equal(text(r.push(0, b('abc'))), 'abcdefghi');
    assert.equal(r.delivered, 9);
  });

  it('held segments that overlap each other are cut', () => {
    const r = new StreamReassembler();
    r.push(4, b('efgh'));
    r.push(2, b('cdef'));
    assert.equal(text(r.push(0, b('ab'))), 'abcdefgh');
  });

  it('more held than the bound: the gap is given up and nothing more comes', () => {
    const r = new StreamReassembler(8);
    r.push(10, b('12345'));
    r.push(20, b('6789'));
    assert.equal(r.broken, true);
    assert.deepEqual(r.push(0, b('0123456789')), []);
  });

  it('a direction taken up again starts at its place; what waits ahead of a gap is counted', () => {
    const r = new StreamReassembler(64, 1000);
    assert.equal(text(r.push(0, b('old'))), '');
    assert.equal(text(r.push(1003, b('def'))), '');
    assert.deepEqual([r.heldBytes, r.gap], [3, true]);
    assert.equal(text(r.push(1000, b('abc'))), 'abcdef');
    assert.deepEqual([r.heldBytes, r.gap, r.delivered], [0, false, 1006]);
    r.push(2000, b('x'));
    r.break();
    assert.deepEqual([r.broken, r.heldBytes], [true, 0]);
  });

  it('empty segments change nothing', () => {
    const r = new StreamReassembler();
    assert.deepEqual(r.push(0, new Uint8Array(0)), []);
    assert.equal(r.delivered, 0);
  });
});
