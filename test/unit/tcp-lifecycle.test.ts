/**
 * `wirelens tcp` records from packets: a connection seen whole (an open and
 * a close from each end, lifetimes from the SYN, payload bytes without the
 * SYN and FIN), a refused connection (the client's close `failed`, the
 * resets), a retransmission (on its sender), a connection seen mid-stream
 * (no open, lifetime unknown), and a socket-hook capture (one socket's
 * view, its process).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LINKTYPE, type CaptureInterface, type Packet, type Proc } from '../../src/model/packet';
import { PacketStreams, type TcpNote } from '../../src/net/packet-streams';
import type { FlowOutput } from '../../src/net/flow-tracker';
import { TcpLifecycle } from '../../src/analysis/tcp/lifecycle';
import type { TcpEventKind, TcpRecord } from '../../src/events/tcp';
import { ipv4, tcp } from '../helpers/frames';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const C = [10, 0, 0, 1];
const S = [10, 0, 0, 2];
const T0 = 1_700_000_000;
const WIRE: CaptureInterface = { name: 'eth0', linkType: LINKTYPE.RAW, snaplen: 65535 };
const SOCKETS: CaptureInterface = { name: 'sockets', linkType: LINKTYPE.RAW, snaplen: 65535 };
const CURL: Proc = { pid: 300, tid: 300, uid: 0, comm: 'curl' };
const ALL: ReadonlySet<TcpEventKind> = new Set(['open', 'close', 'retransmit', 'reset']);

function pkt(
  ms: number,
  fromClient: boolean,
  flags: number,
  seq: number,
  ack: number,
  data = '',
  dir: Packet['direction'] = 'unknown',
): Packet {
  const seg = tcp(fromClient ? 40000 : 80, fromClient ? 80 : 40000, flags, [...Buffer.from(data)], { seq, ack });
  const ip = fromClient ? ipv4(C, S, 6, seg) : ipv4(S, C, 6, seg);
  const p: Packet = {
    sec: T0 + Math.floor(ms / 1000),
    nsec: (ms % 1000) * 1e6,
    iface: 0,
    linkType: LINKTYPE.RAW,
    data: Buffer.from(ip),
    wireLen: ip.length,
    direction: dir,
  };
  return p;
}

function records(packets: Packet[], iface = WIRE, events = ALL): TcpRecord[] {
  const ps = new PacketStreams({ tcpNotes: true });
  const life = new TcpLifecycle({ events });
  const out: FlowOutput[] = [];
  const notes: TcpNote[] = [];
  const recs: TcpRecord[] = [];
  for (const p of packets) {
    ps.push(p, iface, out, notes);
    for (const n of notes) life.push(n, recs);
    notes.length = 0;
  }
  return recs;
}

const summary = (r: TcpRecord) =>
  `${r.event}/${r.direction}/${r.sock.sport}>${r.sock.dport}` +
  (r.event === 'close'
    ? `/${r.durationNs === null ? '-' : Number(r.durationNs) / 1e6}ms/${r.txBytes}/${r.rxBytes}/${r.established}`
    : '') +
  (r.event === 'reset' ? `/${r.resetDirection}` : '');

/** SYN at 0 ms, SYN-ACK 1, ACK 2, request (10 bytes) 3, response (25 bytes) 5, FINs 8 and 9, last ACK 10. */
function whole(): Packet[] {
  return [
    pkt(0, true, SYN, 1000, 0),
    pkt(1, false, SYN | ACK, 5000, 1001),
    pkt(2, true, ACK, 1001, 5001),
    pkt(3, true, PSH | ACK, 1001, 5001, 'GET /x\r\n\r\n'),
    pkt(5, false, PSH | ACK, 5001, 1011, 'HTTP/1.0 200 OK\r\n\r\nhello'),
    pkt(8, true, FIN | ACK, 1011, 5026),
    pkt(9, false, FIN | ACK, 5026, 1012),
    pkt(10, true, ACK, 1012, 5027),
  ];
}

describe('TcpLifecycle', () => {
  it('a connection seen whole: an open and a close from each end, lifetimes from the SYN, payload bytes', () => {
    assert.deepEqual(records(whole()).map(summary), [
      'open/active/40000>80',
      'open/passive/80>40000',
      'close/active/40000>80/9ms/10/25/true',
      'close/passive/80>40000/10ms/25/10/true',
    ]);
  });

  it('a refused connection: the client closes failed; the reset sent by the server end, received by the client', () => {
    const recs = records([pkt(0, true, SYN, 1000, 0), pkt(1, false, RST | ACK, 0, 1001)]);
    assert.deepEqual(recs.map(summary), [
      'reset/unknown/80>40000/sent',
      'reset/unknown/40000>80/received',
      'close/active/40000>80/1ms/0/0/false',
    ]);
    assert.equal(recs[0]!.state, null, 'no socket at the server end');
    assert.equal(recs[1]!.state, 'SYN_SENT');
  });

  it("a retransmission: a retransmit record on its sender's side, the bytes counted once", () => {
    const p = whole();
    const again = pkt(4, true, PSH | ACK, 1001, 5001, 'GET /x\r\n\r\n');
    const recs = records([...p.slice(0, 4), again, ...p.slice(4)]);
    const rt = recs.filter((r) => r.event === 'retransmit');
    assert.deepEqual(
      rt.map((r) => [r.sock.sport, r.state, r.segments]),
      [[40000, 'ESTABLISHED', 1]],
    );
    assert.ok(recs.some((r) => summary(r) === 'close/active/40000>80/9ms/10/25/true'));
    assert.deepEqual(
      records([...p.slice(0, 4), again], WIRE, new Set(['open'])).map((r) => r.event),
      ['open', 'open'],
    );
  });

  it('a connection seen mid-stream: no open, closes with the lifetime unknown', () => {
    const recs = records(whole().slice(4));
    assert.deepEqual(recs.map(summary), [
      'close/active/40000>80/-ms/0/25/true',
      'close/passive/80>40000/-ms/25/0/true',
    ]);
  });

  it("a socket-hook capture: the local socket's view only, with its process", () => {
    const p = whole().map((x, i) => ({
      ...x,
      direction: (i === 1 || i === 4 || i === 6 ? 'in' : 'out') as 'in' | 'out',
      proc: CURL,
    }));
    const recs = records(p, SOCKETS);
    assert.deepEqual(recs.map(summary), ['open/active/40000>80', 'close/active/40000>80/9ms/10/25/true']);
    assert.ok(recs.every((r) => r.proc === CURL));
  });
});
