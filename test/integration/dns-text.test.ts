/**
 * `wirelens dns` as dig shows it: a name with an escape byte reads as dig
 * prints it (one escaping step, in the table and in JSON); a response with
 * the TC bit is marked as dig marks it (flags: tc); a reply that is not DNS
 * to a query is counted as not DNS and named in the query's timeout, not a
 * bare timeout. Responders are local UDP sockets in this test process; the
 * client is dig.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { startDnsmasq, TestDnsmasq } from '../helpers/dnsmasq';
import { freeDnsPort } from '../helpers/ports';
import { start, stop, waitFor } from '../helpers/proc';
import { CLI } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, startWirelens, WirelensRun } from '../helpers/wirelens';

const skip = kernelSkipReason();

/** dig's own output (it may exit non-zero: a timeout). */
async function dig(args: string[]): Promise<{ pid: number; out: string }> {
  const p = start('dig', ['+tries=1', '+time=1', ...args]);
  await p.exited;
  return { pid: p.child.pid!, out: p.stdout() };
}

/** `wirelens dns` text lines, wide table (COLUMNS=200), attached. */
async function startText(args: string[]): Promise<ReturnType<typeof start>> {
  const p = start(process.execPath, [CLI, 'dns', '-v', ...args], { env: { ...process.env, COLUMNS: '200' } });
  await waitFor(p.stderr, /attached in/, 15000, 'wirelens dns (text) to attach');
  return p;
}

/** A UDP responder on 127.0.0.1:port answering each query with `answer(query)`. */
async function responder(port: number, answer: (q: Buffer) => Buffer): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (q, from) => s.send(answer(q), from.port, from.address));
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', r));
  return s;
}

describe('wirelens dns shows what dig shows', { skip }, () => {
  it('a name with an escape byte: the table and JSON spell it as dig does, escaped once', async () => {
    let wl: WirelensRun | undefined;
    let dm: TestDnsmasq | undefined;
    const port = await freeDnsPort();
    const text = await startText(['--port', String(port)]);
    try {
      wl = await startWirelens(['dns', '--port', String(port)]);
      dm = await startDnsmasq(port, []);
      const d = await dig(['@127.0.0.1', '-p', String(port), '\\027[31mq\\027[0m.test', 'A']);
      const q = /^;(\S+)\.\s+IN\s+A$/m.exec(d.out);
      assert.ok(q, `dig printed its question: ${d.out}`);
      const digName = q[1]!;
      assert.equal(digName, '\\027[31mq\\027[0m.test', 'dig spells the ESC byte \\027');
      const { records } = await wl.finish();
      const r = pick(records, { side: 'client', pid: d.pid });
      assert.equal(r.length, 1, JSON.stringify(records));
      assert.equal(r[0]!.qname, digName, 'JSON qname as dig prints it');
      await stop(text, 'SIGINT');
      const line = text
        .stdout()
        .split('\n')
        .find((l) => l.includes(` ${d.pid} `));
      assert.ok(line, text.stdout());
      assert.ok(line.includes(` ${digName} `), `the table shows dig's spelling: ${line}`);
      assert.doesNotMatch(text.stdout(), /\\\\/, 'no doubled backslash');
      assert.doesNotMatch(text.stdout(), /\x1b/, 'no raw ESC');
    } finally {
      await wl?.finish();
      await stop(text, 'SIGKILL');
      await dm?.stop();
    }
  });

  it('a response with the TC bit: marked in the table and in JSON, as dig flags it', async () => {
    const port = await freeDnsPort();
    // The query back, as a response with TC set and no answers: "it did not fit, ask over TCP".
    const srv = await responder(port, (q) => {
      const r = Buffer.from(q);
      r[2] = 0x80 | 0x02 | (q[2]! & 0x01); // QR, TC, RD echoed
      r[3] = 0x00;
      return r;
    });
    const text = await startText(['--port', String(port)]);
    let wl: WirelensRun | undefined;
    try {
      wl = await startWirelens(['dns', '--port', String(port)]);
      const d = await dig(['@127.0.0.1', '-p', String(port), '+ignore', 'big.test', 'TXT']);
      assert.match(d.out, /flags: qr tc rd/, `dig sees TC: ${d.out}`);
      const { records } = await wl.finish();
      const r = pick(records, { side: 'client', pid: d.pid });
      assert.equal(r.length, 1, JSON.stringify(records));
      assert.equal(r[0]!.truncated, true);
      assert.equal(r[0]!.status, 'answered');
      await stop(text, 'SIGINT');
      assert.match(text.stdout(), new RegExp(` ${d.pid} .* big\\.test .*NOERROR .*\\(truncated\\)$`, 'm'));
    } finally {
      await wl?.finish();
      await stop(text, 'SIGKILL');
      srv.close();
    }
  });

  it('a reply that is not DNS: counted as not DNS, and the timeout says the server replied with it', async () => {
    const port = await freeDnsPort();
    const garbage = Buffer.from('this is no DNS reply');
    const srv = await responder(port, () => garbage);
    let wl: WirelensRun | undefined;
    try {
      wl = await startWirelens(['dns', '--port', String(port), '--timeout', '0.5']);
      const d = await dig(['@127.0.0.1', '-p', String(port), 'g.test', 'A']);
      await new Promise((r) => setTimeout(r, 1000)); // past --timeout
      const { records, stderr } = await wl.finish();
      const r = pick(records, { side: 'client', pid: d.pid });
      assert.ok(r.length >= 1, `a record for dig's query: ${JSON.stringify(records)}`);
      assert.equal(r[0]!.status, 'timeout');
      assert.equal(r[0]!.error, `the server replied with ${garbage.length} bytes that are not DNS`);
      const m = /(\d+) UDP datagrams not DNS \((\d+) of them replies to a pending query\)/.exec(stderr);
      assert.ok(m, stderr);
      assert.ok(Number(m[1]) >= 1 && Number(m[2]) >= 1, stderr);
    } finally {
      await wl?.finish();
      srv.close();
    }
  });
});
