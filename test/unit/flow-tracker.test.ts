/**
 * The user-space TCP flow tracker from crafted packet sequences: retransmit,
 * overlap, out of order, gap (bound, budget, timeout), FIN before a gap,
 * RST, SYN data, a capture starting mid-connection, 32-bit sequence wrap,
 * the flow table's bound, IPv6, UDP; then a fuzz: reorderings and
 * duplications of real and long streams give back the bytes exactly.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { LINKTYPE, type Packet } from '../../src/model/packet';
import type { Segment } from '../../src/model/segment';
import { decodePacket } from '../../src/net/decode';
import { FlowTracker, looksLikeServerPort, type FlowOutput, type FlowTrackerOptions } from '../../src/net/flow-tracker';
import { readCaptureFile } from '../../src/sources/pcap/capture-reader';
import { collectStreams, only } from '../helpers/flow-streams';
import { ipv4, ipv6, tcp, udp } from '../helpers/frames';
import { FIXTURES } from '../helpers/paths';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const C4 = [10, 0, 0, 1];
const S4 = [10, 0, 0, 2];
const C6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const S6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const T0 = 1_700_000_000;

function packetAt(ms: number, ip: number[]): Packet {
  const data = Buffer.from(ip);
  return {
    sec: T0 + Math.floor(ms / 1000),
    nsec: (ms % 1000) * 1e6,
    iface: 0,
    linkType: LINKTYPE.RAW,
    data,
    wireLen: data.length,
    direction: 'unknown',
  };
}

interface ConnOpts {
  cisn?: number;
  sisn?: number;
  cport?: number;
  sport?: number;
  v6?: boolean;
}

/** A crafted connection: client and server packets with sequence numbers relative to each ISN + 1. */
class Conn {
  ms = 0;
  readonly cisn: number;
  readonly sisn: number;
  readonly cport: number;
  readonly sport: number;
  readonly v6: boolean;
  constructor(o: ConnOpts = {}) {
    this.cisn = o.cisn ?? 1000;
    this.sisn = o.sisn ?? 5000;
    this.cport = o.cport ?? 40000;
    this.sport = o.sport ?? 80;
    this.v6 = o.v6 ?? false;
  }
  private ip(fromClient: boolean, seg: number[]): number[] {
    const [a, b] = this.v6 ? (fromClient ? [C6, S6] : [S6, C6]) : fromClient ? [C4, S4] : [S4, C4];
    return this.v6 ? ipv6(a!, b!, 6, seg) : ipv4(a!, b!, 6, seg);
  }
  private at(): number {
    return this.ms++;
  }
  /** Client to server: seq = ISN + 1 + off, ack = the server's ISN + 1 + ackOff. */
  c(flags: number, off: number, data = '', ackOff = 0): Packet {
    const seg = tcp(this.cport, this.sport, flags, [...Buffer.from(data, 'latin1')], {
      seq: (this.cisn + 1 + off) >>> 0,
      ack: (this.sisn + 1 + ackOff) >>> 0,
    });
    return packetAt(this.at(), this.ip(true, seg));
  }
  s(flags: number, off: number, data = '', ackOff = 0): Packet {
    const seg = tcp(this.sport, this.cport, flags, [...Buffer.from(data, 'latin1')], {
      seq: (this.sisn + 1 + off) >>> 0,
      ack: (this.cisn + 1 + ackOff) >>> 0,
    });
    return packetAt(this.at(), this.ip(false, seg));
  }
  syn(data = ''): Packet {
    const seg = tcp(this.cport, this.sport, SYN, [...Buffer.from(data, 'latin1')], { seq: this.cisn, ack: 0 });
    return packetAt(this.at(), this.ip(true, seg));
  }
  synack(ackOff = 0): Packet {
    const seg = tcp(this.sport, this.cport, SYN | ACK, [], { seq: this.sisn, ack: (this.cisn + 1 + ackOff) >>> 0 });
    return packetAt(this.at(), this.ip(false, seg));
  }
  handshake(): Packet[] {
    return [this.syn(), this.synack(), this.c(ACK, 0)];
  }
}

