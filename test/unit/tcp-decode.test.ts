/** decodeTcpEvent over byte fixtures laid out from events.h. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeTcpEvent } from '../../src/events/tcp';
import { WL_HDR, WL_PROC, WL_SOCK_ID, WL_TCP_EVENT, WL_TCP_HEALTH, WL_TCP_NOTE } from '../../src/events/layout';
import { parseEvents } from '../../src/cli/tcp';

function fixture(o: { type: number; flags: number; family: number; v6?: boolean }): Buffer {
  const b = Buffer.alloc(WL_TCP_EVENT.size);
  const f = WL_TCP_EVENT.fields;
  b.writeBigUInt64LE(123456789n, f.hdr + WL_HDR.fields.ts_ns);
  b.writeUInt16LE(o.type, f.hdr + WL_HDR.fields.type);
  b.writeUInt16LE(o.flags, f.hdr + WL_HDR.fields.flags);
  b.writeUInt32LE(4242, f.proc + WL_PROC.fields.pid);
  b.writeUInt32LE(4243, f.proc + WL_PROC.fields.tid);
  b.writeUInt32LE(1000, f.proc + WL_PROC.fields.uid);
  b.write('curl\0garbage', f.proc + WL_PROC.fields.comm, 'latin1');
  const s = f.sock;
  b.writeUInt32LE(4026531840, s + WL_SOCK_ID.fields.netns);
  b.writeUInt16LE(o.family, s + WL_SOCK_ID.fields.family);
  b.writeUInt16LE(6, s + WL_SOCK_ID.fields.protocol);
  b.writeUInt16LE(45678, s + WL_SOCK_ID.fields.sport);
  b.writeUInt16LE(443, s + WL_SOCK_ID.fields.dport);
  if (o.v6) {
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(b, s + WL_SOCK_ID.fields.saddr);
    Buffer.from('00000000000000000000000000000001', 'hex').copy(b, s + WL_SOCK_ID.fields.daddr);
  } else {
    Buffer.from([10, 0, 0, 1]).copy(b, s + WL_SOCK_ID.fields.saddr);
    Buffer.from([192, 0, 2, 7]).copy(b, s + WL_SOCK_ID.fields.daddr);
  }
  b.writeBigUInt64LE(2_500_000n, f.duration_ns);
  b.writeBigUInt64LE(1234n, f.tx_bytes);
  b.writeBigUInt64LE(5678n, f.rx_bytes);
  b.writeUInt8(1, f.direction);
  b.writeUInt8(9, f.oldstate);
  b.writeUInt8(7, f.newstate);
  b.writeUInt32LE(50_123, f.health + WL_TCP_HEALTH.fields.srtt_us);
  b.writeUInt32LE(50_001, f.health + WL_TCP_HEALTH.fields.min_rtt_us);
  b.writeUInt32LE(12, f.health + WL_TCP_HEALTH.fields.retrans);
  b.writeUInt32LE(9, f.health + WL_TCP_HEALTH.fields.lost);
  b.writeUInt32LE(10, f.health + WL_TCP_HEALTH.fields.cwnd);
  return b;
}

/** A wl_tcp_note: the first 104 bytes (hdr, proc, sock) as a tcp event's. */
function note(kind: number, o: { reason?: number; hasSock?: boolean; state?: number; flags?: number }): Buffer {
  const b = Buffer.alloc(WL_TCP_NOTE.size);
  fixture({ type: 5, flags: o.flags ?? 0, family: 2 }).copy(b, 0, 0, WL_TCP_NOTE.fields.health);
  const f = WL_TCP_NOTE.fields;
  if (o.hasSock) {
    b.writeUInt32LE(50_123, f.health + WL_TCP_HEALTH.fields.srtt_us);
    b.writeUInt32LE(3, f.health + WL_TCP_HEALTH.fields.retrans);
  }
  b.writeUInt32LE(o.reason ?? 0, f.reason);
  b.writeUInt16LE(kind === 1 ? 3 : 0, f.segs);
  b.writeUInt8(kind, f.kind);
  b.writeUInt8(o.state ?? 0, f.state);
  b.writeUInt8(o.hasSock ? 1 : 0, f.has_sock);
  return b;
}

