/**
 * The kernel adapter: socket-payload records as the model's Segments and
 * Datagrams (the socket's view, offsets and ends as the kernel gave them,
 * wall-clock times, one key per connection, a datagram over several
 * records put together once, records whose siblings never come dropped and
 * counted).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Datagram, Segment } from '../../src/model/segment';
import type { ProcInfo, SockInfo } from '../../src/events/record';
import { KernelSegments } from '../../src/sources/kernel/payload-segments';
import { payloadChunk } from '../helpers/payload-chunk';

const NGINX: ProcInfo = { pid: 400, tid: 400, uid: 33, gid: 33, cgroupId: 1, comm: 'nginx' };
const SRV: SockInfo = {
  netns: 9,
  family: 'ipv4',
  protocol: 6,
  saddr: '127.0.0.1',
  sport: 443,
  daddr: '127.0.0.1',
  dport: 50000,
};
const base = { tsNs: 1_000_000_123, proc: NGINX, sock: SRV, kind: 'tls', transport: 'tcp', dir: 'ingress' } as const;

describe('KernelSegments', () => {
  it("a TCP record: the socket's view, its place, its ends, the kernel's time", () => {
    const k = new KernelSegments();
    const s = k.push(
      payloadChunk(Buffer.from('abcd'), base, { conn: 77, stream: 100, off: 4096, len: 4100, fin: true }),
    ) as Segment;
    assert.deepEqual(
      [s.kind, s.conn, s.dir, s.local, s.observer, s.offset, s.len, s.fin, s.end, s.roles, s.netns],
      ['segment', 77, 'c2s', 'server', 'socket', 4196, 4, true, 'fin', 'ports', 9],
    );
    assert.deepEqual(s.key, {
      family: 'ipv4',
      protocol: 'tcp',
      clientAddr: '127.0.0.1',
      clientPort: 50000,
      serverAddr: '127.0.0.1',
      serverPort: 443,
      netns: 9,
    });
    assert.equal(s.tsNs, 1_000_000_123);
    assert.equal(s.proc, NGINX);
    const e = k.push(
      payloadChunk(Buffer.from('x'), base, { conn: 77, dir: 'egress', limit: true, cut: true }),
    ) as Segment;
    assert.deepEqual([e.dir, e.end], ['s2c', 'cut']);
    assert.equal(e.key, s.key, 'one key per connection');
    const l = k.push(payloadChunk(Buffer.from('x'), base, { conn: 78, listener: true, rst: true })) as Segment;
    assert.deepEqual([l.listener, l.end, l.rst], [true, 'rst', true]);
  });

  it('a datagram over three records, others between: one Datagram once whole; lone records expire, counted', () => {
    const k = new KernelSegments();
    const big = Buffer.alloc(9000, 7);
    const u = { ...base, transport: 'udp', sock: { ...SRV, protocol: 17, sport: 5353 } } as const;
    const part = (off: number, tsNs = 5) =>
      payloadChunk(big.subarray(off, off + 4096), { ...u, tsNs }, { conn: 3, off, len: big.length });
    assert.equal(k.push(part(8192)), undefined);
    assert.equal((k.push(payloadChunk(Buffer.from('q'), u, { conn: 4 })) as Datagram).len, 1);
    assert.equal(k.push(part(0)), undefined);
    const d = k.push(part(4096)) as Datagram;
    assert.deepEqual([d.kind, d.len, d.bytes.length, d.conn, d.dir], ['datagram', 9000, 9000, 3, 'c2s']);
    assert.equal(k.push(part(0, 10)), undefined);
    k.expire(10 + 999_999_999);
    assert.equal(k.stats.partialDatagrams, 0);
    k.expire(10 + 1_000_000_000);
    assert.equal(k.stats.partialDatagrams, 1);
  });
});
