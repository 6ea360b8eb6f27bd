/**
 * `wirelens dns` against a real resolver and client: dnsmasq on loopback
 * with records written here (never reaching any outside server), queried by
 * dig for A, AAAA over ::1, MX, TXT, an NXDOMAIN and over TCP. Each record
 * is checked against what dig itself printed (id, status, answer section)
 * and against the processes: dig's side and dnsmasq's. Also: a query
 * nobody answers (timeout), a crafted response with a compression loop
 * (malformed), kernel and name filters, bad flags.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { freeDnsPort, startDnsmasq, TestDnsmasq } from '../helpers/dnsmasq';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { run, start } from '../helpers/proc';
import { CLI } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, Rec, startWirelens, WirelensRun } from '../helpers/wirelens';

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
        assert.ok((sa.latency_ms as number) <= (ca.latency_ms as number) + 1, 'dnsmasq answers within the time dig waits');

        const c6 = check(records, aaaa, 'client', { qname: 'h.test', qtype: 'AAAA', server: `[::1]:${port}` }, dm.pid);
        assert.deepEqual([c6.saddr, c6.daddr, c6.answers], ['::1', '::1', [{ name: 'h.test', type: 'AAAA', ttl: 0, data: 'fd00::7' }]]);
        check(records, aaaa, 'server', { qname: 'h.test', qtype: 'AAAA', server: `[::1]:${port}` }, dm.pid);

        const cmx = check(records, mx, 'client', { qname: 'm.test', qtype: 'MX' }, dm.pid);
        assert.equal((cmx.answers as Rec[])[0]!.data, '10 mail.m.test.');
        check(records, mx, 'server', { qname: 'm.test', qtype: 'MX' }, dm.pid);
        assert.equal((check(records, txt, 'client', { qname: 't.test', qtype: 'TXT' }, dm.pid).answers as Rec[])[0]!.data, '"hello world"');
        check(records, txt, 'server', { qname: 't.test', qtype: 'TXT' }, dm.pid);

        assert.equal(nx.status, 'NXDOMAIN');
        assert.deepEqual(check(records, nx, 'client', { qname: 'nope.test', qtype: 'A' }, dm.pid).answers, []);
        check(records, nx, 'server', { qname: 'nope.test', qtype: 'A' }, dm.pid);

        check(records, tcp, 'client', { qname: 'a.test', qtype: 'A', transport: 'tcp' }, dm.pid);
        check(records, tcp, 'server', { qname: 'a.test', qtype: 'A', transport: 'tcp' }, dm.pid);

        assert.match(stderr, /dns: 12 transactions: 12 answered, 0 timed out, 0 malformed; NXDOMAIN 16\.7%, SERVFAIL 0\.0% of answered/);
        assert.match(stderr, /top names: h\.test 4, /);
        assert.match(stderr, new RegExp(`latency client side, server 127\\.0\\.0\\.1:${port}: 5 answered, p50 [\\d.]+ms, p99 [\\d.]+ms`));
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
        await new Promise((r) => setTimeout(r, 800));
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
          assert.deepEqual([r.status, r.error, r.id, r.qname, r.comm], ['malformed', 'pointer loop', 0x4242, 'loop.test', 'node']);
        }
        assert.deepEqual(records.map((r) => r.side).sort(), ['client', 'server'], 'the receiver (client side) and the sender (server side)');
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
        wl = await startWirelens(['dns', '--port', String(port), '--comm', 'dig', '--name', 'A.test.', '--hooks', hooks]);
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
        const filtered = Number(/(\d+) filtered in kernel/.exec(stderr)?.[1]);
        assert.equal(filtered, 6, `dnsmasq's 3 queries in and 3 answers out dropped in the kernel: ${stderr}`);
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
      const c6 = check(records, v6, 'client', { qname: 'h.test', qtype: 'AAAA', server: `[${ns.addr6B}]:${port}` }, dm.pid);
      assert.deepEqual([c6.netns, c6.saddr], [ns.inodeA, ns.addr6A]);
      check(records, v6, 'server', { qname: 'h.test', qtype: 'AAAA' }, dm.pid);
    } finally {
      await dm?.stop();
      await wl?.finish();
      ns?.remove();
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
    it(`wirelens ${args.join(' ')}: one line with the reason and the usage, exit 2`, async () => {
      const r = await run(process.execPath, [CLI, ...args], 10_000);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^wirelens: error: .+\nusage: wirelens (dns|tls) /);
    });
  }
});
