/**
 * One rule for a closed stdout, for every command: a reader that goes away
 * (`wirelens X --json | head -1`) stops the command cleanly, exit 0, with
 * its usual stop line; never `internal error: write EPIPE`. Each command
 * runs with a reader that closes its end after the first line while traffic
 * keeps producing output (made here, on loopback, bounded in count and time).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CLI } from '../helpers/paths';
import { start, stop } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';
import { freeDnsPort, freePort } from '../helpers/ports';

const skip = kernelSkipReason();

/** Runs `wirelens args`, closes its stdout after the first line, and calls `poke` every 50 ms until it exits. */
async function closeAfterFirstLine(
  args: string[],
  poke: () => Promise<void>,
): Promise<{ code: number | null; stderr: string; first: string }> {
  const p = start(process.execPath, [CLI, ...args]);
  let got = '';
  let first = '';
  p.child.stdout!.removeAllListeners('data');
  p.child.stdout!.on('data', (d: Buffer) => {
    got += d.toString();
    const nl = got.indexOf('\n');
    if (nl >= 0 && first === '') {
      first = got.slice(0, nl);
      p.child.stdout!.destroy(); // as `head -1` does: the pipe's read end closes
    }
  });
  let done = false;
  void p.exited.then(() => (done = true));
  const deadline = Date.now() + 20_000;
  let pokes = 0;
  while (!done && Date.now() < deadline && pokes < 300) {
    await poke().catch(() => undefined);
    pokes++;
    await new Promise((r) => setTimeout(r, 50));
  }
  const code = done ? await p.exited : await stop(p, 'SIGKILL');
  return { code, stderr: p.stderr(), first };
}

function assertClean(r: { code: number | null; stderr: string; first: string }, stopLine: RegExp): void {
  assert.ok(r.first !== '', `a first line was read: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.doesNotMatch(r.stderr, /EPIPE/);
  assert.match(r.stderr, stopLine);
  assert.equal(r.code, 0, r.stderr);
}

const STOPPED = /stopped \(stdout closed\)/;

/** A DNS query for x.test, id `id`. */
function query(id: number): Buffer {
  return Buffer.from([
    id >> 8,
    id & 255,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0x78,
    4,
    ...Buffer.from('test'),
    0,
    0,
    1,
    0,
    1,
  ]);
}

describe('closed stdout: every command stops cleanly', { skip }, () => {
  it('tcp --json', async () => {
    const port = await freePort();
    const srv = net.createServer((s) => s.end()).listen(port, '127.0.0.1');
    try {
      const poke = (): Promise<void> =>
        new Promise((res) => {
          const c = net.connect(port, '127.0.0.1', () => c.end());
          c.on('close', () => res());
          c.on('error', () => res());
        });
      assertClean(await closeAfterFirstLine(['tcp', '--json', '--port', String(port)], poke), STOPPED);
      // Text: the first line is the header; every record after it meets a closed pipe.
      assertClean(await closeAfterFirstLine(['tcp', '--port', String(port)], poke), STOPPED);
    } finally {
      srv.close();
    }
  });

  it('http --json, exchanges spread over time', async () => {
    const port = await freePort();
    const srv = http.createServer((_q, s) => s.end('ok')).listen(port, '127.0.0.1');
    try {
      const poke = (): Promise<void> =>
        new Promise((res) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/x', agent: false }, (r) => {
            r.resume();
            r.on('end', () => res());
          });
          req.on('error', () => res());
        });
      assertClean(await closeAfterFirstLine(['http', '--json', '--port', String(port)], poke), STOPPED);
    } finally {
      srv.close();
    }
  });

  it('dns --json', async () => {
    const port = await freeDnsPort();
    const srv = dgram.createSocket('udp4');
    srv.on('message', (m, from) => {
      const resp = Buffer.from(m);
      resp[2] = 0x81;
      resp[3] = 0x80;
      srv.send(resp, from.port, from.address);
    });
    await new Promise<void>((r) => srv.bind(port, '127.0.0.1', r));
    let id = 1;
    try {
      const poke = (): Promise<void> =>
        new Promise((res) => {
          const c = dgram.createSocket('udp4');
          const t = setTimeout(() => (c.close(), res()), 500);
          c.on('message', () => (clearTimeout(t), c.close(), res()));
          c.send(query(id++ & 0xffff), port, '127.0.0.1');
        });
      assertClean(await closeAfterFirstLine(['dns', '--json', '--port', String(port)], poke), STOPPED);
    } finally {
      srv.close();
    }
  });

  it('tls --json', async () => {
    const port = await freePort();
    // Answers no hello: each connection is a client record without a ServerHello.
    const srv = net
      .createServer((s) => {
        s.on('data', () => s.destroy());
        s.on('error', () => undefined);
      })
      .listen(port, '127.0.0.1');
    try {
      const poke = (): Promise<void> =>
        new Promise((res) => {
          const c = tls.connect({ host: '127.0.0.1', port, servername: 'closed.test', rejectUnauthorized: false });
          c.on('error', () => res());
          c.on('close', () => res());
        });
      assertClean(
        await closeAfterFirstLine(['tls', '--json', '--timeout', '0.1', '--port', String(port)], poke),
        STOPPED,
      );
    } finally {
      srv.close();
    }
  });

  it('capture (text and -w -)', async () => {
    const port = await freePort();
    const srv = net.createServer((s) => s.end('hello')).listen(port, '127.0.0.1');
    try {
      const poke = (): Promise<void> =>
        new Promise((res) => {
          const c = net.connect(port, '127.0.0.1', () => c.resume());
          c.on('close', () => res());
          c.on('error', () => res());
        });
      assertClean(await closeAfterFirstLine(['capture', '-v', '-i', 'lo', `tcp port ${port}`], poke), STOPPED);
      // pcapng to stdout: its first block starts with a newline byte, so any output counts as read.
      const r = await closeAfterFirstLine(['capture', '-v', '-w', '-', `tcp port ${port}`], poke);
      assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
      assert.match(r.stderr, STOPPED);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      srv.close();
    }
  });

  it('top --json', async () => {
    const r = await closeAfterFirstLine(['top', '--json', '--interval', '0.2'], async () => undefined);
    assertClean(r, /top: stopped/);
  });

  it('doctor --json', async () => {
    const r = await closeAfterFirstLine(['doctor', '--json'], async () => undefined);
    assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
    assert.equal(r.code, 0, r.stderr);
  });
});
