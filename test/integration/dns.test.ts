/**
 * `wirelens dns` against a real resolver and client: dnsmasq on loopback
 * with records written here (never reaching any outside server), queried by
 * dig for A, AAAA over ::1, MX, TXT, an NXDOMAIN and over TCP. Each record
 * is checked against what dig itself printed (id, status, answer section)
 * and against the processes: dig's side and dnsmasq's. Also: a query
 * nobody answers (timeout), a crafted response with a compression loop
 * (malformed), kernel and name filters, bad flags; and TCP as the kernel
 * does not send it by itself (a user-space client in a namespace pair): the
 * query on the segment that completes the handshake, a retransmission
 * reaching back before the stream's start, a FIN ahead of a gap, segments
 * past the receive window; TCP Fast Open; a connection made before start.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startDnsmasq, TestDnsmasq } from '../helpers/dnsmasq';
import { freeDnsPort } from '../helpers/ports';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { run, start, waitFor } from '../helpers/proc';
import { craftPeer, CraftStep, nsSysctl, tfoClient } from '../helpers/tcp-craft';
import { CLI, FIXTURES } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, Rec, startWirelens, WirelensRun } from '../helpers/wirelens';
import { DnsTransactions } from '../../src/analysis/dns/transactions';
import { KernelSegments } from '../../src/sources/kernel/payload-segments';
import { Features } from '../../src/kernel/features';
import { RunningFamily } from '../../src/probes/family';
import { sockPayloadStats, startSockPayload } from '../../src/probes/sock-payload';

const skip = kernelSkipReason();

const RECORDS = [
  '--address=/a.test/10.1.2.3',
  '--host-record=h.test,10.9.8.7,fd00::7',
  '--mx-host=m.test,mail.m.test,10',
  '--txt-record=t.test,hello world',
];

interface Dig {
  pid: number;
  id: number;
  status: string;
  /** The answer section as {name,type,ttl,data}, names without the trailing dot. */
  answers: { name: string; type: string; ttl: number; data: string }[];
}

/** Runs dig (in network namespace `ns`, if given) and reads its own account of the exchange. */
async function dig(args: string[], ns?: string): Promise<Dig> {
  const argv = ['dig', '+tries=1', '+time=2', ...args];
  const p = ns ? start('ip', ['netns', 'exec', ns, ...argv]) : start(argv[0]!, argv.slice(1));
  const code = await p.exited;
  const out = p.stdout();
  assert.equal(code, 0, `dig ${args.join(' ')}: ${out}${p.stderr()}`);
  const head = /->>HEADER<<- opcode: \w+, status: (\w+), id: (\d+)/.exec(out);
  assert.ok(head, `dig printed a header: ${out}`);
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(out)?.[1] ?? '';
  const answers = section
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name, ttl, , type, ...data] = l.split(/\s+/);
      return { name: name!.replace(/\.$/, ''), type: type!, ttl: Number(ttl), data: data.join(' ') };
    });
  return { pid: p.child.pid!, id: Number(head[2]), status: head[1]!, answers };
}

/** The one record of `side` for dig's query `d`, checked against dig's own output. */
function check(recs: Rec[], d: Dig, side: 'client' | 'server', want: Rec, serverPid: number): Rec {
  const found = pick(recs, { side, id: d.id, ...want });
  assert.equal(found.length, 1, `one ${side} record for ${JSON.stringify(want)} id ${d.id}: ${JSON.stringify(recs)}`);
  const r = found[0]!;
  assert.equal(r.status, 'answered');
  assert.equal(r.rcode, d.status);
  assert.deepEqual(r.answers, d.answers, 'the answers dig printed');
  assert.ok((r.latency_ms as number) > 0, 'latency > 0');
  if (side === 'client') {
    assert.equal(r.pid, d.pid, "dig's pid");
    assert.equal(r.comm, 'dig');
    assert.equal(r.uid, 0);
  } else {
    assert.equal(r.pid, serverPid, "dnsmasq's pid");
    assert.equal(r.comm, 'dnsmasq');
  }
  assert.equal(typeof r.netns, 'number');
  return r;
}

