/**
 * Capture files through net/packet-streams into the stream analyzers:
 * a socket-hook capture holds each loopback packet twice (as its sender
 * sent it, as its receiver got it): two sockets' views, each transaction
 * once per side with that socket's times and process, nothing taken for a
 * retransmission; the same exchange from the wire gives both sides without
 * processes; a TC capture's process goes to the end it names; a hole the
 * capture missed breaks the stream (reported, not waited for); only what
 * the kernel would have copied is taken (an HTTP connection, QUIC-like
 * datagrams and a connection seen mid-stream are not DNS).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LINKTYPE, type CaptureInterface, type Packet, type Proc } from '../../src/model/packet';
import { PacketStreams } from '../../src/net/packet-streams';
import type { FlowOutput } from '../../src/net/flow-tracker';
import { DnsTransaction, DnsTransactions } from '../../src/analysis/dns/transactions';
import { TlsHandshakes } from '../../src/analysis/tls/handshakes';
import { ipv4, tcp, udp } from '../helpers/frames';

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
const LO = [127, 0, 0, 1];
const T0 = 1_700_000_000;
const SOCKETS: CaptureInterface = { name: 'sockets', linkType: LINKTYPE.RAW, snaplen: 262144 };
const WIRE: CaptureInterface = { name: 'lo', linkType: LINKTYPE.RAW, snaplen: 262144 };
const DIG: Proc = { pid: 100, tid: 100, uid: 0, comm: 'dig' };
const DNSMASQ: Proc = { pid: 200, tid: 200, uid: 0, comm: 'dnsmasq' };

const u16 = (n: number) => [n >> 8, n & 255];
function nm(name: string): number[] {
  return [...name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
}
const query = (id: number, name: string) => [...u16(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...nm(name), 0, 1, 0, 1];
const answer = (id: number, name: string) => [
  ...u16(id),
  0x85,
  0x80,
  0,
  1,
  0,
  1,
  0,
  0,
  0,
  0,
  ...nm(name),
  0,
  1,
  0,
  1,
  0xc0,
  12,
  0,
  1,
  0,
  1,
  0,
  0,
  0,
  60,
  0,
  4,
  10,
  9,
  8,
  7,
];
const overTcp = (m: number[]) => [...u16(m.length), ...m];

interface Sent {
  /** µs after T0. */
  us: number;
  fromClient: boolean;
  ip: number[];
}

function pkt(us: number, ip: number[], direction: Packet['direction'], proc?: Proc): Packet {
  const data = Buffer.from(ip);
  const p: Packet = {
    sec: T0 + Math.floor(us / 1e6),
    nsec: (us % 1e6) * 1000,
    iface: 0,
    linkType: LINKTYPE.RAW,
    data,
    wireLen: data.length,
    direction,
  };
  if (proc) p.proc = proc;
  return p;
}

/** A TCP DNS exchange between 127.0.0.1:40000 (dig) and 127.0.0.1:5353 (dnsmasq). */
function tcpExchange(id: number, name: string, ports = { c: 40000, s: 5353 }): Sent[] {
  const c = 1000;
  const s = 5000;
  const q = overTcp(query(id, name));
  const a = overTcp(answer(id, name));
  const C = (us: number, flags: number, off: number, data: number[], ackOff: number): Sent => ({
    us,
    fromClient: true,
    ip: ipv4(LO, LO, 6, tcp(ports.c, ports.s, flags, data, { seq: c + 1 + off, ack: s + 1 + ackOff })),
  });
  const S = (us: number, flags: number, off: number, data: number[], ackOff: number): Sent => ({
    us,
    fromClient: false,
    ip: ipv4(LO, LO, 6, tcp(ports.s, ports.c, flags, data, { seq: s + 1 + off, ack: c + 1 + ackOff })),
  });
  return [
    { us: 0, fromClient: true, ip: ipv4(LO, LO, 6, tcp(ports.c, ports.s, SYN, [], { seq: c })) },
    { us: 10, fromClient: false, ip: ipv4(LO, LO, 6, tcp(ports.s, ports.c, SYN | ACK, [], { seq: s, ack: c + 1 })) },
    C(20, ACK, 0, [], 0),
    C(100, PSH | ACK, 0, q, 0),
    S(400, PSH | ACK, 0, a, q.length),
    C(500, FIN | ACK, q.length, [], a.length),
    S(600, FIN | ACK, a.length, [], q.length + 1),
    C(700, ACK, q.length + 1, [], a.length + 1),
  ];
}

/** As a wirelens socket-hook capture has it: each packet as its sender sent it, then (3 µs later) as its receiver got it. */
function asSockets(sent: Sent[]): Packet[] {
  return sent.flatMap((x) => [
    pkt(x.us, x.ip, 'out', x.fromClient ? DIG : DNSMASQ),
    pkt(x.us + 3, x.ip, 'in', x.fromClient ? DNSMASQ : DIG),
  ]);
}

function run(packets: Packet[], iface: CaptureInterface, take: (x: FlowOutput) => void): PacketStreams {
  const ps = new PacketStreams();
  const out: FlowOutput[] = [];
  for (const p of packets) {
    ps.push(p, iface, out);
    for (const x of out) take(x);
    out.length = 0;
  }
  ps.flush(out);
  for (const x of out) take(x);
  return ps;
}

function dns(
  packets: Packet[],
  iface: CaptureInterface,
): { recs: DnsTransaction[]; t: DnsTransactions; ps: PacketStreams } {
  const t = new DnsTransactions({ timeoutNs: 5_000_000_000, classify: true });
  const recs: DnsTransaction[] = [];
  const ps = run(packets, iface, (x) => recs.push(...t.push(x)));
  recs.push(...t.tick(100e9)); // 100 s after the first packet's second (the data's clock)
  return { recs, t, ps };
}