function feed(tr: FlowTracker, pkts: Packet[], flush = true): FlowOutput[] {
  const out: FlowOutput[] = [];
  for (const p of pkts) tr.push(p, out);
  if (flush) tr.flush(out);
  return out;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const segs = (outs: FlowOutput[]) => outs.filter((o): o is Segment => o.kind === 'segment');

describe('FlowTracker: a connection seen whole', () => {
  it('numbers each direction from its SYN, names client and server, ends on FINs', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(
      tr,
      [
        ...k.handshake(),
        k.c(PSH | ACK, 0, 'GET / HTTP/1.1\r\n\r\n'),
        k.s(ACK, 0, '', 18),
        k.s(PSH | ACK, 0, 'HTTP/1.1 200 OK\r\n', 18),
        k.s(PSH | ACK, 17, 'Content-Length: 0\r\n\r\n', 18),
        k.c(FIN | ACK, 18, '', 38),
        k.s(FIN | ACK, 38, '', 19),
        k.c(ACK, 19, '', 39),
      ],
      false,
    );
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    const s2c = only(m, 's2c');
    assert.equal(text(c2s.bytes), 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(text(s2c.bytes), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual([c2s.end, s2c.end, c2s.midStream, s2c.midStream], ['fin', 'fin', false, false]);
    const first = c2s.segments[0]!;
    assert.deepEqual(first.key, {
      family: 'ipv4',
      protocol: 'tcp',
      clientAddr: '10.0.0.1',
      clientPort: 40000,
      serverAddr: '10.0.0.2',
      serverPort: 80,
    });
    assert.equal(first.roles, 'handshake');
    assert.equal(first.observer, 'wire');
    assert.equal(first.offset, 0);
    assert.equal(first.key, s2c.segments[0]!.key, 'one key object per connection');
    // The data's clock: ns since the first packet's second.
    assert.deepEqual([tr.time.sec, first.tsNs], [T0, 3e6]);
    // Both FINs delivered: nothing left for flush to end.
    assert.deepEqual(tr.flush(), []);
    assert.deepEqual([tr.stats.flows, tr.stats.segments, tr.stats.gaps, tr.stats.retransmitted], [1, 5, 0, 0]);
  });

  it('IPv6: the same, with RFC 5952 addresses', () => {
    const k = new Conn({ v6: true, sport: 443, cport: 51000 });
    const outs = feed(new FlowTracker(), [
      ...k.handshake(),
      k.c(ACK, 0, 'hello'),
      k.s(ACK, 0, 'world', 5),
      k.c(FIN | ACK, 5, '', 5),
      k.s(FIN | ACK, 5, '', 6),
    ]);
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    assert.equal(text(c2s.bytes), 'hello');
    assert.equal(text(only(m, 's2c').bytes), 'world');
    assert.deepEqual(
      [c2s.key.family, c2s.key.clientAddr, c2s.key.clientPort, c2s.key.serverAddr, c2s.key.serverPort],
      ['ipv6', '2001:db8::1', 51000, '2001:db8::2', 443],
    );
    assert.deepEqual([c2s.end, only(m, 's2c').end], ['fin', 'fin']);
  });
});

describe('FlowTracker: retransmissions and overlaps', () => {
  it('a segment sent again whole is dropped and counted', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 0, 'abcd'), k.c(ACK, 0, 'abcd'), k.c(ACK, 4, 'ef')]);
    assert.equal(text(only(collectStreams(outs), 'c2s').bytes), 'abcdef');
    assert.deepEqual([tr.stats.retransmitted, tr.stats.retransmittedBytes], [1, 4]);
  });

  it('a segment overlapping what came is trimmed to its new bytes', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 0, 'hello'), k.c(ACK, 3, 'lo world'), k.c(ACK, 1, 'ell')]);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.equal(text(c2s.bytes), 'hello world');
    assert.deepEqual(
      c2s.segments.map((s) => [s.offset, s.len]),
      [
        [0, 5],
        [5, 6],
        [11, 0],
      ],
    );
    assert.deepEqual([tr.stats.trimmed, tr.stats.trimmedBytes, tr.stats.retransmitted], [1, 2, 1]);
  });

  it('held segments that overlap each other come out once; one inside a held one is not kept', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 6, 'ghijkl'), k.c(ACK, 4, 'efghij')], false);
    assert.equal(tr.heldBytes, 12);
    feed(tr, [k.c(ACK, 6, 'ghij')], false);
    assert.deepEqual([tr.heldBytes, tr.stats.retransmitted], [12, 1]);
    outs.push(...feed(tr, [k.c(ACK, 0, 'abcdef')]));
    assert.equal(text(only(collectStreams(outs), 'c2s').bytes), 'abcdefghijkl');
    assert.deepEqual([tr.stats.gaps, tr.stats.trimmed, tr.stats.trimmedBytes], [0, 2, 6]);
  });

  it('a FIN sent again with the last data ends the direction where the data ended', () => {
    const k = new Conn();
    const outs = feed(new FlowTracker(), [...k.handshake(), k.c(ACK, 0, 'last'), k.c(FIN | ACK, 0, 'last')], false);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.equal(text(c2s.bytes), 'last');
    assert.deepEqual(
      c2s.segments.map((s) => [s.offset, s.len, s.fin, s.end]),
      [
        [0, 4, false, undefined],
        [4, 0, true, 'fin'],
      ],
    );
  });
});