/** A response to a query for loop.test whose answer's owner name points at itself, sent from one local UDP socket to another. */
const POINTER_LOOP_SENDER = `
const dgram = require('node:dgram');
const port = Number(process.argv[1]);
const q = [4, ...Buffer.from('loop'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1];
const head = [0x42, 0x42, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...q];
const at = head.length;
const pkt = Buffer.from([...head, 0xc0 | (at >> 8), at & 255, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
const rx = dgram.createSocket('udp4');
rx.bind(port, '127.0.0.1', () => {
  const tx = dgram.createSocket('udp4');
  rx.on('message', () => { console.log('delivered'); tx.close(); rx.close(); });
  tx.send(pkt, port, '127.0.0.1');
});
setTimeout(() => process.exit(3), 5000).unref();
`;

describe('wirelens dns with dnsmasq and dig', { skip }, () => {
  for (const hooks of ['auto', 'fallback']) {
    it(`A, AAAA over ::1, MX, TXT, NXDOMAIN and TCP: dig's side and dnsmasq's, as dig saw them (--hooks ${hooks})`, async () => {
      let wl: WirelensRun | undefined;
      let dm: TestDnsmasq | undefined;
      try {
        const port = await freeDnsPort();
        // Attached before dnsmasq makes its sockets: they are its from the start, whatever the hooks.
        wl = await startWirelens(['dns', '--port', String(port), '--hooks', hooks]);
        dm = await startDnsmasq(port, RECORDS);
        const p = String(port);
        const a = await dig(['@127.0.0.1', '-p', p, 'h.test', 'A']);
        const aaaa = await dig(['@::1', '-p', p, 'h.test', 'AAAA']);
        const mx = await dig(['@127.0.0.1', '-p', p, 'm.test', 'MX']);
        const txt = await dig(['@127.0.0.1', '-p', p, 't.test', 'TXT']);
        const nx = await dig(['@127.0.0.1', '-p', p, 'nope.test', 'A']);
        const tcp = await dig(['@127.0.0.1', '-p', p, '+tcp', 'a.test', 'A']);
        const { records, stderr } = await wl.finish();
        assert.equal(records.length, 12, `six transactions, each seen by dig and by dnsmasq: ${stderr}`);

        const server = `127.0.0.1:${port}`;
        const ca = check(records, a, 'client', { qname: 'h.test', qtype: 'A', transport: 'udp', server }, dm.pid);
        assert.deepEqual(ca.answers, [{ name: 'h.test', type: 'A', ttl: 0, data: '10.9.8.7' }]);
        assert.deepEqual([ca.daddr, ca.dport, ca.saddr], ['127.0.0.1', port, '127.0.0.1']);
        const sa = check(records, a, 'server', { qname: 'h.test', qtype: 'A', transport: 'udp', server }, dm.pid);
        assert.deepEqual([sa.saddr, sa.sport, sa.dport], ['127.0.0.1', port, ca.sport], "dnsmasq's socket, dig's port");
        assert.ok(
          (sa.latency_ms as number) <= (ca.latency_ms as number) + 1,
          'dnsmasq answers within the time dig waits',
        );

        const c6 = check(records, aaaa, 'client', { qname: 'h.test', qtype: 'AAAA', server: `[::1]:${port}` }, dm.pid);
        assert.deepEqual(
          [c6.saddr, c6.daddr, c6.answers],
          ['::1', '::1', [{ name: 'h.test', type: 'AAAA', ttl: 0, data: 'fd00::7' }]],
        );
        check(records, aaaa, 'server', { qname: 'h.test', qtype: 'AAAA', server: `[::1]:${port}` }, dm.pid);

        const cmx = check(records, mx, 'client', { qname: 'm.test', qtype: 'MX' }, dm.pid);
        assert.equal((cmx.answers as Rec[])[0]!.data, '10 mail.m.test.');
        check(records, mx, 'server', { qname: 'm.test', qtype: 'MX' }, dm.pid);
        assert.equal(
          (check(records, txt, 'client', { qname: 't.test', qtype: 'TXT' }, dm.pid).answers as Rec[])[0]!.data,
          '"hello world"',
        );
        check(records, txt, 'server', { qname: 't.test', qtype: 'TXT' }, dm.pid);

        assert.equal(nx.status, 'NXDOMAIN');
        assert.deepEqual(check(records, nx, 'client', { qname: 'nope.test', qtype: 'A' }, dm.pid).answers, []);
        check(records, nx, 'server', { qname: 'nope.test', qtype: 'A' }, dm.pid);

        check(records, tcp, 'client', { qname: 'a.test', qtype: 'A', transport: 'tcp' }, dm.pid);
        check(records, tcp, 'server', { qname: 'a.test', qtype: 'A', transport: 'tcp' }, dm.pid);

        assert.match(
          stderr,
          /dns: 12 transactions: 12 answered, 0 timed out, 0 malformed; NXDOMAIN 16\.7%, SERVFAIL 0\.0% of answered/,
        );
        assert.match(stderr, /top names: h\.test 4, /);
        assert.match(
          stderr,
          new RegExp(`latency client side, server 127\\.0\\.0\\.1:${port}: 5 answered, p50 [\\d.]+ms, p99 [\\d.]+ms`),
        );
      } finally {
        await dm?.stop();
        await wl?.finish();
      }
    });
  }

  for (const hooks of ['auto', 'fallback']) {
    it(`a query nobody answers is reported as timeout, once, after --timeout (--hooks ${hooks})`, async () => {
      let wl: WirelensRun | undefined;
      try {
        const port = await freeDnsPort(); // nothing listens there
        wl = await startWirelens(['dns', '--port', String(port), '--timeout', '0.5', '--hooks', hooks]);
        const p = start('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', 'gone.test', 'A']);
        await p.exited;
        await waitFor(wl.proc.stdout, /"status":"timeout"/, 5000, 'the timeout record');
        const { records } = await wl.finish();
        assert.equal(records.length, 1, JSON.stringify(records));
        const r = records[0]!;
        assert.deepEqual(
          [r.status, r.side, r.pid, r.comm, r.qname, r.qtype, r.rcode, r.latency_ms, r.server],
          ['timeout', 'client', p.child.pid, 'dig', 'gone.test', 'A', null, null, `127.0.0.1:${port}`],
        );
      } finally {
        await wl?.finish();
      }
    });

    it(`a crafted response with a compression loop is marked malformed, with its reason, from both sockets (--hooks ${hooks})`, async () => {
      let wl: WirelensRun | undefined;
      try {
        const port = await freeDnsPort();
        wl = await startWirelens(['dns', '--port', String(port), '--hooks', hooks]);
        const s = await run(process.execPath, ['-e', POINTER_LOOP_SENDER, String(port)], 10_000);
        assert.match(s.stdout, /delivered/, s.stderr);
        const { records, stderr } = await wl.finish();
        assert.equal(records.length, 2, JSON.stringify(records));
        for (const r of records) {
          assert.deepEqual(
            [r.status, r.error, r.id, r.qname, r.comm],
            ['malformed', 'pointer loop', 0x4242, 'loop.test', 'node'],
          );
        }
        assert.deepEqual(
          records.map((r) => r.side).sort(),
          ['client', 'server'],
          'the receiver (client side) and the sender (server side)',
        );
        assert.match(stderr, /0 answered, 0 timed out, 2 malformed/);
      } finally {
        await wl?.finish();
      }
    });

    it(`--comm dig drops dnsmasq in the kernel; --name keeps a.test and names under it, in wirelens (--hooks ${hooks})`, async () => {
      let wl: WirelensRun | undefined;
      let dm: TestDnsmasq | undefined;
      try {
        const port = await freeDnsPort();
        wl = await startWirelens([
          'dns',
          '--port',
          String(port),
          '--comm',
          'dig',
          '--name',
          'A.test.',
          '--hooks',
          hooks,
        ]);
        dm = await startDnsmasq(port, [...RECORDS, '--address=/x.a.test/10.4.4.4']);
        const p = String(port);
        await dig(['@127.0.0.1', '-p', p, 'h.test']);
        const a = await dig(['@127.0.0.1', '-p', p, 'a.test']);
        const x = await dig(['@127.0.0.1', '-p', p, 'x.a.test']);
        const { records, stderr } = await wl.finish();
        assert.deepEqual(records.map((r) => [r.side, r.qname, r.pid]).sort(), [
          ['client', 'a.test', a.pid],
          ['client', 'x.a.test', x.pid],
        ]);
        const byProcess = Number(/dns: kernel: (\d+) records dropped by --pid\/--comm/.exec(stderr)?.[1]);
        assert.equal(
          byProcess,
          6,
          `dnsmasq's 3 queries in and 3 answers out dropped in the kernel by --comm: ${stderr}`,
        );
      } finally {
        await dm?.stop();
        await wl?.finish();
      }
    });
  }
});