const side = (recs: DnsTransaction[], s: string) => recs.filter((r) => r.side === s);

describe('PacketStreams: socket-hook captures', () => {
  it("each loopback packet twice: two sockets' views, one transaction per side, each socket's times and process", () => {
    const { recs, ps } = dns(asSockets(tcpExchange(7, 'h.test')), SOCKETS);
    assert.equal(
      recs.length,
      2,
      JSON.stringify(recs, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    const [c] = side(recs, 'client');
    const [s] = side(recs, 'server');
    assert.deepEqual(
      [c!.status, c!.qname, c!.proc?.comm, c!.sock.sport, c!.server],
      ['answered', 'h.test', 'dig', 40000, '127.0.0.1:5353'],
    );
    assert.deepEqual([s!.status, s!.proc?.comm, s!.sock.sport, s!.sock.dport], ['answered', 'dnsmasq', 5353, 40000]);
    // dig: query sent at 100 µs, answer received at 403; dnsmasq: query received at 103, answer sent at 400.
    assert.deepEqual([c!.latencyNs, s!.latencyNs], [303_000, 297_000]);
    assert.equal(ps.tracker.stats.retransmitted, 0, 'no copy taken for a retransmission');
    assert.equal(ps.stats.socketPackets, 16);
  });

  it("the same exchange from the wire: both sides, the capture point's times, no process", () => {
    const sent = tcpExchange(8, 'w.test');
    const { recs } = dns(
      sent.map((x) => pkt(x.us, x.ip, 'unknown')),
      WIRE,
    );
    assert.deepEqual(recs.map((r) => [r.side, r.latencyNs, r.proc]).sort(), [
      ['client', 300_000, null],
      ['server', 300_000, null],
    ]);
  });

  it("a TC capture (each packet as it arrives, with its receiver's process): each end's process on its own side", () => {
    const sent = tcpExchange(9, 'tc.test');
    const { recs } = dns(
      sent.map((x) => pkt(x.us, x.ip, 'in', x.fromClient ? DNSMASQ : DIG)),
      WIRE,
    );
    assert.deepEqual(recs.map((r) => `${r.side}/${r.proc?.comm}`).sort(), ['client/dig', 'server/dnsmasq']);
  });

  it('UDP at both sockets: one transaction per side', () => {
    const q = ipv4(LO, LO, 17, udp(40001, 5353, query(10, 'u.test')));
    const a = ipv4(LO, LO, 17, udp(5353, 40001, answer(10, 'u.test')));
    const { recs } = dns(
      asSockets([
        { us: 0, fromClient: true, ip: q },
        { us: 200, fromClient: false, ip: a },
      ]),
      SOCKETS,
    );
    assert.deepEqual(recs.map((r) => `${r.side}/${r.proc?.comm}/${r.latencyNs}`).sort(), [
      'client/dig/203000',
      'server/dnsmasq/197000',
    ]);
  });
});

describe('PacketStreams: what the kernel would not have copied, and holes', () => {
  it('a segment the capture missed: the stream is given up and reported, not waited for', () => {
    const sent = tcpExchange(11, 'hole.test');
    // The query in two segments, the first missing from the capture.
    const q = overTcp(query(11, 'hole.test'));
    const part = (off: number, data: number[]) =>
      ipv4(LO, LO, 6, tcp(40000, 5353, PSH | ACK, data, { seq: 1001 + off, ack: 5001 }));
    const packets = [...sent.slice(0, 3), { us: 100, fromClient: true, ip: part(5, q.slice(5)) }, ...sent.slice(4)];
    const { recs } = dns(
      packets.map((x) => pkt(x.us, x.ip, 'unknown')),
      WIRE,
    );
    const bad = recs.filter((r) => r.status === 'malformed');
    assert.ok(bad.length >= 1, JSON.stringify(recs.map((r) => [r.side, r.status, r.error])));
    assert.ok(bad.every((r) => r.error === 'gap in the TCP stream'));
  });

  it('an HTTP connection, datagrams that are not DNS and a connection seen mid-stream are not taken', () => {
    const http = tcpExchange(12, 'x.test', { c: 40002, s: 8080 }).map((x) => {
      // The same exchange carrying HTTP instead.
      const b = Buffer.from(x.ip);
      return { ...x, ip: [...b] };
    });
    const get = [...Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')];
    http[3] = {
      us: 100,
      fromClient: true,
      ip: ipv4(LO, LO, 6, tcp(40002, 8080, PSH | ACK, get, { seq: 1001, ack: 5001 })),
    };
    const quic = ipv4(LO, LO, 17, udp(40003, 443, [0xc1, 0, 0, 0, 1, 8, ...new Array(40).fill(7)]));
    const mid = tcpExchange(13, 'mid.test', { c: 40004, s: 5353 }).slice(4);
    const { recs, t } = dns(
      [...http.slice(0, 4), { us: 150, fromClient: true, ip: quic }, ...mid].map((x) => pkt(x.us, x.ip, 'unknown')),
      WIRE,
    );
    assert.deepEqual(recs, []);
    assert.equal(t.stats.notDns, 0, 'the datagram was never DNS to the kernel');
    assert.ok(t.messages.streams.stats.notTaken >= 1);
    assert.ok(t.messages.streams.stats.midStream >= 1);
    const tls = new TlsHandshakes({ timeoutNs: 5_000_000_000, classify: true });
    run(
      http.slice(0, 4).map((x) => pkt(x.us, x.ip, 'unknown')),
      WIRE,
      (x) => assert.deepEqual(tls.push(x), []),
    );
    assert.equal(tls.waiting, 0, 'not TLS: never tracked');
  });
});