describe('FlowTracker: out of order and gaps', () => {
  it('segments past a hole wait and come out in order when it fills, at the filling time', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 6, 'ghi'), k.c(ACK, 3, 'def'), k.c(ACK, 0, 'abc')]);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.equal(text(c2s.bytes), 'abcdefghi');
    assert.deepEqual(
      c2s.segments.filter((s) => s.len > 0).map((s) => s.tsNs),
      [5e6, 5e6, 5e6],
    );
    assert.deepEqual([tr.stats.outOfOrder, tr.stats.gaps, tr.heldBytes], [2, 0, 0]);
  });

  it('a hole open for gapSec on the data clock is declared with its size', () => {
    const k = new Conn();
    const tr = new FlowTracker({ gapSec: 2 });
    const pkts = [...k.handshake(), k.c(ACK, 0, 'abc'), k.c(ACK, 10, 'klm')];
    let outs = feed(tr, pkts, false);
    assert.equal(text(only(collectStreams(outs), 'c2s').bytes), 'abc');
    assert.deepEqual(tr.tick(T0 + 1, 0), [], 'not yet');
    outs = [...outs, ...tr.tick(T0 + 2, 5e6)];
    const c2s = only(collectStreams(outs), 'c2s');
    assert.equal(text(c2s.bytes), 'abcklm');
    assert.deepEqual(c2s.gaps, [7]);
    const after = c2s.segments.at(-1)!;
    assert.deepEqual([after.offset, after.gap, after.tsNs], [10, 7, 2e9 + 5e6]);
    assert.deepEqual([tr.stats.gaps, tr.stats.gapBytes, tr.stats.gapCauses.timeout], [1, 7, 1]);
    // The stream goes on after the gap.
    outs = [...outs, ...feed(tr, [k.c(ACK, 13, 'nop')])];
    assert.equal(text(only(collectStreams(outs), 'c2s').bytes), 'abcklmnop');
  });

  it("more than a direction's bound held: the hole is declared at once", () => {
    const k = new Conn();
    const tr = new FlowTracker({ maxHeldSegments: 2 });
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 5, 'f'), k.c(ACK, 6, 'g'), k.c(ACK, 8, 'i')], false);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.equal(text(c2s.bytes), 'fgi');
    assert.deepEqual(c2s.gaps, [5, 1]);
    assert.equal(tr.stats.gapCauses.bound, 2);
    // A late retransmission of what was declared missing changes nothing.
    const late = feed(tr, [k.c(ACK, 0, 'abcde')], false);
    assert.deepEqual(segs(late), []);
    assert.equal(tr.stats.retransmitted, 1);
  });

  it('the budget of all directions: the one that began to hold first gives up its hole', () => {
    const a = new Conn({ cport: 40001 });
    const b = new Conn({ cport: 40002 });
    const tr = new FlowTracker({ maxHeldTotal: 10 });
    const outs = feed(
      tr,
      [...a.handshake(), ...b.handshake(), a.c(ACK, 4, '123456'), b.c(ACK, 4, 'abcdef'), b.c(ACK, 0, 'wxyz')],
      false,
    );
    const m = collectStreams(outs);
    const [sa, sb] = [...m.values()];
    assert.deepEqual([text(sa!.bytes), sa!.gaps], ['123456', [4]]);
    assert.deepEqual([text(sb!.bytes), sb!.gaps], ['wxyzabcdef', []]);
    assert.deepEqual([tr.stats.gapCauses.budget, tr.heldBytes], [1, 0]);
  });

  it('a FIN before a gap ends nothing until the hole fills', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    let outs = feed(tr, [...k.handshake(), k.c(ACK, 0, 'ab'), k.c(FIN | ACK, 4, 'ef')], false);
    assert.equal(only(collectStreams(outs), 'c2s').end, undefined);
    outs = [...outs, ...feed(tr, [k.c(ACK, 2, 'cd')], false)];
    const c2s = only(collectStreams(outs), 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.end, c2s.gaps], ['abcdef', 'fin', []]);
  });

  it('a FIN before a gap that the other end acknowledges: the hole is declared (the capture lost it)', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(
      tr,
      [...k.handshake(), k.c(ACK, 0, 'ab'), k.c(FIN | ACK, 4, 'ef'), k.s(ACK, 0, '', 2), k.s(FIN | ACK, 0, '', 7)],
      false,
    );
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.end, c2s.gaps, c2s.covered], ['abef', 'fin', [2], 4]);
    assert.equal(only(m, 's2c').end, 'fin');
    assert.equal(tr.stats.gapCauses.acked, 1);
  });

  it('a FIN before a gap never filled nor acknowledged: declared at the timeout', () => {
    const k = new Conn();
    const tr = new FlowTracker({ gapSec: 1 });
    const outs = feed(tr, [...k.handshake(), k.c(FIN | ACK, 3, 'xyz')], false);
    outs.push(...tr.tick(T0 + 5));
    const c2s = only(collectStreams(outs), 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.end, c2s.gaps], ['xyz', 'fin', [3]]);
  });

  it('the end of the input declares what waits and ends the open directions', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.c(ACK, 0, 'a'), k.c(ACK, 2, 'c'), k.s(ACK, 0, 'Z', 1)]);
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.gaps, c2s.end], ['ac', [1], 'flush']);
    assert.equal(only(m, 's2c').end, 'flush');
    assert.equal(tr.stats.gapCauses.end, 1);
    assert.equal(tr.activeFlows, 0);
  });
});