describe('wirelens dns across network namespaces', { skip }, () => {
  it('dig in one namespace, dnsmasq in another: both sides, each with its namespace', async () => {
    let ns: NetnsPair | undefined;
    let wl: WirelensRun | undefined;
    let dm: TestDnsmasq | undefined;
    try {
      ns = createNetnsPair('dns');
      const port = await freeDnsPort(); // free here too: --port must match nothing else on the host
      wl = await startWirelens(['dns', '--port', String(port)]);
      dm = await startDnsmasq(port, RECORDS, { listen: [ns.addrB, ns.addr6B], netns: ns.b });
      const v4 = await dig(['@' + ns.addrB, '-p', String(port), 'h.test', 'A'], ns.a);
      const v6 = await dig(['@' + ns.addr6B, '-p', String(port), 'h.test', 'AAAA'], ns.a);
      const { records } = await wl.finish();
      assert.equal(records.length, 4, JSON.stringify(records));
      const c4 = check(records, v4, 'client', { qname: 'h.test', qtype: 'A', server: `${ns.addrB}:${port}` }, dm.pid);
      const s4 = check(records, v4, 'server', { qname: 'h.test', qtype: 'A', server: `${ns.addrB}:${port}` }, dm.pid);
      assert.deepEqual([c4.netns, c4.saddr, s4.netns, s4.daddr], [ns.inodeA, ns.addrA, ns.inodeB, ns.addrA]);
      const c6 = check(
        records,
        v6,
        'client',
        { qname: 'h.test', qtype: 'AAAA', server: `[${ns.addr6B}]:${port}` },
        dm.pid,
      );
      assert.deepEqual([c6.netns, c6.saddr], [ns.inodeA, ns.addr6A]);
      check(records, v6, 'server', { qname: 'h.test', qtype: 'AAAA' }, dm.pid);
    } finally {
      await dm?.stop();
      await wl?.finish();
      ns?.remove();
    }
  });
});

