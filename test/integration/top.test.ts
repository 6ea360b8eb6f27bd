/**
 * `wirelens top --json`: a known process's bytes on loopback against the
 * bytes it sent, ICMP packets from ping across two test namespaces on a TC
 * hook (tcx and classic), the classic TC cleanup (at exit, after SIGKILL at
 * the next start, and never someone else's qdisc), and bad input.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { run, Spawned, start, stop, waitFor } from '../helpers/proc';
import { inNetns, startFixtureServer } from '../helpers/fixtures';
import { CLI, TCP_PEER } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { wirelensPrograms } from '../../src/kernel/leftovers';

const skip = kernelSkipReason();

type Snap = Record<string, unknown> & {
  processes: Record<string, number | string | null>[];
  protocols: Record<string, number | string>[];
  interfaces: Record<string, number | string | null>[];
  ports: Record<string, number | string>[];
  remotes: Record<string, number | string>[];
};

/** Starts `wirelens top --json` (in namespace ns if given); resolves once its first snapshot is out. */
async function startTop(args: string[], ns?: string): Promise<Spawned> {
  const argv = inNetns(ns, [
    process.execPath,
    CLI,
    'top',
    '--json',
    '--interval',
    '0.2',
    '--rows',
    '10000',
    '-v',
    ...args,
  ]);
  const p = start(argv[0]!, argv.slice(1));
  try {
    await waitFor(p.stdout, /\n/, 15000, 'the first snapshot');
  } catch (e) {
    await stop(p, 'SIGKILL');
    throw e;
  }
  return p;
}

/** Stops top (SIGINT) and returns its last snapshot: the totals since start. */
async function finishTop(p: Spawned): Promise<{ last: Snap; stderr: string; code: number | null }> {
  const code = await stop(p, 'SIGINT');
  const lines = p
    .stdout()
    .split('\n')
    .filter((l) => l.trim() !== '');
  assert.ok(lines.length > 0, `snapshots: ${p.stderr()}`);
  return { last: JSON.parse(lines[lines.length - 1]!) as Snap, stderr: p.stderr(), code };
}

async function tcShow(ns: string, dev: string, what: 'qdisc' | 'filter', side?: 'ingress' | 'egress'): Promise<string> {
  const r = await run('ip', ['netns', 'exec', ns, 'tc', what, 'show', 'dev', dev, ...(side ? [side] : [])]);
  return r.stdout;
}