const names = (n: number): string => (n === 3 ? 'NO_SOCKET' : `REASON_${n}`);

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('decodeTcpEvent', () => {
  it('decodes a close record field by field', () => {
    const r = decodeTcpEvent(view(fixture({ type: 2, flags: 0, family: 2 })), 0, WL_TCP_EVENT.size, names)!;
    assert.equal(r.event, 'close');
    assert.equal(r.tsNs, 123456789);
    assert.deepEqual(r.proc, { pid: 4242, tid: 4243, uid: 1000, gid: 0, cgroupId: 0, comm: 'curl' });
    assert.deepEqual(r.sock, {
      netns: 4026531840,
      family: 'ipv4',
      protocol: 6,
      saddr: '10.0.0.1',
      sport: 45678,
      daddr: '192.0.2.7',
      dport: 443,
    });
    assert.equal(r.durationNs, 2_500_000);
    assert.equal(r.txBytes, 1234);
    assert.equal(r.rxBytes, 5678);
    assert.equal(r.direction, 'active');
    assert.equal(r.oldState, 'LAST_ACK');
    assert.equal(r.newState, 'CLOSE');
    assert.equal(r.established, true);
    assert.deepEqual(r.health, { srttUs: 50_123, minRttUs: 50_001, retrans: 12, lost: 9, cwnd: 10 });
  });

  it('decodes health notes: retransmit with the socket, a drop with its reason name, resets each way', () => {
    const rt = decodeTcpEvent(view(note(1, { hasSock: true, state: 1 })), 0, WL_TCP_NOTE.size, names)!;
    assert.equal(rt.event, 'retransmit');
    assert.equal(rt.state, 'ESTABLISHED');
    assert.equal(rt.health?.srttUs, 50_123);
    assert.equal(rt.health?.retrans, 3);
    assert.equal(rt.segments, 3);
    assert.equal(rt.proc?.comm, 'curl');
    const drop = decodeTcpEvent(view(note(4, { reason: 3, flags: 1 })), 0, WL_TCP_NOTE.size, names)!;
    assert.equal(drop.event, 'drop');
    assert.equal(drop.reason, 'NO_SOCKET');
    assert.equal(drop.proc, null);
    assert.equal(drop.health, null);
    assert.equal(drop.state, null);
    assert.equal(decodeTcpEvent(view(note(2, {})), 0, WL_TCP_NOTE.size, names)!.resetDirection, 'sent');
    assert.equal(
      decodeTcpEvent(view(note(3, { hasSock: true })), 0, WL_TCP_NOTE.size, names)!.resetDirection,
      'received',
    );
    assert.equal(decodeTcpEvent(view(note(9, {})), 0, WL_TCP_NOTE.size, names), null, 'unknown kind');
    assert.equal(decodeTcpEvent(view(note(1, {})), 0, WL_TCP_NOTE.size - 1, names), null, 'short');
  });

  it('--events takes a list, "all", and refuses nonsense', () => {
    assert.deepEqual([...parseEvents(undefined)], ['open', 'close']);
    assert.deepEqual([...parseEvents(['retransmit', 'drop'])], ['retransmit', 'drop']);
    assert.equal(parseEvents(['all']).size, 6);
    assert.throws(() => parseEvents(['open', 'bogus']), /unknown event "bogus"/);
  });

  it('honours flags: unknown process, unknown start, never established; IPv6', () => {
    const r = decodeTcpEvent(
      view(fixture({ type: 2, flags: 1 | 2 | 4, family: 10, v6: true })),
      0,
      WL_TCP_EVENT.size,
      names,
    )!;
    assert.equal(r.proc, null);
    assert.equal(r.durationNs, null);
    assert.equal(r.established, false);
    assert.equal(r.sock.saddr, '2001:db8::1');
    assert.equal(r.sock.daddr, '::1');
  });

  it('rejects short records and unknown types instead of throwing', () => {
    const b = fixture({ type: 2, flags: 0, family: 2 });
    assert.equal(decodeTcpEvent(view(b), 0, 100, names), null);
    assert.equal(decodeTcpEvent(view(fixture({ type: 99, flags: 0, family: 2 })), 0, WL_TCP_EVENT.size, names), null);
  });

  it('decodes at an offset inside a batch', () => {
    const batch = Buffer.concat([Buffer.alloc(24, 0xff), fixture({ type: 1, flags: 0, family: 2 })]);
    const r = decodeTcpEvent(view(batch), 24, WL_TCP_EVENT.size, names)!;
    assert.equal(r.event, 'open');
    assert.equal(r.proc?.pid, 4242);
  });
});