describe('FlowTracker: resets', () => {
  it('an RST ends both directions: rst for its sender, reset for the other', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(
      tr,
      [...k.handshake(), k.c(ACK, 0, 'req'), k.s(ACK, 0, 'resp', 3), k.s(RST | ACK, 4, '', 3)],
      false,
    );
    const m = collectStreams(outs);
    const s2c = only(m, 's2c');
    const c2s = only(m, 'c2s');
    assert.deepEqual([text(s2c.bytes), s2c.end, s2c.segments.at(-1)!.rst], ['resp', 'rst', true]);
    assert.deepEqual([text(c2s.bytes), c2s.end, c2s.segments.at(-1)!.rst], ['req', 'reset', false]);
    // Later packets of the closed connection: absorbed, not a new flow.
    assert.deepEqual(segs(feed(tr, [k.c(ACK, 0, 'req')])), []);
    assert.equal(tr.stats.flows, 1);
  });

  it('an RST past a hole: the hole is declared at once, and the bytes its sender sent before it', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const outs = feed(tr, [...k.handshake(), k.s(ACK, 0, 'ab'), k.s(ACK, 4, 'ef'), k.s(RST, 10)], false);
    const s2c = only(collectStreams(outs), 's2c');
    assert.deepEqual([text(s2c.bytes), s2c.gaps, s2c.end], ['abef', [2, 4], 'rst']);
    assert.equal(s2c.segments.at(-1)!.offset, 10);
    assert.equal(tr.stats.gapCauses.rst, 2);
  });
});

