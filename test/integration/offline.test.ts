/**
 * Live equals offline: while a test drives real traffic on loopback
 * (dnsmasq and dig over UDP and TCP; openssl s_server and curl), the live
 * command reports it and tcpdump writes the same traffic to a file; the
 * records of `wirelens dns|tls -r` on that file must equal the live records
 * on every field but the process, the namespace and the time (latency and
 * hello time within 1 ms). And `wirelens capture -w` (the socket hook, each
 * loopback packet twice: once per socket) read back with `wirelens dns -r`:
 * every transaction once per side, with its processes. `wirelens tcp -r` on
 * the same kind of file: opens and closes from both ends with the bytes the
 * kernel counted. Bad files: one error line, exit 2, records before it kept.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDnsmasq, TestDnsmasq } from '../helpers/dnsmasq';
import { Cert, makeCert, SServer, startSServer } from '../helpers/tls-servers';
import { freeDnsPort, freePort } from '../helpers/ports';
import { run, Spawned, start, stop, waitFor } from '../helpers/proc';
import { CLI } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { Rec, startWirelens, WirelensRun } from '../helpers/wirelens';
import { assertSame, tcpdumpLo, wirelensJson } from '../helpers/offline';

const have = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const missing = ['tcpdump', 'dig', 'dnsmasq', 'openssl', 'curl'].filter((t) => !have(t));
const skip = kernelSkipReason() ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);

const RECORDS = ['--host-record=h.test,10.9.8.7,fd00::7', '--mx-host=m.test,mail.m.test,10'];

const wirelens = wirelensJson;
const tcpdump = tcpdumpLo;

async function dig(args: string[]): Promise<number> {
  const p = start('dig', ['+tries=1', '+time=2', ...args]);
  const code = await p.exited;
  assert.equal(code, 0, `dig ${args.join(' ')}: ${p.stdout()}${p.stderr()}`);
  return p.child.pid!;
}

describe('live equals offline', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-offline-'));
  let cert: Cert;
  before(() => {
    cert = makeCert();
  });
  after(() => {
    cert?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("dns: dnsmasq and dig over UDP (IPv4, IPv6) and TCP: `dns -r` on tcpdump's file gives the live records", async () => {
    let wl: WirelensRun | undefined;
    let dm: TestDnsmasq | undefined;
    let td: Spawned | undefined;
    const file = path.join(dir, 'dns.pcap');
    try {
      const port = await freeDnsPort();
      wl = await startWirelens(['dns', '--port', String(port)]);
      dm = await startDnsmasq(port, RECORDS);
      td = await tcpdump(file, `port ${port}`);
      const p = String(port);
      await dig(['@127.0.0.1', '-p', p, 'h.test', 'A']);
      await dig(['@::1', '-p', p, 'h.test', 'AAAA']);
      await dig(['@127.0.0.1', '-p', p, 'm.test', 'MX']);
      await dig(['@127.0.0.1', '-p', p, 'nope.test', 'A']);
      await dig(['@127.0.0.1', '-p', p, '+tcp', 'h.test', 'A']);
      await dig(['@::1', '-p', p, '+tcp', 'm.test', 'MX']);
      await new Promise((r) => setTimeout(r, 200));
      await stop(td, 'SIGINT');
      const live = await wl.finish();
      assert.equal(live.records.length, 12, `six transactions from both ends: ${live.stderr}`);
      const off = await wirelens(['dns', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assertSame(live.records, off.records, ['latency_ms']);
      assert.equal(new Set(off.records.map((r) => r.transport)).size, 2, 'UDP and TCP');
      assert.match(off.stderr, /no process information in .*dns\.pcap \(not written by wirelens capture\)/);
      assert.equal(off.stderr.match(/no process information/g)?.length, 1, 'said once');
      // The same file from standard input.
      const stdin = await run('sh', ['-c', `${process.execPath} ${CLI} dns -r - --json < ${file}`], 60_000);
      assert.equal(stdin.stdout.trim().split('\n').length, 12, stdin.stderr);
    } finally {
      if (td) await stop(td, 'SIGINT');
      await dm?.stop();
      await wl?.finish();
    }
  });

  it("tls: openssl s_server and curl (TLS 1.3 and 1.2): `tls -r` on tcpdump's file gives the live records", async () => {
    let wl: WirelensRun | undefined;
    let srv: SServer | undefined;
    let td: Spawned | undefined;
    const file = path.join(dir, 'tls.pcap');
    try {
      const port = await freePort();
      wl = await startWirelens(['tls', '--port', String(port)]);
      srv = await startSServer(cert, port, ['-alpn', 'http/1.1']);
      td = await tcpdump(file, `tcp port ${port}`);
      const url = `https://myhost.test:${port}/`;
      const resolve = `myhost.test:${port}:127.0.0.1`;
      for (const extra of [[], ['--tlsv1.2', '--tls-max', '1.2']]) {
        const c = await run('curl', [
          '-sk',
          '--max-time',
          '10',
          '-o',
          '/dev/null',
          '--resolve',
          resolve,
          ...extra,
          url,
        ]);
        assert.equal(c.code, 0, c.stderr);
      }
      await new Promise((r) => setTimeout(r, 200));
      await stop(td, 'SIGINT');
      const live = await wl.finish();
      assert.equal(live.records.length, 4, `two connections from both ends: ${live.stderr}`);
      const off = await wirelens(['tls', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assertSame(live.records, off.records, ['hello_ms']);
      assert.deepEqual(new Set(off.records.map((r) => r.version)), new Set(['TLS 1.3', 'TLS 1.2']), 'both versions');
    } finally {
      if (td) await stop(td, 'SIGINT');
      await srv?.stop();
      await wl?.finish();
    }
  });

  it('`capture -w` (socket hook: each loopback packet at both sockets) then `dns -r`: each transaction once per side, with its processes', async () => {
    let wl: WirelensRun | undefined;
    let dm: TestDnsmasq | undefined;
    let cap: Spawned | undefined;
    const file = path.join(dir, 'sockets.pcapng');
    try {
      const port = await freeDnsPort();
      wl = await startWirelens(['dns', '--port', String(port)]);
      dm = await startDnsmasq(port, RECORDS);
      cap = start(process.execPath, [CLI, 'capture', '-w', file, `port ${port}`]);
      await waitFor(cap.stderr, /listening on/, 15_000, 'capture to listen');
      const p = String(port);
      const pids = [
        await dig(['@127.0.0.1', '-p', p, 'h.test', 'A']),
        await dig(['@127.0.0.1', '-p', p, '+tcp', 'm.test', 'MX']),
      ];
      await new Promise((r) => setTimeout(r, 300));
      await stop(cap, 'SIGINT');
      const live = await wl.finish();
      assert.equal(live.records.length, 4, live.stderr);
      const off = await wirelens(['dns', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assert.doesNotMatch(off.stderr, /no process information/);
      // The copies are two sockets' views, not repeats: the same records as live, processes included.
      assertSame(live.records, off.records, ['latency_ms']);
      for (const r of off.records) {
        if (r.side === 'client') assert.ok(pids.includes(r.pid as number) && r.comm === 'dig', JSON.stringify(r));
        else assert.deepEqual([r.pid, r.comm], [dm.pid, 'dnsmasq'], JSON.stringify(r));
      }
      const byPid = (rs: Rec[]) => rs.map((r) => `${r.side}/${r.id}/${r.pid}/${r.comm}/${r.uid}`).sort();
      assert.deepEqual(byPid(off.records), byPid(live.records), 'the processes live named');
      const tcp = await wirelens(['tcp', '-r', file]);
      assert.equal(tcp.code, 0, tcp.stderr);
      const opens = tcp.records.filter((r) => r.event === 'open');
      assert.deepEqual(
        opens.map((r) => `${r.direction}/${r.comm}`).sort(),
        ['active/dig', 'passive/dnsmasq'],
        `the TCP query's connection, once from each socket: ${JSON.stringify(tcp.records)}`,
      );
    } finally {
      if (cap) await stop(cap, 'SIGINT');
      await dm?.stop();
      await wl?.finish();
    }
  });

  it("tcp: `tcp -r` on tcpdump's file: an open and a close from each end, with the bytes the kernel counted", async () => {
    let wl: WirelensRun | undefined;
    let srv: SServer | undefined;
    let td: Spawned | undefined;
    const file = path.join(dir, 'tcp.pcap');
    try {
      const port = await freePort();
      wl = await startWirelens(['tcp', '--port', String(port), '--events', 'open,close,reset']);
      srv = await startSServer(cert, port, []);
      td = await tcpdump(file, `tcp port ${port}`);
      const url = `https://myhost.test:${port}/`;
      for (let i = 0; i < 2; i++) {
        const c = await run('curl', [
          '-sk',
          '--max-time',
          '10',
          '-o',
          '/dev/null',
          '--resolve',
          `myhost.test:${port}:127.0.0.1`,
          url,
        ]);
        assert.equal(c.code, 0, c.stderr);
      }
      await new Promise((r) => setTimeout(r, 300));
      await stop(td, 'SIGINT');
      const live = await wl.finish();
      const off = await wirelens(['tcp', '-r', file, '--events', 'open,close,reset']);
      assert.equal(off.code, 0, off.stderr);
      const fields = (rs: Rec[]) =>
        rs
          .filter((r) => r.event === 'open' || r.event === 'close')
          .map((r) => `${r.event}/${r.direction}/${r.sport}/${r.dport}/${r.tx_bytes}/${r.rx_bytes}/${r.established}`)
          .sort();
      assert.equal(fields(off.records).length, 8, JSON.stringify(off.records));
      assert.deepEqual(fields(off.records), fields(live.records), 'the same opens and closes, bytes each way');
      const durations = (rs: Rec[]) =>
        rs
          .filter((r) => r.event === 'close')
          .sort((x, y) => `${x.sport}/${x.dport}`.localeCompare(`${y.sport}/${y.dport}`))
          .map((r) => r.duration_ms as number);
      const [dl, doff] = [durations(live.records), durations(off.records)];
      for (let i = 0; i < dl.length; i++)
        assert.ok(Math.abs(dl[i]! - doff[i]!) <= 5, `duration live ${dl[i]} ms, file ${doff[i]} ms`);
    } finally {
      if (td) await stop(td, 'SIGINT');
      await srv?.stop();
      await wl?.finish();
    }
  });

  it('a file cut short: the records before the cut, one error line with a remedy, exit 2; a missing file: exit 2', async () => {
    const whole = path.join(dir, 'dns.pcap');
    assert.ok(fs.existsSync(whole), 'from the first test');
    const bytes = fs.readFileSync(whole);
    const cut = path.join(dir, 'cut.pcap');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 20));
    const r = await wirelens(['dns', '-r', cut]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.records.length >= 10, `records read before the cut: ${r.records.length}`);
    assert.match(
      r.stderr,
      /wirelens: error: -r .*cut\.pcap: truncated: last record cut after \d+ of \d+ bytes \(\d+ packets read before it\)\n/,
    );
    assert.match(r.stderr, /wirelens: remedy: /);
    const m = await wirelens(['tls', '-r', path.join(dir, 'nope.pcap')]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /^wirelens: error: -r .*nope\.pcap: cannot open it \(ENOENT\)\nwirelens: remedy: /);
    const h = await wirelens(['dns', '-r', whole, '--hooks', 'auto']);
    assert.equal(h.code, 2);
    assert.match(h.stderr, /--hooks/);
  });
});
