/**
 * The human lines of tcp, dns and tls fit the output width (80 by default)
 * and keep their columns where the header puts them, whatever the values:
 * IPv6 link-local addresses, escaped task names and DNS names, long SNIs.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TcpRecord } from '../../src/events/tcp';
import { ProcInfo, SockInfo } from '../../src/events/record';
import { DnsTransaction } from '../../src/analysis/dns/transactions';
import { TlsHandshake } from '../../src/analysis/tls/handshakes';
import { Clock, monoNowNs } from '../../src/output/clock';
import { TextTable, cutText, displayWidth, fitCell } from '../../src/output/columns';
import { tcpTable } from '../../src/output/tcp-text';
import { dnsTable } from '../../src/output/dns-text';
import { tlsTable } from '../../src/output/tls-text';
import { DEFAULT_COLUMNS } from '../../src/output/stdout';
import { formatShortDuration } from '../../src/output/duration';

const clock = new Clock();
const ts = monoNowNs();
const LINK_LOCAL = 'fe80::1c2f:a3ff:fe4b:7d10';
const ESCAPED = 'x\\xc2\\x9b[31mlong\\xff';

const proc = (pid: number, comm: string): ProcInfo => ({ pid, tid: pid, uid: 0, gid: 0, cgroupId: 1, comm });
const sock = (saddr: string, sport: number, daddr: string, dport: number): SockInfo => ({
  netns: 4026531833,
  family: saddr.includes(':') ? 'ipv6' : 'ipv4',
  protocol: 6,
  saddr,
  sport,
  daddr,
  dport,
});

const tcpBase = {
  tool: 'tcp' as const,
  tsNs: ts,
  durationNs: null,
  txBytes: 0,
  rxBytes: 0,
  established: true,
  oldState: '',
  newState: '',
  health: null,
  state: null,
  reason: null,
  resetDirection: null,
  segments: null,
};
const health = { srttUs: 74, minRttUs: 11, retrans: 0, lost: 0, cwnd: 12 };
const TCP: TcpRecord[] = [
  {
    ...tcpBase,
    event: 'open',
    direction: 'active',
    proc: proc(2718, 'node'),
    sock: sock('127.0.0.1', 37130, '127.0.0.1', 41835),
  },
  {
    ...tcpBase,
    event: 'close',
    direction: 'passive',
    proc: proc(2718, 'node'),
    sock: sock('127.0.0.1', 41835, '127.0.0.1', 37130),
    durationNs: 1339000,
    txBytes: 5000,
    rxBytes: 1234,
    health,
  },
  {
    ...tcpBase,
    event: 'close',
    direction: 'active',
    established: false,
    proc: proc(4194304, ESCAPED),
    sock: sock(LINK_LOCAL, 52344, 'fe80::2a0:c9ff:fe12:3456', 65535),
    durationNs: 52000,
    health,
  },
  {
    ...tcpBase,
    event: 'retransmit',
    direction: 'unknown',
    proc: null,
    sock: sock('192.168.100.200', 52958, '2001:db8:85a3::8a2e:370:7334', 443),
    state: 'ESTABLISHED',
    segments: 2,
    health,
  },
  {
    ...tcpBase,
    event: 'drop',
    direction: 'unknown',
    proc: null,
    sock: sock(LINK_LOCAL, 5353, 'ff02::fb', 5353),
    reason: 'NETFILTER_DROP',
  },
];

const dnsBase = {
  tsNs: ts,
  side: 'client' as const,
  transport: 'udp' as const,
  proc: proc(10713, 'dig'),
  sock: sock('127.0.0.1', 40000, '127.0.0.1', 5353),
  server: '127.0.0.1:5353',
  id: 61552,
  qtype: 'A',
  rcode: 'NOERROR',
  answers: [],
  latencyNs: 94000,
  truncated: false,
  error: null,
};
const DNS: DnsTransaction[] = [
  {
    ...dnsBase,
    status: 'answered',
    qname: 'h.test',
    answers: [{ name: 'h.test', type: 'A', ttl: 0, data: '10.9.8.7' }],
  },
  {
    ...dnsBase,
    status: 'answered',
    side: 'server',
    proc: proc(1, ESCAPED),
    server: `[${LINK_LOCAL}]:5353`,
    qname: '\\027[31mq\\027[0m.a-very-long-label-for-the-test.example.test',
    qtype: 'AAAA',
    truncated: true,
    answers: [{ name: 'x', type: 'AAAA', ttl: 5, data: 'fd00::7' }],
  },
  { ...dnsBase, status: 'timeout', qname: 'x.test', rcode: null, latencyNs: null, error: 'reply not DNS (13 bytes)' },
  { ...dnsBase, status: 'malformed', qname: null, qtype: null, rcode: null, error: 'compression loop' },
];

const TLS: TlsHandshake[] = [
  {
    tsNs: ts,
    side: 'client',
    proc: proc(4905, 'curl'),
    sock: sock('127.0.0.1', 55668, '127.0.0.1', 14443),
    status: 'ok',
    client: {
      sni: 'myhost.test',
      alpn: ['h2', 'http/1.1'],
      legacyVersion: 'TLS 1.2',
      versions: ['TLS 1.3'],
      cipherSuites: 3,
    },
    server: { version: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384', helloRetry: false },
    helloNs: 1000,
    error: null,
  },
  {
    tsNs: ts,
    side: 'server',
    proc: proc(4194304, ESCAPED),
    sock: sock(LINK_LOCAL, 443, 'fe80::2a0:c9ff:fe12:3456', 65535),
    status: 'no_server_hello',
    client: {
      sni: 'caf\u00e9.\\x1b[31m.a-very-long-server-name.example.test',
      alpn: ['h\\x0a2'],
      legacyVersion: 'TLS 1.2',
      versions: [],
      cipherSuites: 1,
    },
    server: null,
    helloNs: null,
    error: null,
  },
];

/** Every line within `width`; each column's cell starts (left-aligned) or ends (right-aligned) where the header says. */
function checkTable<R>(table: TextTable<R>, recs: R[], width: number): string[] {
  const header = table.header();
  const lines = recs.map((r) => table.line(r, clock));
  for (const l of [header, ...lines]) assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`);
  // Column starts from the header (titles are left-aligned, or right-aligned for numbers).
  let at = 0;
  for (const c of table.columns) {
    const start = at;
    const end = at + c.width;
    for (const l of lines) {
      const cps = Array.from(l);
      const cell = cps.slice(start, c === table.columns[table.columns.length - 1] ? undefined : end).join('');
      if (cell.trim() === '') continue; // an empty cell (and the trimmed end of a line)
      if (start > 0) assert.equal(cps[start - 1], ' ', `a space before ${c.title || 'arrow'} in: ${l}`);
      if (c.right) assert.match(cell, /^ *\S+$/, `${c.title} right-aligned in: ${l}`);
      else assert.doesNotMatch(cell, /^ /, `${c.title} starts at its column in: ${l}`);
    }
    at = end + 1;
  }
  return lines;
}

describe('text tables fit the width, columns aligned', () => {
  for (const width of [DEFAULT_COLUMNS, 100, 120, 159, 160, 179, 180, 200]) {
    it(`tcp at ${width} columns`, () => void checkTable(tcpTable(width), TCP, width));
    it(`dns at ${width} columns`, () => void checkTable(dnsTable(width), DNS, width));
    it(`tls at ${width} columns`, () => void checkTable(tlsTable(width), TLS, width));
  }

  it('80 columns by default when stdout is not a terminal', () => assert.equal(DEFAULT_COLUMNS, 80));

  it('tcp at 80: the remote end keeps its port, a close its duration and bytes', () => {
    const lines = checkTable(tcpTable(80), TCP, 80);
    assert.match(lines[1]!, /41835 <- 127\.0\.0\.1:37130 +1\.34ms 5\.0k\/1\.2k$/);
    assert.match(lines[2]!, /\]:65535 failed 52us$/);
    assert.match(lines[2]!, /^\S+ close {3}4194304 x\\xc2\\x\u2026 52344 -> /);
  });

  it('dns: names as dig prints them, once; the TC bit and a reply that is not DNS shown', () => {
    const lines = checkTable(dnsTable(200), DNS, 200);
    assert.match(lines[1]!, / \\027\[31mq\\027\[\u2026st\.example\.test /);
    assert.doesNotMatch(lines[1]!, /\\\\/);
    assert.match(lines[1]!, /\(truncated\) AAAA fd00::7$/);
    assert.match(lines[2]!, /timeout +- +\(reply not DNS \(13 bytes\)\)$/);
  });

  it('tls: SNI as the parser made it, once', () => {
    const lines = checkTable(tlsTable(200), TLS, 200);
    assert.match(lines[1]!, / caf\u00e9\.\\x1b\[3\u2026example\.test /);
    assert.doesNotMatch(lines[1]!, /\\\\/);
  });

  it('short durations: three digits', () => {
    const d = [0, 999, 65_000, 1_339_000, 11_786_000, 118_000_000, 999_600_000, 1_234_000_000, 61e9, 7200e9, 36000e9];
    assert.deepEqual(d.map(formatShortDuration), [
      '0ns',
      '999ns',
      '65us',
      '1.34ms',
      '11.8ms',
      '118ms',
      '1.00s',
      '1.23s',
      '61.0s',
      '120m',
      '10.0h',
    ]);
  });

  it('cutText: the end, or the middle for addresses', () => {
    assert.equal(cutText('abcdef', 4), 'abc\u2026');
    assert.equal(cutText(`[${LINK_LOCAL}]:52344`, 21, 'middle'), '[fe80::1c2\u2026d10]:52344');
    assert.equal(cutText('short', 10), 'short');
    assert.equal(cutText('caf\u00e9!', 4), 'caf\u2026');
  });

  it('one module for every table: the port or %iface kept whole, wide characters, whole at Infinity', () => {
    // A narrow cell still keeps the whole `]:port` (more than half of it) and `%iface`.
    assert.equal(cutText(`[${LINK_LOCAL}]:52344`, 12, 'middle'), '[fe8\u2026]:52344');
    assert.equal(cutText('fe80::1c2d:3e4f:5a6b:7d10%enp0s31f6', 16, 'middle'), 'fe80:\u2026%enp0s31f6');
    assert.equal(cutText('[fe80::a8c1:abcd:ef01:2345%eth0]:51234', 21, 'middle'), '[fe80::a\u2026%eth0]:51234');
    // A name is not an address: its middle cut keeps half of each end, whatever it holds.
    assert.equal(cutText('x%verylongsuffix.example.test', 12, 'middle'), 'x%ver\u2026e.test');
    // East Asian wide characters take two columns: never half of one, the cell padded to its width.
    assert.equal(cutText('\u6771\u4eac\u30bf\u30ef\u30fc', 6), '\u6771\u4eac\u2026');
    assert.equal(displayWidth(fitCell('\u6771\u4eac\u30bf\u30ef\u30fc', 6)), 6);
    assert.equal(fitCell('7', 3, { right: true }), '  7');
    const url = 'GET /' + 'x'.repeat(300);
    assert.equal(cutText(url, Infinity), url);
  });
});
