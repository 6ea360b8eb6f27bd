/**
 * `wirelens tcp` against real connections: two network namespaces joined by
 * a veth pair, and loopback over IPv4 and IPv6; exact pids, addresses,
 * ports, direction and byte counts; kernel-side --pid/--port/--comm filters;
 * both the preferred and the fallback hooks.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { run, Spawned, stop } from '../helpers/proc';
import { startFixtureServer, startIn } from '../helpers/fixtures';
import { TCP_PEER } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, Rec, startWirelens } from '../helpers/wirelens';

const skip = kernelSkipReason();

function startServer(host: string, replyBytes: number, ns?: string): Promise<{ srv: Spawned; port: number }> {
  return startFixtureServer(TCP_PEER, ['server', host, '0', String(replyBytes)], ns);
}

/** Runs one client to completion; returns its pid. */
async function runClient(
  host: string,
  port: number,
  sendBytes: number,
  expectReply: number,
  ns?: string,
): Promise<number> {
  const c = startIn(ns, [process.execPath, TCP_PEER, 'client', host, String(port), String(sendBytes)]);
  const code = await c.exited;
  assert.equal(code, 0, `client failed: ${c.stderr()}`);
  assert.equal(c.stdout().trim(), `received ${expectReply}`);
  return c.child.pid!;
}

