/** --block's plan (pure), address/prefix parsing, and the netstat/snmp parser. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { BlockPlan } from '../../src/analysis/detect/block-plan';
import { AlertView } from '../../src/analysis/detect/alerts';
import { parseIp, parsePrefix, prefixContains } from '../../src/net/ip-text';
import { parseNetstatPairs, parseSnmp6 } from '../../src/kernel/netstat';
import { guardAlertLines } from '../../src/output/guard-alerts';

function flood(address: string, id = 'x-1', lastSeenNs = Infinity): AlertView {
  return {
    id,
    kind: 'source_flood',
    traffic: 'syn',
    key: address,
    severity: 'medium',
    startNs: 0,
    lastSeenNs,
    target: { address: null, port: 80, protocol: 'tcp', netns: 1 },
    source: { address, distinct: null, top: [] },
    figures: {},
    peak: {},
    thresholds: {},
    evidence: [],
    intervals: 3,
  };
}

const allow = ['127.0.0.0/8', '::1', '10.9.0.2'].map((p) => parsePrefix(p)!);

describe('block plan', () => {
  it('blocks a flooding source for the TTL, renews while its alert holds, unblocks after', () => {
    const p = new BlockPlan({ ttlS: 10, allow, maxBlocks: 8 });
    const a = p.step(1e9, [flood('10.9.0.1')]);
    assert.deepEqual(
      a.map((x) => [x.op, x.address, 'untilNs' in x ? x.untilNs : null]),
      [['block', '10.9.0.1', 11e9]],
    );
    assert.deepEqual(p.step(5e9, [flood('10.9.0.1')]), [], 'no change within the TTL');
    const renew = p.step(11e9, [flood('10.9.0.1')]);
    assert.deepEqual(
      renew.map((x) => [x.op, 'renewed' in x ? x.renewed : null]),
      [['block', true]],
    );
    assert.deepEqual(p.step(15e9, [flood('10.9.0.1', 'x-1', 14e9)]), [], 'winding down: left to run out');
    assert.deepEqual(
      p.step(21e9, [flood('10.9.0.1', 'x-1', 14e9)]).map((x) => [x.op, x.address, 'reason' in x ? x.reason : null]),
      [['unblock', '10.9.0.1', 'ttl']],
    );
    assert.deepEqual(p.entries(), []);
  });

  it('never blocks loopback, this host or --allow; says so once per alert; unblocks all at exit', () => {
    const p = new BlockPlan({ ttlS: 60, allow, maxBlocks: 1 });
    const a = p.step(1e9, [
      flood('127.0.0.5', 'a'),
      flood('::1', 'b'),
      flood('10.9.0.2', 'c'),
      flood('fd00::7', 'd'),
      flood('10.9.0.3', 'e'),
    ]);
    assert.deepEqual(
      a.map((x) => `${x.op} ${x.address}`),
      ['allowed 127.0.0.5', 'allowed ::1', 'allowed 10.9.0.2', 'block fd00::7', 'full 10.9.0.3'],
    );
    assert.deepEqual(p.step(2e9, [flood('127.0.0.5', 'a'), flood('10.9.0.3', 'e'), flood('fd00::7', 'd')]), []);
    assert.deepEqual(
      p.finish().map((x) => `${x.op} ${x.address} ${'reason' in x ? x.reason : ''}`),
      ['unblock fd00::7 exit'],
    );
  });
});

describe('addresses and prefixes', () => {
  it('parses IPv4, IPv6 (:: and dotted tails) and CIDR, rejects the malformed', () => {
    assert.deepEqual([...parseIp('10.1.2.3')!.bytes], [10, 1, 2, 3]);
    assert.deepEqual([...parseIp('::ffff:1.2.3.4')!.bytes.slice(10)], [255, 255, 1, 2, 3, 4]);
    assert.deepEqual([...parseIp('fd00::1')!.bytes], [0xfd, 0, ...Array(13).fill(0), 1]);
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', 'fd00:::1', 'g::1', '1:2:3:4:5:6:7:8:9', ''])
      assert.equal(parseIp(bad), null, bad);
    assert.equal(parsePrefix('10.0.0.0/33'), null);
    const p = parsePrefix('10.128.0.0/9')!;
    assert.ok(prefixContains(p, parseIp('10.200.1.1')!));
    assert.ok(!prefixContains(p, parseIp('10.1.1.1')!));
    assert.ok(!prefixContains(p, parseIp('::1')!));
    assert.ok(prefixContains(parsePrefix('::/0')!, parseIp('fd00::1')!));
  });
});

describe('netstat and snmp files', () => {
  it('reads header/value pairs under nstat names, and snmp6 lines', () => {
    const text = 'TcpExt: SyncookiesSent SyncookiesRecv ListenDrops\nTcpExt: 425501 3 7\nIpExt: InOctets\nIpExt: 99\n';
    const m = parseNetstatPairs(text);
    assert.equal(m.get('TcpExtSyncookiesSent'), 425501);
    assert.equal(m.get('TcpExtListenDrops'), 7);
    assert.equal(m.get('IpExtInOctets'), 99);
    const snmp = parseNetstatPairs('Tcp: RtoAlgorithm OutRsts\nTcp: 1 12\nUdp: NoPorts\nUdp: 5\n');
    assert.equal(snmp.get('TcpOutRsts'), 12);
    assert.equal(snmp.get('UdpNoPorts'), 5);
    assert.equal(parseSnmp6('Icmp6OutDestUnreachs            \t4\nIp6InReceives 10\n').get('Icmp6OutDestUnreachs'), 4);
  });
});

describe("top's alert lines", () => {
  it('one ALERT line per active alert of each running guard', () => {
    const lines = guardAlertLines([
      {
        pid: 42,
        alerts: [
          {
            id: 'ab-1',
            kind: 'syn_flood',
            severity: 'medium',
            duration_s: 12.4,
            target: { address: '10.0.0.2', port: 80, protocol: 'tcp', netns: 1 },
            source: { address: null, distinct: 52000 },
          },
          {
            id: 'ab-2',
            kind: 'source_flood',
            traffic: 'udp',
            severity: 'high',
            duration_s: 3,
            target: { address: 'fd00::2', port: 53, protocol: 'udp', netns: 1 },
            source: { address: 'fd00::66', distinct: null },
          },
        ],
      },
    ]);
    assert.deepEqual(lines, [
      'ALERT medium syn_flood 10.0.0.2:80/tcp from ~52.0k sources for 12s (guard 42, ab-1)',
      'ALERT high source_flood(udp) [fd00::2]:53/udp from fd00::66 for 3s (guard 42, ab-2)',
    ]);
  });
});
