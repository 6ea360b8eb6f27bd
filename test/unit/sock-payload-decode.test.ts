/** Decoding struct wl_sp_event records: every field, and records that do not add up are refused. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeSockPayload } from '../../src/events/sock-payload';
import { EV, FLAG, SP, WL_HDR, WL_PROC, WL_SOCK_ID, WL_SP_EVENT } from '../../src/events/layout';

function record(
  payload: Buffer,
  o: { type?: number; kind?: number; dir?: number; flags?: number; cap?: number; hdrFlags?: number; v6?: boolean } = {},
): Buffer {
  const b = Buffer.alloc(WL_SP_EVENT.size + payload.length);
  const f = WL_SP_EVENT.fields;
  b.writeBigUInt64LE(123456789n, f.hdr + WL_HDR.fields.ts_ns);
  b.writeUInt16LE(o.type ?? EV.SOCK_PAYLOAD, f.hdr + WL_HDR.fields.type);
  b.writeUInt16LE(o.hdrFlags ?? 0, f.hdr + WL_HDR.fields.flags);
  b.writeUInt32LE(42, f.proc + WL_PROC.fields.pid);
  b.writeUInt32LE(42, f.proc + WL_PROC.fields.tid);
  b.writeUInt32LE(1000, f.proc + WL_PROC.fields.uid);
  b.write('dig', f.proc + WL_PROC.fields.comm);
  const s = f.sock;
  b.writeUInt32LE(4026531840, s + WL_SOCK_ID.fields.netns);
  b.writeUInt16LE(o.v6 ? 10 : 2, s + WL_SOCK_ID.fields.family);
  b.writeUInt16LE(o.v6 ? 6 : 17, s + WL_SOCK_ID.fields.protocol);
  b.writeUInt16LE(40000, s + WL_SOCK_ID.fields.sport);
  b.writeUInt16LE(53, s + WL_SOCK_ID.fields.dport);
  if (o.v6) {
    b[s + WL_SOCK_ID.fields.saddr + 15] = 1;
    b[s + WL_SOCK_ID.fields.daddr + 15] = 1;
  } else {
    Buffer.from([127, 0, 0, 1]).copy(b, s + WL_SOCK_ID.fields.saddr);
    Buffer.from([127, 0, 0, 53]).copy(b, s + WL_SOCK_ID.fields.daddr);
  }
  b.writeBigUInt64LE(0x1234_5678_9abcn, f.conn);
  b.writeUInt32LE(9000, f.len);
  b.writeUInt32LE(4096, f.off);
  b.writeUInt32LE(77, f.stream);
  b.writeUInt16LE(o.cap ?? payload.length, f.cap);
  b.writeUInt8(o.kind ?? SP.DNS, f.kind);
  b.writeUInt8(o.dir ?? SP.INGRESS, f.dir);
  b.writeUInt8(o.flags ?? 0, f.flags);
  payload.copy(b, WL_SP_EVENT.size);
  return b;
}
const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.length);

describe('decodeSockPayload', () => {
  it('reads every field, and the payload in place', () => {
    const b = record(Buffer.from('abc'));
    const c = decodeSockPayload(view(b), 0, b.length)!;
    assert.equal(c.tsNs, 123456789);
    assert.deepEqual([c.proc!.pid, c.proc!.tid, c.proc!.uid, c.proc!.comm], [42, 42, 1000, 'dig']);
    assert.deepEqual(
      [c.sock.saddr, c.sock.sport, c.sock.daddr, c.sock.dport, c.sock.netns],
      ['127.0.0.1', 40000, '127.0.0.53', 53, 4026531840],
    );
    assert.deepEqual(
      [c.conn, c.kind, c.transport, c.dir, c.len, c.off, c.stream, c.fin, c.rst],
      [0x1234_5678_9abc, 'dns', 'udp', 'ingress', 9000, 4096, 77, false, false],
    );
    assert.equal(Buffer.from(c.bytes).toString(), 'abc');
  });

  it('TLS over TCP and IPv6, egress, FIN and RST, no process', () => {
    const b = record(Buffer.alloc(0), {
      kind: SP.TLS,
      dir: SP.EGRESS,
      flags: SP.F_FIN | SP.F_RST,
      hdrFlags: FLAG.PROC_UNKNOWN,
      v6: true,
    });
    const c = decodeSockPayload(view(b), 0, b.length)!;
    assert.deepEqual(
      [c.kind, c.transport, c.dir, c.fin, c.rst, c.proc, c.sock.saddr],
      ['tls', 'tcp', 'egress', true, true, null, '::1'],
    );
    assert.equal(c.bytes.length, 0);
  });

  it('the copy limit, a cut packet, a listener segment', () => {
    const b = record(Buffer.from('x'), { flags: SP.F_LIMIT | SP.F_CUT | SP.F_LISTENER, v6: true });
    const c = decodeSockPayload(view(b), 0, b.length)!;
    assert.deepEqual([c.limit, c.cut, c.listener, c.fin, c.rst], [true, true, true, false, false]);
    const plain = record(Buffer.from('x'));
    const p = decodeSockPayload(view(plain), 0, plain.length)!;
    assert.deepEqual([p.limit, p.cut, p.listener], [false, false, false]);
  });

  it('refuses other record types, unknown kinds, short records and a cap past the record', () => {
    const ok = record(Buffer.from('abcd'));
    assert.equal(decodeSockPayload(view(ok), 0, WL_SP_EVENT.size - 1), null);
    for (const bad of [
      record(Buffer.from('x'), { type: EV.HTTP_EXCHANGE }),
      record(Buffer.from('x'), { kind: 9 }),
      record(Buffer.from('abcd'), { cap: 5 }),
    ]) {
      assert.equal(decodeSockPayload(view(bad), 0, bad.length), null);
    }
  });
});