/** The 4 records of one connection made by client `cpid` to server `spid` on `port`. */
function assertConnection(
  recs: Rec[],
  o: {
    cpid: number;
    spid: number;
    port: number;
    caddr: string;
    saddr: string;
    sent: number;
    reply: number;
    cns?: number;
    sns?: number;
  },
): void {
  const active = pick(recs, { pid: o.cpid, direction: 'active', dport: o.port });
  const aOpen = pick(active, { event: 'open' });
  const aClose = pick(active, { event: 'close' });
  assert.equal(aOpen.length, 1, `one active open for client ${o.cpid}: ${JSON.stringify(recs)}`);
  assert.equal(aClose.length, 1, `one active close for client ${o.cpid}`);
  const cport = aOpen[0]!.sport as number;
  assert.ok(cport > 0, 'client port known at open');
  for (const r of [aOpen[0]!, aClose[0]!]) {
    assert.equal(r.comm, 'node');
    assert.equal(r.saddr, o.caddr);
    assert.equal(r.daddr, o.saddr);
    assert.equal(r.sport, cport);
    if (o.cns !== undefined) assert.equal(r.netns, o.cns);
  }
  assert.equal(aClose[0]!.tx_bytes, o.sent);
  assert.equal(aClose[0]!.rx_bytes, o.reply);
  assert.equal(aClose[0]!.established, true);
  assert.ok((aClose[0]!.duration_ms as number) > 0);

  const passive = pick(recs, { direction: 'passive', sport: o.port, dport: cport });
  const pOpen = pick(passive, { event: 'open' });
  const pClose = pick(passive, { event: 'close' });
  assert.equal(pOpen.length, 1, `one passive open for client port ${cport}`);
  assert.equal(pClose.length, 1, `one passive close for client port ${cport}`);
  for (const r of [pOpen[0]!, pClose[0]!]) {
    assert.equal(r.pid, o.spid, 'server process owns the accepted socket');
    assert.equal(r.saddr, o.saddr);
    assert.equal(r.daddr, o.caddr);
    if (o.sns !== undefined) assert.equal(r.netns, o.sns);
  }
  assert.equal(pClose[0]!.tx_bytes, o.reply);
  assert.equal(pClose[0]!.rx_bytes, o.sent);
  assert.match(String(pOpen[0]!.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
}

for (const hooks of ['auto', 'fallback'] as const) {
  describe(`wirelens tcp (--hooks ${hooks})`, { skip }, () => {
    let pair: NetnsPair;
    before(() => {
      pair = createNetnsPair(hooks === 'auto' ? 'ta' : 'tf');
    });
    after(() => pair?.remove());

    it('reports open and close of exactly the connections between two namespaces', async () => {
      const { srv, port } = await startServer(pair.addrA, 7000, pair.a);
      const wl = await startWirelens(['tcp', '--hooks', hooks]);
      try {
        const clients: number[] = [];
        for (const sent of [1000, 2345, 65536]) clients.push(await runClient(pair.addrA, port, sent, 7000, pair.b));
        const { records, code } = await wl.finish();
        assert.equal(code, 0);
        const mine = records.filter((r) => r.netns === pair.inodeA || r.netns === pair.inodeB);
        assert.equal(mine.length, 12, `exactly 3 connections x (open, close) x 2 sides: ${JSON.stringify(mine)}`);
        const sends = [1000, 2345, 65536];
        clients.forEach((cpid, i) =>
          assertConnection(mine, {
            cpid,
            spid: srv.child.pid!,
            port,
            caddr: pair.addrB,
            saddr: pair.addrA,
            sent: sends[i]!,
            reply: 7000,
            cns: pair.inodeB,
            sns: pair.inodeA,
          }),
        );
      } finally {
        await stop(wl.proc, 'SIGKILL');
        await stop(srv);
      }
    });

    it('sees IPv6 between namespaces', async () => {
      const { srv, port } = await startServer(pair.addr6A, 10, pair.a);
      const wl = await startWirelens(['tcp', '--hooks', hooks, '--port', String(port)]);
      try {
        const cpid = await runClient(pair.addr6A, port, 20, 10, pair.b);
        const { records } = await wl.finish();
        assertConnection(records, {
          cpid,
          spid: srv.child.pid!,
          port,
          caddr: pair.addr6B,
          saddr: pair.addr6A,
          sent: 20,
          reply: 10,
          cns: pair.inodeB,
          sns: pair.inodeA,
        });
      } finally {
        await stop(wl.proc, 'SIGKILL');
        await stop(srv);
      }
    });

    for (const [host, family] of [
      ['127.0.0.1', 'IPv4'],
      ['::1', 'IPv6'],
    ] as const) {
      it(`reports loopback connections on ${host} (${family})`, async () => {
        const { srv, port } = await startServer(host, 4321);
        const wl = await startWirelens(['tcp', '--hooks', hooks, '--port', String(port)]);
        try {
          const cpid = await runClient(host, port, 1234, 4321);
          const { records } = await wl.finish();
          assert.equal(records.length, 4, JSON.stringify(records));
          assertConnection(records, {
            cpid,
            spid: srv.child.pid!,
            port,
            caddr: host,
            saddr: host,
            sent: 1234,
            reply: 4321,
          });
        } finally {
          await stop(wl.proc, 'SIGKILL');
          await stop(srv);
        }
      });
    }
  });
}

describe('wirelens tcp kernel filters', { skip }, () => {
  it('--pid keeps only that process; the others are dropped in the kernel', async () => {
    const one = await startServer('127.0.0.1', 100);
    const two = await startServer('127.0.0.1', 200);
    const wl = await startWirelens(['tcp', '--pid', String(one.srv.child.pid)]);
    try {
      await runClient('127.0.0.1', one.port, 10, 100);
      await runClient('127.0.0.1', two.port, 10, 200);
      const { records, stderr } = await wl.finish();
      assert.ok(records.length >= 2, 'the server of --pid has its open and close');
      for (const r of records) assert.equal(r.pid, one.srv.child.pid, `only --pid records: ${JSON.stringify(r)}`);
      assert.equal(pick(records, { sport: one.port, event: 'open' }).length, 1);
      assert.equal(pick(records, { sport: one.port, event: 'close' }).length, 1);
      assert.equal(pick(records, { sport: two.port }).length, 0);
      const filtered = Number(/(\d+) filtered in kernel/.exec(stderr)?.[1]);
      assert.ok(filtered >= 4, `the other connections were filtered in the kernel (${filtered}): ${stderr}`);
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(one.srv);
      await stop(two.srv);
    }
  });

  it('--port and --comm filter in the kernel', async () => {
    const a = await startServer('127.0.0.1', 1);
    const b = await startServer('127.0.0.1', 1);
    const wl = await startWirelens(['tcp', '--port', String(a.port), '--comm', 'node']);
    try {
      await runClient('127.0.0.1', a.port, 1, 1);
      await runClient('127.0.0.1', b.port, 1, 1);
      await run('curl', ['-s', '-m', '2', `http://127.0.0.1:${a.port}/`]);
      const { records } = await wl.finish();
      // node client to a: 2 sides x (open, close); curl to a: only the node server's side.
      assert.equal(records.length, 6, JSON.stringify(records));
      for (const r of records) {
        assert.ok(r.sport === a.port || r.dport === a.port, 'only --port');
        assert.equal(r.comm, 'node', 'only --comm');
      }
      assert.equal(pick(records, { direction: 'passive' }).length, 4, "both accepted connections, curl's included");
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(a.srv);
      await stop(b.srv);
    }
  });

  it('reports a refused connect as a close that never was established', async () => {
    const { srv, port } = await startServer('127.0.0.1', 1);
    await stop(srv); // the port is now closed
    const wl = await startWirelens(['tcp', '--port', String(port)]);
    try {
      const c = await run('curl', ['-s', '-m', '2', `http://127.0.0.1:${port}/`]);
      const { records } = await wl.finish();
      const closes = pick(records, { event: 'close', comm: 'curl', established: false });
      assert.equal(closes.length, 1, JSON.stringify(records));
      assert.equal(closes[0]!.dport, port);
      assert.equal(pick(records, { event: 'open' }).length, 0);
      assert.notEqual(c.code, 0);
    } finally {
      await stop(wl.proc, 'SIGKILL');
    }
  });
});