/** A query for `name` (type A) with id `id`. */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}
/** Length-prefixed, as DNS over TCP sends it. */
const overTcp = (m: Buffer): Buffer => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]);

/** The one record of `side` with `id` from namespace `netns`, answered, with a latency. */
function answeredOnce(recs: Rec[], netns: number, side: string, id: number, where: Rec = {}): Rec {
  const found = pick(recs, { netns, side, id, ...where });
  assert.equal(found.length, 1, `one ${side} record for id ${id}: ${JSON.stringify(recs)}`);
  const r = found[0]!;
  assert.equal(r.status, 'answered', JSON.stringify(r));
  assert.ok((r.latency_ms as number) > 0, `paired with its query: ${JSON.stringify(r)}`);
  return r;
}

/** Reads a counter from the `dns: kernel:` summary line. */
function kernelCount(stderr: string, what: RegExp): number {
  const line = /dns: kernel: .*/.exec(stderr)?.[0] ?? '';
  const m = what.exec(line);
  assert.ok(m, `${what} in ${line || stderr}`);
  return Number(m[1]);
}

const DNS_TCP_CLIENT = path.join(FIXTURES, 'dns-tcp-client.js');

describe(
  'wirelens dns: TCP the kernel does not send by itself, TFO, and connections made before start',
  { skip },
  () => {
    it('the query on the handshake-completing segment, a retransmission before the start, a FIN ahead of a gap, segments past the window', async () => {
      let ns: NetnsPair | undefined;
      let wl: WirelensRun | undefined;
      let dm: TestDnsmasq | undefined;
      try {
        ns = createNetnsPair('dnsraw');
        const peer = craftPeer(ns);
        const port = await freeDnsPort();
        wl = await startWirelens(['dns', '--port', String(port)]);
        dm = await startDnsmasq(port, RECORDS, { listen: [ns.addrB], netns: ns.b });
        const hex = (b: Buffer): string => b.toString('hex');
        const [q1, q2a, q2b, q3a, q3b, q4a, q4b] = [0x1101, 0x1201, 0x1202, 0x1301, 0x1302, 0x1401, 0x1402].map((id) =>
          overTcp(dnsQuery(id, 'h.test')),
        );
        // 1. No bare ACK: the query's segment completes the handshake, on the listener.
        const c1 = await peer.run(port, [{ syn: '' }, { data: hex(q1!), off: 0 }, { answers: 1 }, { rst: true }]);
        // 2. A segment from the SYN's own number on: its first byte is before the stream's start.
        const c2 = await peer.run(port, [
          { syn: '' },
          { ack: true },
          { data: hex(q2a!), off: 0 },
          { answers: 1 },
          { data: '00' + hex(q2a!) + hex(q2b!), off: -1 },
          { answers: 2 },
          { rst: true },
        ]);
        // 3. The second query's end and FIN first, its start 50 ms later.
        const c3 = await peer.run(port, [
          { syn: '' },
          { ack: true },
          { data: hex(q3a!), off: 0 },
          { answers: 1 },
          { data: hex(q3b!.subarray(5)), off: q3a!.length + 5, fin: true },
          { sleep: 50 },
          { data: hex(q3b!.subarray(0, 5)), off: q3a!.length },
          { answers: 2 },
          { rst: true },
        ]);
        // 4. 60 segments far past the receive window (TCP drops them), then the next query.
        const junk: CraftStep[] = Array.from({ length: 60 }, (_, i) => ({
          data: 'ab',
          repeat: 1400,
          off: 100_000 + i * 1400,
        }));
        const c4 = await peer.run(port, [
          { syn: '' },
          { ack: true },
          { data: hex(q4a!), off: 0 },
          { answers: 1 },
          ...junk,
          { data: hex(q4b!), off: q4a!.length },
          { answers: 2 },
          { rst: true },
        ]);
        const { records, stderr } = await wl.finish();
        const mine = pick(records, { netns: ns.inodeB });
        assert.deepEqual(pick(mine, { status: 'malformed' }), [], 'nothing cut or broken');
        const server = `${ns.addrB}:${port}`;
        const c1r = answeredOnce(mine, ns.inodeB, 'server', 0x1101, {
          dport: c1.sport,
          server,
          transport: 'tcp',
          qname: 'h.test',
        });
        assert.equal(c1r.comm, 'dnsmasq');
        for (const [c, ids] of [
          [c2, [0x1201, 0x1202]],
          [c3, [0x1301, 0x1302]],
          [c4, [0x1401, 0x1402]],
        ] as const) {
          for (const id of ids) answeredOnce(mine, ns.inodeB, 'server', id, { dport: c.sport });
        }
        assert.equal(mine.length, 7, JSON.stringify(mine));
        assert.ok(kernelCount(stderr, /(\d+) segments copied from a listener/) >= 1);
        assert.ok(kernelCount(stderr, /(\d+) segments past the receive window not copied/) >= 60);
      } finally {
        await dm?.stop();
        await wl?.finish();
        ns?.remove();
      }
    });

    it('TCP Fast Open: the query in the SYN and the next one, from both ends', async () => {
      let ns: NetnsPair | undefined;
      let wl: WirelensRun | undefined;
      let dm: TestDnsmasq | undefined;
      try {
        ns = createNetnsPair('dnstfo');
        nsSysctl(ns.a, 'net.ipv4.tcp_fastopen', String(0x1 | 0x4)); // client, no cookie needed
        nsSysctl(ns.b, 'net.ipv4.tcp_fastopen', String(0x2 | 0x200 | 0x400)); // server, no cookie, every listener (set before dnsmasq listens)
        const port = await freeDnsPort();
        wl = await startWirelens(['dns', '--port', String(port)]);
        dm = await startDnsmasq(port, RECORDS, { listen: [ns.addrB], netns: ns.b });
        const c = await tfoClient(ns.a, ns.addrB, port, [
          overTcp(dnsQuery(0x2101, 'h.test')).toString('hex'),
          overTcp(dnsQuery(0x2102, 'a.test')).toString('hex'),
        ]);
        assert.equal(c.answers, 2);
        const { records, stderr } = await wl.finish();
        for (const id of [0x2101, 0x2102]) {
          answeredOnce(records, ns.inodeA, 'client', id, { sport: c.local, transport: 'tcp' });
          answeredOnce(records, ns.inodeB, 'server', id, { dport: c.local, transport: 'tcp' });
        }
        assert.equal(records.length, 4, JSON.stringify(records));
        assert.ok(kernelCount(stderr, /(\d+) segments copied from a listener/) >= 1, 'the SYN reached the listener');
      } finally {
        await dm?.stop();
        await wl?.finish();
        ns?.remove();
      }
    });

    it('a TCP connection made before start is not copied (its streams began unseen): no false timeouts or gaps, counted', async () => {
      let ns: NetnsPair | undefined;
      let wl: WirelensRun | undefined;
      let dm: TestDnsmasq | undefined;
      try {
        ns = createNetnsPair('dnsold');
        const port = await freeDnsPort();
        dm = await startDnsmasq(port, RECORDS, { listen: [ns.addrB], netns: ns.b });
        const queries = [0x3101, 0x3102, 0x3103].map((id) => overTcp(dnsQuery(id, 'h.test')).toString('hex'));
        const client = start(
          'ip',
          ['netns', 'exec', ns.a, process.execPath, DNS_TCP_CLIENT, ns.addrB, String(port), ...queries],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        await waitFor(client.stdout, /answer 1\n/, 10_000, 'the first answer');
        wl = await startWirelens(['dns', '--port', String(port), '--timeout', '0.5']);
        client.child.stdin!.write('next\n');
        await waitFor(client.stdout, /answer 2\n/, 10_000, 'the second answer');
        client.child.stdin!.write('next\n');
        await waitFor(client.stdout, /answer 3\n/, 10_000, 'the third answer');
        await new Promise((r) => setTimeout(r, 800)); // past --timeout, had anything been taken for a query
        const { records, stderr } = await wl.finish();
        client.child.stdin!.end();
        await client.exited;
        assert.deepEqual(records, [], 'nothing from a connection seen mid-stream');
        assert.ok(
          kernelCount(stderr, /(\d+) connections first seen mid-stream not copied/) >= 2,
          'the client socket and the server one',
        );
      } finally {
        await dm?.stop();
        await wl?.finish();
        ns?.remove();
      }
    });
  },
);

describe('wirelens dns: the copy limit of a TCP direction', { skip }, () => {
  it('the record where the kernel stops copying says so: a message cut there is malformed, the directions counted', async () => {
    let fam: RunningFamily | undefined;
    let dm: TestDnsmasq | undefined;
    try {
      const port = await freeDnsPort();
      dm = await startDnsmasq(port, RECORDS);
      const tracker = new DnsTransactions({ timeoutNs: 5_000_000_000 });
      const source = new KernelSegments();
      const out: Rec[] = [];
      fam = startSockPayload(
        {
          dns: true,
          tls: false,
          filters: { pids: [], comm: undefined, ports: [port] },
          hookMode: 'auto',
          features: new Features(),
          dnsTcpMax: 100,
        },
        (c) => {
          const x = source.push(c);
          if (!x) return;
          for (const t of tracker.push(x)) out.push({ side: t.side, status: t.status, error: t.error, id: t.id });
        },
        () => assert.fail('undecodable record'),
      );
      // Four queries of 26 bytes: the fourth crosses byte 100.
      const queries = [0x4101, 0x4102, 0x4103, 0x4104].map((id) => overTcp(dnsQuery(id, 'h.test')).toString('hex'));
      const client = start(process.execPath, [DNS_TCP_CLIENT, '127.0.0.1', String(port), ...queries], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      for (const n of [1, 2, 3]) {
        await waitFor(client.stdout, new RegExp(`answer ${n}\n`), 10_000, `answer ${n}`);
        client.child.stdin!.write('next\n');
      }
      await waitFor(client.stdout, /answer 4\n/, 10_000, 'answer 4');
      client.child.stdin!.end();
      await client.exited;
      await new Promise((r) => setTimeout(r, 100));
      fam.detach();
      fam.drain();
      const k = sockPayloadStats(fam);
      const cut = out.filter((r) => r.status === 'malformed');
      assert.equal(
        cut.length,
        4,
        `the fourth query and the third answer cut, seen from each end: ${JSON.stringify(out)}`,
      );
      for (const r of cut) assert.equal(r.error, 'cut at the copy limit');
      // Answers are 42 bytes: the third crosses byte 100 the other way.
      assert.equal(
        pick(out, { side: 'client', status: 'answered', id: 0x4102 }).length,
        1,
        'what came before the limit is whole',
      );
      assert.ok(k.limit >= 4n, `both directions of both sockets: ${k.limit}`);
    } finally {
      fam?.close();
      await dm?.stop();
    }
  });
});

describe('wirelens dns and tls: bad flags', () => {
  for (const args of [
    ['dns', '--timeout', '0'],
    ['dns', '--timeout', 'soon'],
    ['dns', '--name', 'a..b'],
    ['dns', '--name', ''],
    ['dns', 'extra'],
    ['tls', '--timeout', '-1'],
    ['tls', '--sni', 'x'],
  ]) {
    it(`wirelens ${args.join(' ')}: one line with the reason and a remedy naming --help, exit 2`, async () => {
      const r = await run(process.execPath, [CLI, ...args], 10_000);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^wirelens: error: .+\nwirelens: remedy: wirelens (dns|tls) --help lists its options\n$/);
    });
  }
});