describe('FlowTracker: handshakes', () => {
  it('SYN data (TCP Fast Open) is offset 0 of the client stream', () => {
    const k = new Conn();
    const outs = feed(new FlowTracker(), [
      k.syn('GET /'),
      k.synack(5),
      k.c(ACK, 5, ' HTTP/1.1', 0),
      k.s(ACK, 0, 'HTTP/1.1 200', 14),
    ]);
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    assert.equal(text(c2s.bytes), 'GET / HTTP/1.1');
    assert.deepEqual([c2s.segments[0]!.syn, c2s.segments[0]!.offset, c2s.segments[1]!.syn], [true, 0, false]);
    assert.equal(text(only(m, 's2c').bytes), 'HTTP/1.1 200');
  });

  it('a SYN sent again is the same connection; a SYN with another number on the same ends is a new one', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const again = new Conn({ cisn: 777777 });
    const outs = feed(tr, [k.syn(), k.syn(), k.synack(), k.c(ACK, 0, 'one'), again.syn(), again.c(ACK, 0, 'two')]);
    const m = collectStreams(outs);
    const first = only(m, 'c2s', 1);
    assert.deepEqual([text(first.bytes), first.end], ['one', 'reused']);
    assert.equal(text(only(m, 'c2s', 2).bytes), 'two');
    assert.deepEqual([tr.stats.flows, tr.stats.reused], [2, 1]);
  });

  it('a SYN-ACK without its SYN names the roles and where the client stream starts', () => {
    const k = new Conn({ sport: 50000, cport: 8080 }); // ports that would guess it the other way round
    const outs = feed(new FlowTracker(), [k.synack(), k.c(ACK, 0, 'hi'), k.s(ACK, 0, 'yo', 2)]);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.deepEqual(
      [c2s.key.clientPort, c2s.key.serverPort, c2s.segments[0]!.roles, c2s.midStream],
      [8080, 50000, 'handshake', false],
    );
    assert.equal(text(c2s.bytes), 'hi');
  });
});

describe('FlowTracker: a capture that starts mid-connection', () => {
  it('offsets from the first byte seen, roles from the ports, flagged', () => {
    const k = new Conn({ cport: 45000, sport: 8080, cisn: 123456, sisn: 999 });
    const tr = new FlowTracker();
    const outs = feed(tr, [
      k.s(PSH | ACK, 500, 'tail of a response', 300),
      k.c(ACK, 300, 'GET /next', 518),
      k.s(ACK, 490, 'x'.repeat(35), 309), // reaches back before what came: only its new bytes
      k.c(ACK, 290, 'old'), // wholly before: dropped
    ]);
    const m = collectStreams(outs);
    const s2c = only(m, 's2c');
    const c2s = only(m, 'c2s');
    assert.equal(text(s2c.bytes), 'tail of a response' + 'x'.repeat(7));
    assert.equal(text(c2s.bytes), 'GET /next');
    assert.deepEqual(
      [s2c.midStream, c2s.midStream, s2c.segments[0]!.offset, s2c.segments[0]!.roles],
      [true, true, 0, 'ports'],
    );
    assert.deepEqual([s2c.key.clientPort, s2c.key.serverPort], [45000, 8080]);
    assert.deepEqual([tr.stats.midStream, tr.stats.retransmitted, tr.stats.trimmed], [1, 1, 1]);
  });

  it('bare ACKs, FINs and RSTs of a connection never seen are ignored', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    assert.deepEqual(feed(tr, [k.c(ACK, 0), k.c(FIN | ACK, 0), k.s(RST, 0)]), []);
    assert.deepEqual([tr.stats.stray, tr.stats.flows], [3, 0]);
  });

  it('port heuristics: well-known, then below the ephemeral range, then the lower', () => {
    assert.equal(looksLikeServerPort(443, 1023), true);
    assert.equal(looksLikeServerPort(1023, 443), false);
    assert.equal(looksLikeServerPort(80, 50000), true);
    assert.equal(looksLikeServerPort(8080, 40000), true);
    assert.equal(looksLikeServerPort(40000, 8080), false);
    assert.equal(looksLikeServerPort(5000, 6000), true);
    assert.equal(looksLikeServerPort(45000, 44000), false);
    assert.equal(looksLikeServerPort(7000, 7000), false);
  });
});

describe('FlowTracker: 32-bit sequence wrap', () => {
  it('offsets go on past 2^32 sequence numbers, in order and out of order', () => {
    const k = new Conn({ cisn: 0xfffffff0, sisn: 0xffffffff });
    const tr = new FlowTracker();
    const outs = feed(tr, [
      ...k.handshake(),
      k.c(ACK, 0, 'abcdefghij'), // 0xfffffff1 .. 0xfffffffa
      k.c(ACK, 20, 'uvwxyz'), // after the wrap, ahead of a hole
      k.c(ACK, 10, 'klmnopqrst'), // across the wrap
      k.s(ACK, 0, 'server bytes start at sequence 0', 26),
      k.c(FIN | ACK, 26, '', 33),
    ]);
    const m = collectStreams(outs);
    const c2s = only(m, 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.end, c2s.gaps], ['abcdefghijklmnopqrstuvwxyz', 'fin', []]);
    assert.deepEqual(
      c2s.segments.map((s) => s.offset),
      [0, 10, 20, 26],
    );
    assert.equal(text(only(m, 's2c').bytes), 'server bytes start at sequence 0');
  });

  it('offsets are not wrapped: a stream gone past 4 GiB of sequence space', () => {
    const k = new Conn({ cisn: 0x7ffffff0 });
    // One segment per 512 MiB, each past a hole declared at once (maxHeldSegments 0).
    const tr = new FlowTracker({ maxHeldSegments: 0 });
    feed(tr, k.handshake(), false);
    const step = 512 * 1024 * 1024;
    let last: Segment | undefined;
    for (let i = 0; i < 10; i++) for (const o of segs(tr.push(k.c(ACK, i * step, 'z'.repeat(100))))) last = o;
    assert.deepEqual([last!.offset, last!.gap, tr.stats.gaps], [9 * step, step - 100, 9]);
    assert.ok(last!.offset > 2 ** 32);
  });
});

