/** Segments a listener saw, joined to the connection it made (by namespace and ends), or on their own. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ListenerJoin } from '../../src/analysis/streams/listener-join';
import { SockInfo } from '../../src/events/record';
import type { Segment } from '../../src/model/segment';
import { KernelSegments } from '../../src/sources/kernel/payload-segments';
import { payloadChunk } from '../helpers/payload-chunk';
type ChunkFields = Parameters<typeof payloadChunk>[2];

const SOCK: SockInfo = {
  netns: 7,
  family: 'ipv4',
  protocol: 6,
  saddr: '10.0.0.2',
  sport: 53,
  daddr: '10.0.0.1',
  dport: 40000,
};
/** A kernel record, as the Segment the kernel adapter makes of it (SOCK is the server's: ingress is c2s). */
function chunk(o: NonNullable<ChunkFields>): Segment {
  const base = { tsNs: 1000, proc: null, sock: SOCK, kind: 'dns', transport: 'tcp', dir: 'ingress' } as const;
  return new KernelSegments().push(payloadChunk(o.bytes ?? Buffer.from('abc'), base, o)) as Segment;
}

describe('ListenerJoin', () => {
  it("the listener's chunks come first, under the connection's cookie, copied", () => {
    const j = new ListenerJoin(5_000_000_000);
    const ring = Buffer.from('query');
    assert.deepEqual(j.push(chunk({ conn: 9, listener: true, bytes: ring })), []);
    ring.fill(0);
    const child = chunk({ conn: 42, dir: 'egress', bytes: Buffer.from('answer') });
    const out = j.push(child);
    assert.deepEqual(
      out.map((c) => [c.conn, c.dir, c.listener ?? false, Buffer.from(c.bytes).toString()]),
      [
        [42, 'c2s', false, 'query'],
        [42, 's2c', false, 'answer'],
      ],
    );
    assert.equal(j.stats.joined, 1);
    assert.deepEqual(j.push(child), [child], 'joined once');
  });

  it('another namespace or other ends do not join', () => {
    const j = new ListenerJoin(5_000_000_000);
    j.push(chunk({ conn: 9, listener: true }));
    for (const sock of [
      { ...SOCK, netns: 8 },
      { ...SOCK, dport: 40001 },
      { ...SOCK, daddr: '10.0.0.3' },
    ]) {
      const c = chunk({ conn: 43, sock });
      assert.deepEqual(j.push(c), [c]);
    }
    const own = chunk({ conn: 44, sock: { ...SOCK, dport: 40002 } });
    assert.deepEqual(j.push(own), [own]);
  });

  it('no connection within the wait: on their own, under a cookie no socket has; the bounds push the oldest out the same way', () => {
    const j = new ListenerJoin(1000, 2);
    j.push(chunk({ tsNs: 1000, listener: true }));
    assert.deepEqual(j.expire(1999), []);
    const alone = j.expire(2000);
    assert.equal(alone.length, 1);
    assert.ok(alone[0]!.conn < 0, 'an id no socket has');
    assert.equal(j.stats.alone, 1);
    for (const dport of [1, 2]) j.push(chunk({ tsNs: 3000, listener: true, sock: { ...SOCK, dport } }));
    const pushed = j.push(chunk({ tsNs: 3000, listener: true, sock: { ...SOCK, dport: 3 } }));
    assert.deepEqual(
      pushed.map((c) => (c.local === 'server' ? c.key.clientPort : c.key.serverPort)),
      [1],
    );
    assert.notEqual(pushed[0]!.conn, alone[0]!.conn);
  });
});
