/** Lines are written every `max` lines within a batch, in order, and nothing is held after flush. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LineBatch } from '../../src/output/line-batch';

describe('LineBatch', () => {
  it('writes every max lines while lines come, the rest at flush, in order, each line once', () => {
    const writes: string[] = [];
    const b = new LineBatch((t) => writes.push(t), 256);
    for (let i = 0; i < 600; i++) b.push(`${i}\n`);
    assert.deepEqual(
      writes.map((w) => w.split('\n').length - 1),
      [256, 256],
    );
    assert.equal(b.size, 88);
    b.flush();
    b.flush();
    assert.equal(writes.length, 3);
    assert.equal(writes.join(''), Array.from({ length: 600 }, (_, i) => `${i}\n`).join(''));
  });
});