describe('FlowTracker: bounds and timers', () => {
  it('the flow table holds maxFlows: closed connections go first, then the least recently active, ended evicted', () => {
    const tr = new FlowTracker({ maxFlows: 2 });
    const a = new Conn({ cport: 40001 });
    const b = new Conn({ cport: 40002 });
    const c = new Conn({ cport: 40003 });
    const d = new Conn({ cport: 40004 });
    const outs = feed(
      tr,
      [
        ...a.handshake(),
        a.c(ACK, 0, 'a'),
        a.c(FIN | ACK, 1, '', 0),
        a.s(FIN | ACK, 0, '', 2), // a closed
        ...b.handshake(),
        b.c(ACK, 0, 'b'),
        ...c.handshake(), // takes a's room: a was closed
        c.c(ACK, 0, 'c'),
        b.c(ACK, 1, 'b'), // b is now the most recently active
        ...d.handshake(), // pushes c out
        d.c(ACK, 0, 'd'),
      ],
      false,
    );
    const m = collectStreams(outs);
    const ends = [...m.values()].filter((s) => s.dir === 'c2s').map((s) => [s.key.clientPort, text(s.bytes), s.end]);
    assert.deepEqual(ends, [
      [40001, 'a', 'fin'],
      [40002, 'bb', undefined],
      [40003, 'c', 'evicted'],
      [40004, 'd', undefined],
    ]);
    assert.deepEqual([tr.stats.closed, tr.stats.evicted, tr.activeFlows], [1, 1, 2]);
  });

  it('a connection idle for idleSec is ended idle; closed ones are dropped after closedSec', () => {
    const tr = new FlowTracker({ idleSec: 60, closedSec: 2 });
    const a = new Conn({ cport: 40001 });
    const b = new Conn({ cport: 40002 });
    const outs = feed(
      tr,
      [...a.handshake(), a.c(ACK, 0, 'x'), ...b.handshake(), b.c(RST, 0)], // b closed by its RST
      false,
    );
    assert.equal(tr.activeFlows, 2);
    tr.tick(T0 + 10, 0, outs);
    assert.deepEqual([tr.activeFlows, tr.stats.closed], [1, 1]);
    tr.tick(T0 + 61, 0, outs);
    assert.equal(tr.activeFlows, 0);
    assert.equal(only(collectStreams(outs), 'c2s', 1).end, 'idle');
    assert.equal(tr.stats.idle, 1);
  });

  it('time only moves forward: an earlier packet or tick fires nothing', () => {
    const k = new Conn();
    const tr = new FlowTracker({ gapSec: 1 });
    feed(tr, [...k.handshake(), k.c(ACK, 5, 'x')], false);
    assert.deepEqual(tr.tick(T0 - 100), []);
    assert.equal(tr.heldBytes, 1);
  });
});

