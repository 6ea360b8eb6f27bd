/** The packet decoder on built frames: every link type, VLAN tags, IPv6 extension headers, TCP options, truncation. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LINKTYPE } from '../../src/model/packet';
import { decodePacket, ipv6Text } from '../../src/net/decode/index';
import { ether, frameCorpus, ipv4, ipv6, tcp, udp } from '../helpers/frames';

const byName = new Map(frameCorpus().map((f) => [f.name, f.bytes]));
const frame = (n: string) => byName.get(n)!;
const A4 = [10, 1, 0, 1];
const B4 = [10, 1, 0, 2];
const A6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
const B6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];

describe('packet decoder', () => {
  it('Ethernet IPv4 TCP with every option kind', () => {
    const opts = [
      2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20, 34, 6, 1, 2, 3,
      4, 1, 1, 1, 1,
    ];
    const f = ether(0x0800, ipv4(A4, B4, 6, tcp(1234, 80, 0x12, [9, 9], { seq: 5, ack: 6, win: 100, options: opts })));
    const d = decodePacket(f, LINKTYPE.ETHERNET);
    assert.equal(d.truncated, undefined);
    assert.equal(d.link.kind, 'ethernet');
    assert.deepEqual(
      d.net && d.net.kind === 'ipv4' && [d.net.src, d.net.dst, d.net.df, d.net.mf, d.net.fragOffset, d.net.ttl],
      ['10.1.0.1', '10.1.0.2', true, false, 0, 64],
    );
    const t = d.transport!;
    assert.equal(t.kind, 'tcp');
    if (t.kind !== 'tcp') return;
    assert.deepEqual(
      [t.sport, t.dport, t.seq, t.ack, t.flags, t.window, t.headerLength],
      [1234, 80, 5, 6, 0x12, 100, 60],
    );
    assert.deepEqual(t.options, [
      { kind: 'mss', value: 1460 },
      { kind: 'nop' },
      { kind: 'wscale', value: 7 },
      { kind: 'sackOK' },
      { kind: 'ts', val: 1, ecr: 2 },
      { kind: 'sack', blocks: [[10, 20]] },
      { kind: 'tfo', cookie: '01020304' },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'nop' },
    ]);
    assert.deepEqual([d.payloadLength, d.payloadWireLength, f[d.payloadOffset]], [2, 2, 9]);
  });

  it('VLAN and QinQ tags', () => {
    const d = decodePacket(frame('qinq 10/20 v4 udp'), LINKTYPE.ETHERNET);
    assert.ok(d.link.kind === 'ethernet');
    if (d.link.kind !== 'ethernet') return;
    assert.deepEqual(
      d.link.vlans.map((v) => [v.tpid, v.id]),
      [
        [0x88a8, 10],
        [0x8100, 20],
      ],
    );
    assert.equal(d.link.type, 0x0800);
    assert.equal(d.transport?.kind, 'udp');
  });

  it('IPv4 fragments: the first decodes its header, later ones do not', () => {
    const first = decodePacket(frame('v4 first fragment udp'), LINKTYPE.ETHERNET);
    assert.ok(first.net?.kind === 'ipv4' && first.net.mf && first.net.id === 77);
    assert.equal(first.transport?.kind, 'udp');
    const later = decodePacket(frame('v4 later fragment'), LINKTYPE.ETHERNET);
    assert.ok(later.net?.kind === 'ipv4' && later.net.fragOffset === 64);
    assert.equal(later.transport, undefined);
  });

  it('IPv6 extension headers: hop-by-hop, fragment (first and later), routing, destination options, AH', () => {
    const hbh = decodePacket(frame('v6 hop-by-hop then udp'), LINKTYPE.ETHERNET);
    assert.ok(hbh.net?.kind === 'ipv6');
    if (hbh.net?.kind !== 'ipv6') return;
    assert.deepEqual([hbh.net.ext, hbh.net.proto, hbh.transport?.kind], [[0], 17, 'udp']);
    const fr = decodePacket(frame('v6 fragment header then tcp'), LINKTYPE.ETHERNET);
    assert.ok(fr.net?.kind === 'ipv6' && fr.net.frag?.id === 9 && fr.net.frag.offset === 0);
    assert.equal(fr.transport?.kind, 'tcp');
    const later = decodePacket(frame('v6 later fragment'), LINKTYPE.ETHERNET);
    assert.ok(later.net?.kind === 'ipv6' && later.net.frag?.offset === 16);
    assert.equal(later.transport, undefined);
    // routing (43) -> destination options (60) -> AH (51, length in 4-byte units) -> TCP
    const chain = [60, 0, 0, 0, 0, 0, 0, 0, 51, 0, 1, 4, 0, 0, 0, 0, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const d = decodePacket(Buffer.from(ipv6(A6, B6, 43, [...chain, ...tcp(1, 2, 0x02)])), LINKTYPE.RAW);
    assert.ok(d.net?.kind === 'ipv6');
    if (d.net?.kind !== 'ipv6') return;
    assert.deepEqual([d.net.ext, d.net.proto, d.transport?.kind], [[43, 60, 51], 6, 'tcp']);
    // A loop of 100 hop-by-hop headers stops at the bound, without throwing.
    const many: number[] = [];
    for (let i = 0; i < 100; i++) many.push(0, 0, 0, 0, 0, 0, 0, 0);
    const m = decodePacket(Buffer.from(ipv6(A6, B6, 0, many)), LINKTYPE.RAW);
    assert.ok(m.net?.kind === 'ipv6' && m.net.ext.length === 8);
  });

  it('SLL, SLL2, NULL (both byte orders), RAW, IPV4, IPV6 link types', () => {
    const ip = Buffer.from(ipv4(A4, B4, 17, udp(1, 2, [0])));
    const sll = Buffer.concat([Buffer.from([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0xaa, 0, 0, 8, 0]), ip]);
    const d1 = decodePacket(sll, LINKTYPE.LINUX_SLL);
    assert.ok(d1.link.kind === 'sll' && d1.link.pktType === 4 && d1.link.addr === '02:00:00:00:00:aa');
    assert.equal(d1.transport?.kind, 'udp');
    const sll2 = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0xbb, 0, 0]), ip]);
    const d2 = decodePacket(sll2, LINKTYPE.LINUX_SLL2);
    assert.ok(d2.link.kind === 'sll2' && d2.link.ifindex === 7 && d2.link.pktType === 0);
    assert.equal(d2.transport?.kind, 'udp');
    for (const fam of [Buffer.from([2, 0, 0, 0]), Buffer.from([0, 0, 0, 2])]) {
      assert.equal(decodePacket(Buffer.concat([fam, ip]), LINKTYPE.NULL).transport?.kind, 'udp');
    }
    assert.equal(
      decodePacket(Buffer.from([30, 0, 0, 0, ...ipv6(A6, B6, 17, udp(1, 2))]), LINKTYPE.NULL).net?.kind,
      'ipv6',
    );
    assert.equal(decodePacket(ip, LINKTYPE.RAW).transport?.kind, 'udp');
    assert.equal(decodePacket(ip, LINKTYPE.IPV4).transport?.kind, 'udp');
    assert.equal(decodePacket(Buffer.from(ipv6(A6, B6, 17, udp(1, 2))), LINKTYPE.IPV6).transport?.kind, 'udp');
    assert.equal(decodePacket(ip, 9999).link.kind, 'unknown');
  });

  it('ARP, ICMP errors quoting a packet, truncation marks', () => {
    const arp = decodePacket(frame('arp request'), LINKTYPE.ETHERNET);
    assert.ok(
      arp.net?.kind === 'arp' && arp.net.op === 1 && arp.net.tpa === '10.1.0.2' && arp.net.sha === '02:00:00:00:00:aa',
    );
    const un = decodePacket(frame('v4 icmp unreachable port'), LINKTYPE.ETHERNET);
    assert.ok(un.transport?.kind === 'icmp');
    assert.deepEqual(un.transport.kind === 'icmp' && un.transport.quote, {
      src: '10.1.0.1',
      dst: '10.1.0.2',
      proto: 17,
      sport: 1,
      dport: 2,
    });
    const syn = frame('v4 tcp syn 40000->80');
    assert.equal(decodePacket(syn.subarray(0, 40), LINKTYPE.ETHERNET).truncated, 'tcp');
    assert.equal(decodePacket(syn.subarray(0, 20), LINKTYPE.ETHERNET).truncated, 'ipv4');
    assert.equal(decodePacket(syn.subarray(0, 10), LINKTYPE.ETHERNET).truncated, 'ethernet');
    assert.equal(decodePacket(frame('v4 truncated tcp header'), LINKTYPE.ETHERNET).truncated, 'tcp');
    const bad = Buffer.from(syn);
    bad[14] = 0x43; // IHL 3
    assert.match(decodePacket(bad, LINKTYPE.ETHERNET).malformed!, /ipv4 header length 12 < 20/);
  });

  it('IPv6 text as inet_ntop', () => {
    const t = (h: string) => ipv6Text(Buffer.from(h.replace(/ /g, ''), 'hex'), 0);
    assert.equal(t('2001 0db8 0000 0000 0000 0000 0000 0001'), '2001:db8::1');
    assert.equal(t('0000 0000 0000 0000 0000 0000 0000 0001'), '::1');
    assert.equal(t('0000 0000 0000 0000 0000 0000 0000 0000'), '::');
    assert.equal(t('2001 0db8 0000 0001 0000 0000 0000 0001'), '2001:db8:0:1::1');
    assert.equal(t('2001 0db8 0001 0001 0001 0001 0000 0001'), '2001:db8:1:1:1:1:0:1');
    assert.equal(t('0000 0000 0000 0000 0000 ffff 0a01 0203'), '::ffff:10.1.2.3');
    assert.equal(t('fe80 0000 0000 0000 0000 0000 0000 0000'), 'fe80::');
  });
});