describe('wirelens top', { skip }, () => {
  for (const mode of ['auto', 'fallback'] as const) {
    it(`counts a process's 10 MB to within 2% of what it sent (loopback, hooks ${mode})`, async () => {
      const SIZE = 10 * 1024 * 1024;
      let top: Spawned | undefined;
      let srv: Spawned | undefined;
      try {
        top = await startTop(['--hooks', mode]);
        const s = await startFixtureServer(TCP_PEER, ['server', '127.0.0.1', '0', '1000']);
        srv = s.srv;
        const client = start(process.execPath, [TCP_PEER, 'client', '127.0.0.1', String(s.port), String(SIZE)]);
        const code = await client.exited;
        assert.equal(code, 0, client.stderr());
        assert.match(client.stdout(), /received 1000/);
        await new Promise((r) => setTimeout(r, 300));
        const { last, code: topCode } = await finishTop(top);
        top = undefined;
        assert.equal(topCode, 0);
        const me = last.processes.find((p) => p.pid === client.child.pid);
        assert.ok(me, `client pid ${client.child.pid} in ${JSON.stringify(last.processes.slice(0, 5))}`);
        assert.equal(me.comm, 'node');
        const tx = me.tx_bytes as number;
        // IP packets: the payload plus 52 bytes of headers per segment of up to 64 KB on lo.
        assert.ok(tx >= SIZE && tx <= SIZE * 1.02, `client tx ${tx} vs ${SIZE}`);
        assert.ok(
          (me.rx_bytes as number) >= 1000 && (me.rx_bytes as number) < 1000 + 64 * 1024,
          `client rx ${me.rx_bytes}`,
        );
        assert.equal(me.connections, 1, 'one SYN sent');
        const server = last.processes.find((p) => p.pid === srv!.child.pid);
        assert.ok(server, 'server process');
        assert.ok(
          (server.rx_bytes as number) >= SIZE && (server.rx_bytes as number) <= SIZE * 1.02,
          `server rx ${server.rx_bytes}`,
        );
        const port = last.ports.find((p) => p.protocol === 'tcp' && p.port === s.port);
        assert.ok(port && (port.rx_bytes as number) >= SIZE, `port ${s.port}: ${JSON.stringify(port)}`);
        assert.ok(last.remotes.some((r) => r.address === '127.0.0.1'));
      } finally {
        if (top) await stop(top, 'SIGKILL');
        if (srv) await stop(srv);
      }
    });
  }

  describe('on a test namespace interface', () => {
    let ns: NetnsPair;
    before(() => {
      ns = createNetnsPair('top');
    });
    after(() => ns?.remove());

    for (const mode of ['auto', 'fallback'] as const) {
      it(`counts ping -c 20 as 20 ICMP packets each way on the interface and for ping (hooks ${mode})`, async () => {
        let top: Spawned | undefined;
        try {
          top = await startTop(['-i', ns.devA, '--hooks', mode], ns.a);
          assert.match(top.stderr(), mode === 'auto' ? /interface packets.*: tcx/ : /interface packets.*: tc \[/);
          // `ip netns exec` execs ping in place: the pid is ping's.
          const ping = start('ip', ['netns', 'exec', ns.a, 'ping', '-c', '20', '-i', '0.01', '-q', ns.addrB]);
          assert.equal(await ping.exited, 0, ping.stdout() + ping.stderr());
          await new Promise((r) => setTimeout(r, 300));
          const { last } = await finishTop(top);
          top = undefined;
          const icmp = last.protocols.find((p) => p.protocol === 'icmp')!;
          assert.equal(icmp.tx_packets, 20, JSON.stringify(icmp));
          assert.equal(icmp.rx_packets, 20, JSON.stringify(icmp));
          const dev = last.interfaces.find((i) => i.name === ns.devA);
          assert.ok(
            dev && (dev.tx_packets as number) >= 20 && (dev.rx_packets as number) >= 20,
            JSON.stringify(last.interfaces),
          );
          const peer = last.remotes.find((r) => r.address === ns.addrB);
          assert.ok(peer && (peer.tx_packets as number) >= 20, JSON.stringify(last.remotes));
          const pinger = last.processes.find((p) => p.pid === ping.child.pid);
          assert.ok(pinger, JSON.stringify(last.processes));
          assert.equal(pinger.comm, 'ping');
          assert.equal(pinger.tx_packets, 20);
          assert.equal(pinger.rx_packets, 20);
          // The qdisc classic TC needed is gone with wirelens; tcx needs none.
          assert.doesNotMatch(await tcShow(ns.a, ns.devA, 'qdisc'), /clsact/);
        } finally {
          if (top) await stop(top, 'SIGKILL');
        }
      });
    }

    it('leaves a clsact qdisc it did not create, and removes only its own filters', async () => {
      let top: Spawned | undefined;
      try {
        const add = await run('ip', ['netns', 'exec', ns.a, 'tc', 'qdisc', 'add', 'dev', ns.devA, 'clsact']);
        assert.equal(add.code, 0, add.stderr);
        top = await startTop(['-i', ns.devA, '--hooks', 'fallback'], ns.a);
        assert.match(await tcShow(ns.a, ns.devA, 'filter', 'ingress'), /wl_top_tc_in/);
        assert.match(await tcShow(ns.a, ns.devA, 'filter', 'egress'), /wl_top_tc_out/);
        const { code } = await finishTop(top);
        top = undefined;
        assert.equal(code, 0);
        assert.match(await tcShow(ns.a, ns.devA, 'qdisc'), /clsact/, 'the qdisc someone else made stays');
        assert.doesNotMatch(await tcShow(ns.a, ns.devA, 'filter', 'ingress'), /wl_/);
      } finally {
        if (top) await stop(top, 'SIGKILL');
        await run('ip', ['netns', 'exec', ns.a, 'tc', 'qdisc', 'del', 'dev', ns.devA, 'clsact']);
      }
    });

    it('after a SIGKILL, the next start removes the TC filters and the qdisc it left, and says so', async () => {
      let top: Spawned | undefined;
      try {
        top = await startTop(['-i', ns.devA, '--hooks', 'fallback'], ns.a);
        await stop(top, 'SIGKILL');
        top = undefined;
        assert.match(await tcShow(ns.a, ns.devA, 'filter', 'ingress'), /wl_top_tc_in/, 'the filter outlives a SIGKILL');
        assert.match(await tcShow(ns.a, ns.devA, 'qdisc'), /clsact/);
        const again = await run('ip', [
          'netns',
          'exec',
          ns.a,
          process.execPath,
          CLI,
          'top',
          '--json',
          '--duration',
          '0.3',
        ]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(
          again.stderr,
          new RegExp(`removed TC filter wl_top_tc_in on ${ns.devA} ingress left by an earlier wirelens`),
        );
        assert.match(again.stderr, new RegExp(`removed TC filter wl_top_tc_out on ${ns.devA} egress`));
        assert.match(again.stderr, new RegExp(`removed the clsact qdisc an earlier wirelens added to ${ns.devA}`));
        assert.doesNotMatch(await tcShow(ns.a, ns.devA, 'qdisc'), /clsact/);
        assert.deepEqual(
          wirelensPrograms().filter((p) => p.name.startsWith('wl_top_tc')),
          [],
          'the TC programs are unloaded with their filters',
        );
      } finally {
        if (top) await stop(top, 'SIGKILL');
        await run('ip', ['netns', 'exec', ns.a, 'tc', 'qdisc', 'del', 'dev', ns.devA, 'clsact']);
      }
    });
  });

  it('on a terminal: redrawn in place, b/p/c sort, q quits and gives the terminal back', async () => {
    // script(1) gives top a pseudo-terminal; keys typed into its stdin reach top.
    const cmd = `stty rows 50 cols 150; ${process.execPath} ${CLI} top --interval 0.2`;
    const t = start('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await waitFor(t.stdout, /sorted by bytes[\s\S]*PROCESSES[\s\S]*sorted by bytes/, 15000, 'two frames');
      t.child.stdin!.write('p');
      await waitFor(t.stdout, /sorted by packets/, 5000, 'the packets sort');
      t.child.stdin!.write('q');
      const code = await Promise.race([
        t.exited,
        new Promise<string>((r) => setTimeout(() => r('still running'), 5000)),
      ]);
      assert.equal(code, 0, t.stdout().slice(-500));
      const out = t.stdout();
      assert.ok(out.includes('\x1b[?1049h'), 'the alternate screen is entered');
      assert.ok(out.lastIndexOf('\x1b[?1049l') > out.lastIndexOf('PROCESSES'), 'and left after the last frame');
      assert.match(out, /top: stopped after/);
    } finally {
      await stop(t, 'SIGKILL');
    }
  });

  it('an interface that does not exist: one line and a remedy, exit 2, nothing attached', async () => {
    // Programs of earlier tests may still be on their way out: no new one may appear.
    const tops = (): number[] =>
      wirelensPrograms()
        .filter((p) => p.name.startsWith('wl_top_'))
        .map((p) => p.id);
    const before = new Set(tops());
    const r = await run(process.execPath, [CLI, 'top', '-i', 'wlt-nosuch0', '--duration', '1']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^wirelens: error: -i "wlt-nosuch0": no such network interface in this network namespace\nwirelens: remedy: choose one of: .*lo/,
    );
    assert.equal(r.stdout, '');
    assert.deepEqual(
      tops().filter((id) => !before.has(id)),
      [],
    );
  });

  it('a nonsense --sort value: exit 2', async () => {
    const r = await run(process.execPath, [CLI, 'top', '--sort', 'colour']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--sort must be one of bytes, packets, connections/);
  });
});
