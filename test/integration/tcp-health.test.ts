/**
 * `wirelens tcp --events`: retransmits under 30% random loss compared with
 * the socket's own count (ss -ti), RTT behind a queue compared with the
 * socket's own, resets both ways and drops with the kernel's reason, between
 * two test namespaces; the classic-tracepoint fallbacks too.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { run, Spawned, stop, waitFor } from '../helpers/proc';
import { startFixtureServer, startIn } from '../helpers/fixtures';
import { CLI, FIXTURES } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, startWirelens, WirelensRun } from '../helpers/wirelens';

const skip = kernelSkipReason();
const HOLD = path.join(FIXTURES, 'tcp-hold.js');

/*
 * This kernel has no netem (nor fq): loss comes from nftables dropping a
 * random 30% at the receiving namespace's door, and delay from a token
 * bucket whose queue holds up to 50 ms of data. Both are removed with the
 * namespaces, and explicitly at the end of each test.
 */
async function randomLoss(ns: string, from: string, port: number, percent: number): Promise<void> {
  const rules = `table inet wlt_loss {
  chain pre { type filter hook prerouting priority -300; policy accept;
    ip saddr ${from} tcp dport ${port} numgen random mod 100 < ${percent} drop
  }
}
`;
  const r = await run('ip', ['netns', 'exec', ns, 'sh', '-c', `printf '%s' '${rules}' | nft -f -`]);
  assert.equal(r.code, 0, `nft: ${r.stderr}`);
}

async function noLoss(ns: string): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'wlt_loss']);
}

async function queueDelay(ns: string, dev: string): Promise<void> {
  const r = await run('ip', [
    'netns',
    'exec',
    ns,
    'tc',
    'qdisc',
    'replace',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    '4mbit',
    'burst',
    '16kb',
    'latency',
    '50ms',
  ]);
  assert.equal(r.code, 0, r.stderr);
}

async function noQdisc(ns: string, dev: string): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
}

/** The socket's own figures (ss -ti) for the connection from lport: total retransmits and smoothed RTT in us. */
async function ssInfo(ns: string, lport: number): Promise<{ retrans: number; srttUs: number }> {
  const r = await run('ip', ['netns', 'exec', ns, 'ss', '-tin', 'sport', `= :${lport}`]);
  const rtt = / rtt:([\d.]+)\//.exec(r.stdout);
  assert.ok(rtt, `ss shows the socket: ${r.stdout}`);
  const retrans = /retrans:\d+\/(\d+)/.exec(r.stdout);
  return { retrans: retrans ? Number(retrans[1]) : 0, srttUs: Number(rtt[1]) * 1000 };
}

