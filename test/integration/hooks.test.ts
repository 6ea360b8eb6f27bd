/**
 * Hook selection and the degraded paths, driven through the library with
 * feature verdicts forced: a candidate that loads badly is dropped and the
 * object reloaded; with no accept hook at all, passive opens still appear.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { Features, Support } from '../../src/kernel/features';
import { ensureTracefs } from '../../src/kernel/tracefs';
import { TcpLife } from '../../src/probes/tcp-life';
import { RunningFamily } from '../../src/probes/family';
import { TcpRecord } from '../../src/events/tcp';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();
const yes: Support = { state: 'supported', ms: 0 };
const no: Support = { state: 'unsupported', reason: 'forced by the test', minKernel: '99', ms: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one loopback connection while the probe runs; returns the records of that port. */
async function oneConnection(features: Features, server: (s: net.Socket) => void, client: (c: net.Socket) => void) {
  ensureTracefs();
  const recs: TcpRecord[] = [];
  const srv = net.createServer(server);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  let fam: RunningFamily | undefined;
  try {
    fam = new TcpLife(
      { filters: { pids: [], ports: [port] }, hookMode: 'auto', features },
      (r) => recs.push(r),
      () => undefined,
    ).family;
    await new Promise<void>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => client(c));
      c.on('close', () => resolve());
      c.on('error', () => undefined);
    });
    await sleep(200);
    fam.detach();
    fam.drain();
    return { recs, choices: fam.choices, port };
  } finally {
    fam?.close();
    srv.close();
  }
}

const echoOnce = (s: net.Socket) => {
  s.on('data', () => undefined);
  s.on('end', () => s.end('pong'));
};
const pingThenEnd = (c: net.Socket) => {
  c.end('ping');
  c.on('data', () => undefined);
};

describe('hook selection', { skip }, () => {
  it('drops a candidate that fails to load and loads the object again', async (t) => {
    // Claim fentry and kprobe work: on a kernel that refuses fexit at load
    // and has no kprobes (this development VM), the accept slot must end on
    // the next candidate, the socket-I/O owner hook (tp_btf). Elsewhere there
    // is nothing to drop.
    const real = new Features();
    if (
      real.get('fentry').state === 'supported' ||
      real.get('kprobe').state === 'supported' ||
      real.get('tp_btf').state !== 'supported'
    ) {
      t.skip('this kernel offers fentry or kprobes (or lacks tp_btf): no candidate fails here');
      return;
    }
    const features = new Features({
      preset: { fentry: yes, kprobe: yes, tp_btf: yes, tracepoint: yes, syscall_tracepoint: yes },
    });
    const { recs, choices } = await oneConnection(features, echoOnce, pingThenEnd);
    const accept = choices.find((c) => c.slot === 'accepting process')!;
    assert.equal(accept.kind, 'tp_btf');
    assert.deepEqual(
      accept.skipped.map((s) => s.kind),
      ['fentry', 'kprobe'],
    );
    assert.match(accept.skipped[0]!.reason, /load failed/);
    const passiveOpen = recs.find((r) => r.event === 'open' && r.direction === 'passive');
    assert.equal(passiveOpen?.proc?.pid, process.pid, 'the accepting process is named');
  });

  it('without any accept hook, passive opens are still reported and the owner is named at close', async () => {
    const features = new Features({
      preset: { fentry: no, kprobe: no, syscall_tracepoint: no, tp_btf: no, tracepoint: yes },
    });
    const { recs, choices } = await oneConnection(features, echoOnce, pingThenEnd);
    assert.equal(choices.find((c) => c.slot === 'accepting process')!.kind, 'none');
    const open = recs.filter((r) => r.event === 'open' && r.direction === 'passive');
    const close = recs.filter((r) => r.event === 'close' && r.direction === 'passive');
    assert.equal(
      open.length,
      1,
      JSON.stringify(recs, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    assert.equal(open[0]!.proc, null, 'no process at the handshake');
    assert.equal(close.length, 1);
    assert.equal(close[0]!.proc?.pid, process.pid, 'the closing owner is named');
    assert.equal(close[0]!.rxBytes, 4);
    assert.equal(close[0]!.txBytes, 4);
  });

  it('the syscall-tracepoint owner hook names the accepting process too', async () => {
    const features = new Features({
      preset: { fentry: no, kprobe: no, tp_btf: no, tracepoint: yes, syscall_tracepoint: yes },
    });
    const { recs, choices } = await oneConnection(features, echoOnce, pingThenEnd);
    assert.equal(choices.find((c) => c.slot === 'accepting process')!.kind, 'syscall_tracepoint');
    const open = recs.filter((r) => r.event === 'open' && r.direction === 'passive');
    assert.equal(open.length, 1);
    assert.equal(open[0]!.proc?.pid, process.pid);
  });

  it('counts payload exactly when a connection ends in a reset, not a FIN', async () => {
    const features = new Features({
      preset: { tp_btf: yes, tracepoint: yes, syscall_tracepoint: yes, fentry: no, kprobe: no },
    });
    const { recs } = await oneConnection(
      features,
      (s) => s.once('data', () => s.resetAndDestroy()),
      (c) => {
        c.write('0123456789');
        c.on('data', () => undefined);
      },
    );
    const server = recs.find((r) => r.event === 'close' && r.direction === 'passive')!;
    const client = recs.find((r) => r.event === 'close' && r.direction === 'active')!;
    assert.equal(server.rxBytes, 10, 'no FIN arrived: nothing to subtract');
    assert.equal(server.txBytes, 0);
    assert.equal(client.txBytes, 10);
    assert.equal(client.rxBytes, 0);
  });
});
