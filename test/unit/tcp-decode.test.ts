/** decodeTcpEvent over byte fixtures laid out from events.h. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeTcpEvent } from '../../src/events/tcp';
import { WL_HDR, WL_PROC, WL_SOCK_ID, WL_TCP_EVENT } from '../../src/events/layout';

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
  return b;
}

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('decodeTcpEvent', () => {
  it('decodes a close record field by field', () => {
    const r = decodeTcpEvent(view(fixture({ type: 2, flags: 0, family: 2 })), 0, WL_TCP_EVENT.size)!;
    assert.equal(r.event, 'close');
    assert.equal(r.tsNs, 123456789n);
    assert.deepEqual(r.proc, { pid: 4242, tid: 4243, uid: 1000, gid: 0, cgroupId: 0n, comm: 'curl' });
    assert.deepEqual(r.sock, { netns: 4026531840, family: 'ipv4', protocol: 6, saddr: '10.0.0.1', sport: 45678, daddr: '192.0.2.7', dport: 443 });
    assert.equal(r.durationNs, 2_500_000n);
    assert.equal(r.txBytes, 1234n);
    assert.equal(r.rxBytes, 5678n);
    assert.equal(r.direction, 'active');
    assert.equal(r.oldState, 'LAST_ACK');
    assert.equal(r.newState, 'CLOSE');
    assert.equal(r.established, true);
  });

  it('honours flags: unknown process, unknown start, never established; IPv6', () => {
    const r = decodeTcpEvent(view(fixture({ type: 2, flags: 1 | 2 | 4, family: 10, v6: true })), 0, WL_TCP_EVENT.size)!;
    assert.equal(r.proc, null);
    assert.equal(r.durationNs, null);
    assert.equal(r.established, false);
    assert.equal(r.sock.saddr, '2001:db8::1');
    assert.equal(r.sock.daddr, '::1');
  });

  it('rejects short records and unknown types instead of throwing', () => {
    const b = fixture({ type: 2, flags: 0, family: 2 });
    assert.equal(decodeTcpEvent(view(b), 0, 100), null);
    assert.equal(decodeTcpEvent(view(fixture({ type: 99, flags: 0, family: 2 })), 0, WL_TCP_EVENT.size), null);
  });

  it('decodes at an offset inside a batch', () => {
    const batch = Buffer.concat([Buffer.alloc(24, 0xff), fixture({ type: 1, flags: 0, family: 2 })]);
    const r = decodeTcpEvent(view(batch), 24, WL_TCP_EVENT.size)!;
    assert.equal(r.event, 'open');
    assert.equal(r.proc?.pid, 4242);
  });
});