describe('FlowTracker: what is not a TCP stream', () => {
  it('UDP datagrams pass through, client and server from the ports', () => {
    const tr = new FlowTracker();
    const q = packetAt(0, ipv4(C4, S4, 17, udp(53000, 53, [1, 2, 3])));
    const r = packetAt(1, ipv4(S4, C4, 17, udp(53, 53000, [4, 5, 6, 7])));
    const outs = feed(tr, [q, r]);
    assert.equal(outs.length, 2);
    const [a, b] = outs;
    assert.ok(a!.kind === 'datagram' && b!.kind === 'datagram');
    assert.deepEqual([a.dir, a.len, [...a.bytes], a.key.serverPort, a.key.protocol], ['c2s', 3, [1, 2, 3], 53, 'udp']);
    assert.deepEqual([b.dir, b.len, [...b.bytes], b.key.clientPort], ['s2c', 4, [4, 5, 6, 7], 53000]);
  });

  it('a packet cut by the snap length: its length counts, its bytes are what was captured', () => {
    const k = new Conn();
    const tr = new FlowTracker();
    const big = k.c(ACK, 0, 'abcdefghij');
    const cut = { ...big, data: big.data.subarray(0, big.data.length - 6) };
    const outs = feed(tr, [...k.handshake(), cut, k.c(ACK, 10, 'KL')]);
    const c2s = only(collectStreams(outs), 'c2s');
    assert.deepEqual([text(c2s.bytes), c2s.covered, c2s.gaps], ['abcdKL', 12, []]);
  });

  it('IP fragments, ICMP, ARP and cut headers are counted, not taken', () => {
    const tr = new FlowTracker();
    const later = packetAt(0, ipv4(C4, S4, 6, [1, 2, 3, 4, 5, 6, 7, 8], { frag: 0x0010 }));
    const icmp = packetAt(1, ipv4(C4, S4, 1, [8, 0, 0, 0, 0, 1, 0, 1]));
    const cut = packetAt(2, ipv4(C4, S4, 6, [0, 80, 0]));
    assert.deepEqual(feed(tr, [later, icmp, cut]), []);
    assert.deepEqual([tr.stats.fragments, tr.stats.skipped, tr.stats.packets], [1, 2, 3]);
  });
});

// ---- fuzz ----

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Facts {
  p: Packet;
  /** Sender's side and the sequence space its segment covers (SYN and FIN included). */
  from: string;
  to: string;
  seq: number;
  end: number;
  ack: number | undefined;
  syn: boolean;
}

function facts(p: Packet): Facts | undefined {
  const d = decodePacket(p.data, p.linkType);
  if (d.transport?.kind !== 'tcp' || !d.net || d.net.kind === 'arp') return undefined;
  const t = d.transport;
  const from = `${d.net.src}|${t.sport}`;
  const to = `${d.net.dst}|${t.dport}`;
  const span = d.payloadWireLength + (t.flags & SYN ? 1 : 0) + (t.flags & FIN ? 1 : 0);
  return {
    p,
    from,
    to,
    seq: t.seq,
    end: (t.seq + span) >>> 0,
    ack: t.flags & ACK ? t.ack : undefined,
    syn: (t.flags & SYN) !== 0,
  };
}

const after = (a: number, b: number) => ((a - b) | 0) > 0;

/**
 * A shuffled order of the packets, each moved at most about `window` places,
 * some sent twice, that a single capture point could see: a packet whose ACK
 * acknowledges the other end's segment never comes before that segment's
 * first copy (an end acknowledges only what it has), and an end's SYN comes
 * before the rest of what it sends.
 */
function causalShuffle(list: Facts[], r: () => number, window: number, dupRate: number): Packet[] {
  const items: { f: Facts; prio: number; deps: number[] }[] = [];
  // A side's SYN (or SYN-ACK) goes before anything else it sends.
  const synOf = new Map<string, number>();
  list.forEach((f, i) => {
    if (f.syn && !synOf.has(f.from)) synOf.set(f.from, i);
  });
  list.forEach((f, i) => {
    const deps: number[] = [];
    const syn = synOf.get(f.from);
    if (syn !== undefined && syn < i) deps.push(syn);
    if (f.ack !== undefined) {
      list.forEach((g, j) => {
        if (j < i && g.from === f.to && g.end !== g.seq && !after(g.end, f.ack!)) deps.push(j);
      });
    }
    items.push({ f, prio: i + r() * window, deps });
  });
  const placed = new Set<number>();
  const out: Packet[] = [];
  while (placed.size < items.length) {
    let best = -1;
    for (let i = 0; i < items.length; i++) {
      if (placed.has(i) || items[i]!.deps.some((j) => !placed.has(j))) continue;
      if (best < 0 || items[i]!.prio < items[best]!.prio) best = i;
    }
    placed.add(best);
    out.push(items[best]!.f.p);
    if (r() < dupRate) items.push({ f: items[best]!.f, prio: items[best]!.prio + r() * window, deps: [best] });
  }
  // Timestamps in capture order, 1 ms apart.
  return out.map((p, i) => ({ ...p, sec: T0 + Math.floor(i / 1000), nsec: (i % 1000) * 1e6 }));
}