describe('wirelens tcp --events across namespaces', { skip }, () => {
  let ns: NetnsPair;
  before(() => {
    ns = createNetnsPair('hlth');
  });
  after(() => ns?.remove());

  for (const hooks of ['auto', 'fallback']) {
    it(`retransmits under 30% loss: reported for exactly that connection, as many as the socket counts; the drops with their reason (--hooks ${hooks})`, async () => {
      let srv: Spawned | undefined;
      let wl: WirelensRun | undefined;
      let client: Spawned | undefined;
      try {
        const s = await startFixtureServer(HOLD, ['server', ns.addrB, '0', String(200_000)], ns.b);
        srv = s.srv;
        const port = s.port;
        wl = await startWirelens([
          'tcp',
          '--events',
          'retransmit,close,drop',
          '--port',
          String(port),
          '--hooks',
          hooks,
        ]);
        // One segment per packet on the lossy path: 30% of ~140 packets, not of a few 64 KB ones.
        const gso = await run('ip', ['-n', ns.a, 'link', 'set', 'dev', ns.devA, 'gso_max_segs', '1']);
        assert.equal(gso.code, 0, gso.stderr);
        await randomLoss(ns.b, ns.addrA, port, 30);
        client = startIn(ns.a, [process.execPath, HOLD, 'client', ns.addrB, String(port), String(200_000)]);
        const m = await waitFor(client.stdout, /done (\d+)/, 60_000, 'the lossy transfer');
        const lport = Number(m[1]);
        const truth = (await ssInfo(ns.a, lport)).retrans;
        await noLoss(ns.b);
        await stop(client);
        const { records } = await wl.finish();
        const mine = pick(records, {
          event: 'retransmit',
          saddr: ns.addrA,
          sport: lport,
          daddr: ns.addrB,
          dport: port,
        });
        // The server's end of the same connection may retransmit too (its answer, when the loss took the
        // client's ACK of it): that is this connection, not another.
        const others = pick(records, { event: 'retransmit' }).filter((r) => r.sport !== lport && r.dport !== lport);
        assert.ok(truth >= 10, `30% loss makes retransmits (ss says ${truth})`);
        assert.deepEqual(others, [], 'no retransmits from other connections');
        for (const r of mine) {
          assert.equal(r.comm, 'node', 'the sending process');
          assert.equal(r.pid, client.child.pid);
          assert.equal(r.netns, ns.inodeA);
          assert.equal(typeof r.state, 'string');
        }
        // One event per retransmitted packet, which may hold several segments; ss counts segments.
        const segs = mine.reduce((n, r) => n + (r.segments as number), 0);
        assert.ok(
          segs >= truth * 0.9 && segs <= truth,
          `${segs} segments in ${mine.length} events vs ${truth} retransmitted segments`,
        );
        const close = pick(records, { event: 'close', sport: lport, pid: client.child.pid });
        assert.equal(close.length, 1);
        assert.ok(
          (close[0]!.retrans as number) >= truth,
          `close carries the socket's retransmits: ${close[0]!.retrans} >= ${truth}`,
        );
        const drops = pick(records, {
          event: 'drop',
          reason: 'NETFILTER_DROP',
          saddr: ns.addrA,
          sport: lport,
          daddr: ns.addrB,
          dport: port,
        });
        // Every lost segment was a drop here; a drop may also hit a retransmission.
        assert.ok(
          drops.length >= truth * 0.5,
          `the firewall's drops, named by the kernel: ${drops.length} for ${truth} retransmits`,
        );
        for (const d of drops) assert.equal(d.netns, ns.inodeB);
      } finally {
        await noLoss(ns.b);
        await run('ip', ['-n', ns.a, 'link', 'set', 'dev', ns.devA, 'gso_max_segs', '65535']);
        if (client) await stop(client, 'SIGKILL');
        if (wl) await stop(wl.proc, 'SIGKILL');
        if (srv) await stop(srv);
      }
    });

    it(`RTT behind a 50 ms queue: close srtt agrees with the socket (ss -ti), rtt samples come (--hooks ${hooks})`, async () => {
      let srv: Spawned | undefined;
      let wl: WirelensRun | undefined;
      let client: Spawned | undefined;
      try {
        const s = await startFixtureServer(HOLD, ['server', ns.addrB, '0', '400000'], ns.b);
        srv = s.srv;
        const port = s.port;
        wl = await startWirelens([
          'tcp',
          '--events',
          'close,rtt',
          '--rtt-every',
          '100',
          '--port',
          String(port),
          '--hooks',
          hooks,
        ]);
        await queueDelay(ns.a, ns.devA);
        client = startIn(ns.a, [process.execPath, HOLD, 'client', ns.addrB, String(port), '400000']);
        const m = await waitFor(client.stdout, /done (\d+)/, 30_000, 'the queued transfer');
        const lport = Number(m[1]);
        const truth = (await ssInfo(ns.a, lport)).srttUs;
        await stop(client);
        const { records } = await wl.finish();
        const close = pick(records, { event: 'close', sport: lport, pid: client.child.pid });
        assert.equal(close.length, 1, JSON.stringify(records));
        const srtt = close[0]!.srtt_us as number;
        assert.ok(truth >= 5000, `the queue delays the path (ss: ${truth} us)`);
        // The FIN's quick round trip may pull srtt down by an eighth after ss read it.
        assert.ok(srtt >= truth * 0.7 && srtt <= truth * 1.3, `close srtt ${srtt} us vs ss ${truth} us`);
        assert.ok((close[0]!.min_rtt_us as number) <= srtt, 'min rtt <= srtt');
        const samples = pick(records, { event: 'rtt', sport: lport, daddr: ns.addrB, dport: port });
        assert.ok(samples.length >= 2, `rtt samples from the client socket, one per 100 ms at most: ${samples.length}`);
        assert.ok(
          samples.some((s) => (s.srtt_us as number) >= 5000),
          'samples see the queue',
        );
        for (const s of samples) assert.equal(s.pid, client.child.pid);
      } finally {
        await noQdisc(ns.a, ns.devA);
        if (client) await stop(client, 'SIGKILL');
        if (wl) await stop(wl.proc, 'SIGKILL');
        if (srv) await stop(srv);
      }
    });
  }

  for (const hooks of ['auto', 'fallback']) {
    it(`resets both ways and drops with the kernel's reason (--hooks ${hooks})`, async () => {
      const closedPort = 9;
      const wl = await startWirelens(['tcp', '--events', 'reset,drop', '--port', String(closedPort), '--hooks', hooks]);
      try {
        const conn = startIn(ns.a, [
          process.execPath,
          '-e',
          `require('net').connect(${closedPort}, '${ns.addrB}').on('error', (e) => { console.log(e.code); process.exit(0); })`,
        ]);
        assert.equal(await conn.exited, 0);
        assert.equal(conn.stdout().trim(), 'ECONNREFUSED');
        const udp = startIn(ns.a, [
          process.execPath,
          '-e',
          `const s = require('dgram').createSocket('udp4'); s.send('x', ${closedPort}, '${ns.addrB}', () => setTimeout(() => s.close(), 50));`,
        ]);
        assert.equal(await udp.exited, 0);
        const { records, stderr } = await wl.finish();
        const received = pick(records, {
          event: 'reset',
          direction: 'received',
          saddr: ns.addrA,
          daddr: ns.addrB,
          dport: closedPort,
        });
        assert.equal(received.length, 1, JSON.stringify(records));
        assert.equal(received[0]!.pid, conn.child.pid, "the connecting process's socket");
        assert.equal(received[0]!.state, 'SYN_SENT');
        assert.equal(received[0]!.netns, ns.inodeA);
        const cport = received[0]!.sport as number;
        const sent = pick(records, {
          event: 'reset',
          direction: 'sent',
          saddr: ns.addrB,
          sport: closedPort,
          daddr: ns.addrA,
          dport: cport,
        });
        assert.equal(sent.length, 1, 'the reset namespace b sent, from its closed port to the client');
        assert.equal(sent[0]!.netns, ns.inodeB);
        assert.equal(sent[0]!.pid, null);
        const udpDrop = pick(records, {
          event: 'drop',
          protocol: 'udp',
          saddr: ns.addrA,
          daddr: ns.addrB,
          dport: closedPort,
        });
        assert.equal(udpDrop.length, 1);
        assert.equal(udpDrop[0]!.reason, 'NO_SOCKET');
        assert.equal(udpDrop[0]!.netns, ns.inodeB);
        const synDrop = pick(records, {
          event: 'drop',
          protocol: 'tcp',
          saddr: ns.addrA,
          sport: cport,
          dport: closedPort,
        });
        assert.equal(synDrop.length, 1, 'the SYN to a closed port is dropped too');
        assert.equal(synDrop[0]!.reason, 'NO_SOCKET');
        assert.match(stderr, /drops by reason \(all packets, before filters\): .*NO_SOCKET \d+/);
      } finally {
        await stop(wl.proc, 'SIGKILL');
      }
    });
  }

  it('a nonsense --events value is one line and exit 2', async () => {
    const r = await run(process.execPath, [CLI, 'tcp', '--events', 'open,bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown event "bogus"/);
  });
});