/** Each direction's bytes, named client port/dir, as a digest (a failure prints short). */
function streamsOf(pkts: Packet[], what: string, o: FlowTrackerOptions = {}): Map<string, string> {
  const tr = new FlowTracker(o);
  const m = collectStreams(feed(tr, pkts));
  const res = new Map<string, string>();
  for (const s of m.values()) {
    assert.deepEqual(s.gaps, [], `${what}: nothing was lost, yet a gap (${JSON.stringify(tr.stats)})`);
    res.set(`${s.key.clientPort}/${s.dir}`, digest(s.bytes));
  }
  return res;
}

const digest = (b: Uint8Array) => `${b.length}:${createHash('sha256').update(b).digest('hex').slice(0, 16)}`;

describe('FlowTracker fuzz: reordered and duplicated streams give back their bytes', () => {
  it('a real capture (test/fixtures/lo-traffic.pcap: curl to a local server)', () => {
    const file = readCaptureFile(path.join(FIXTURES, 'lo-traffic.pcap'));
    assert.equal(file.error, undefined);
    const tcpFacts = file.packets.map(facts).filter((f): f is Facts => f !== undefined);
    const inOrder = collectStreams(
      feed(
        new FlowTracker(),
        tcpFacts.map((f) => f.p),
      ),
    );
    assert.equal(only(inOrder, 'c2s').bytes.toString('latin1').slice(0, 4), 'GET ');
    assert.equal(only(inOrder, 's2c').bytes.toString('latin1').slice(0, 8), 'HTTP/1.1');
    const want = streamsOf(
      tcpFacts.map((f) => f.p),
      'in order',
    );
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      assert.deepEqual(streamsOf(causalShuffle(tcpFacts, r, 6, 0.3), `seed ${seed}`), want, `seed ${seed}`);
    }
  });

  it('long streams both ways, re-cut retransmissions, across the sequence wrap', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const r = rng(seed * 7919);
      const k = new Conn({ cisn: (0xffffffff - Math.floor(r() * 40000)) >>> 0, sisn: Math.floor(r() * 2 ** 32) });
      const up = Buffer.from(Array.from({ length: 20000 + Math.floor(r() * 30000) }, () => Math.floor(r() * 256)));
      const down = Buffer.from(Array.from({ length: 20000 + Math.floor(r() * 30000) }, () => Math.floor(r() * 256)));
      const pkts: Packet[] = [...k.handshake()];
      let cu = 0;
      let cd = 0;
      const send = (client: boolean, from: number, n: number, flags = ACK) =>
        client
          ? k.c(flags, from, up.subarray(from, from + n).toString('latin1'))
          : k.s(flags, from, down.subarray(from, from + n).toString('latin1'));
      while (cu < up.length || cd < down.length) {
        const client = cd >= down.length || (cu < up.length && r() < 0.5);
        const have = client ? up.length - cu : down.length - cd;
        const n = Math.min(have, 1 + Math.floor(r() * 2000));
        const at = client ? cu : cd;
        pkts.push(send(client, at, n));
        // Now and then a retransmission re-cut over what went before (partial overlaps).
        if (r() < 0.2 && at > 0) {
          const from = Math.floor(r() * at);
          pkts.push(send(client, from, Math.min(at + n - from, 1 + Math.floor(r() * 3000))));
        }
        if (client) cu += n;
        else cd += n;
      }
      pkts.push(k.c(FIN | ACK, up.length, '', down.length), k.s(FIN | ACK, down.length, '', up.length + 1));
      pkts.push(k.c(ACK, up.length + 1, '', down.length + 1));
      const list = pkts.map(facts).filter((f): f is Facts => f !== undefined);
      const want = new Map([
        ['40000/c2s', digest(up)],
        ['40000/s2c', digest(down)],
      ]);
      assert.deepEqual(
        streamsOf(
          list.map((f) => f.p),
          `seed ${seed} in order`,
        ),
        want,
        `seed ${seed} in order`,
      );
      const shuffled = causalShuffle(list, r, 12, 0.15);
      assert.deepEqual(streamsOf(shuffled, `seed ${seed} shuffled`), want, `seed ${seed} shuffled`);
    }
  });
});
