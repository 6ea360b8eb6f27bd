/**
 * `wirelens tls` against real clients and servers on loopback: curl to
 * nginx, openssl s_client to openssl s_server (TLS 1.3, and TLS 1.2 where
 * the chosen ALPN shows), and a client writing its ClientHello a few bytes
 * at a time. Each connection gives a client record (curl, openssl, node)
 * and a server record (nginx, openssl) with the SNI, ALPN and versions
 * offered and the version and cipher chosen; both hooks paths. Also the
 * ClientHello on the segment that completes the handshake, which reaches the
 * listener, not the connection: nginx with `deferred` (TCP_DEFER_ACCEPT) and
 * curl, and a user-space client that never sends the bare ACK.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  Cert,
  makeCert,
  recordClientHello,
  SServer,
  startSServer,
  startTlsNginx,
  TlsNginx,
} from '../helpers/tls-servers';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { craftPeer } from '../helpers/tcp-craft';
import { freePort } from '../helpers/ports';
import { start, waitFor } from '../helpers/proc';
import { FIXTURES } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, Rec, startWirelens, WirelensRun } from '../helpers/wirelens';

const skip = kernelSkipReason();
const PIECES = path.join(FIXTURES, 'tls-pieces-client.js');

async function exits(cmd: string, args: string[]): Promise<number> {
  const p = start(cmd, args);
  const code = await p.exited;
  assert.equal(code, 0, `${cmd} ${args.join(' ')}: ${p.stderr()}`);
  return p.child.pid!;
}

/** Exactly one record of `side` matching `where`. */
function one(recs: Rec[], where: Rec): Rec {
  const found = pick(recs, where);
  assert.equal(found.length, 1, `one record for ${JSON.stringify(where)}: ${JSON.stringify(recs)}`);
  return found[0]!;
}

/** The fields both ends of one connection must agree on. */
function sameHandshake(c: Rec, s: Rec): void {
  for (const k of ['sni', 'alpn_offered', 'versions_offered', 'version', 'cipher', 'alpn', 'status'])
    assert.deepEqual(c[k], s[k], k);
  assert.deepEqual([c.sport, c.dport], [s.dport, s.sport], 'the two ends of one connection');
  for (const r of [c, s]) assert.ok((r.hello_ms as number) >= 0);
}

describe('wirelens tls', { skip }, () => {
  let cert: Cert;
  before(() => {
    cert = makeCert();
  });
  after(() => cert?.remove());

  for (const hooks of ['auto', 'fallback']) {
    it(`curl to nginx: SNI, ALPN offered, TLS 1.3 and the cipher, from curl and from an nginx worker (--hooks ${hooks})`, async () => {
      let ng: TlsNginx | undefined;
      let wl: WirelensRun | undefined;
      try {
        const port = await freePort();
        // Attached before nginx makes its listener: accepted sockets are someone's whatever the hooks.
        wl = await startWirelens(['tls', '--port', String(port), '--hooks', hooks]);
        ng = await startTlsNginx(cert, port);
        const pid = await exits('curl', [
          '-sk',
          '--max-time',
          '10',
          '-o',
          '/dev/null',
          '--resolve',
          `myhost.test:${ng.port}:127.0.0.1`,
          `https://myhost.test:${ng.port}/`,
        ]);
        const { records } = await wl.finish();
        assert.equal(records.length, 2, JSON.stringify(records));
        const c = one(records, { side: 'client' });
        const s = one(records, { side: 'server' });
        assert.deepEqual([c.pid, c.comm, c.uid], [pid, 'curl', 0]);
        assert.equal(s.comm, 'nginx');
        // With the read/write hook the socket is the worker's by the time it answers. Without it, an
        // accepted socket stays with its listener's maker: nginx before it forked into the background.
        if (hooks === 'auto') assert.ok(ng.workers.includes(s.pid as number), `nginx pid ${s.pid} in ${ng.workers}`);
        else assert.notEqual(s.pid, pid);
        assert.deepEqual(
          [c.status, c.sni, c.alpn_offered, c.version],
          ['ok', 'myhost.test', ['h2', 'http/1.1'], 'TLS 1.3'],
        );
        assert.ok((c.versions_offered as string[]).includes('TLS 1.3'));
        assert.match(c.cipher as string, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
        assert.equal(c.alpn, null, 'TLS 1.3 encrypts the ALPN choice');
        assert.deepEqual([c.daddr, c.dport], ['127.0.0.1', ng.port]);
        sameHandshake(c, s);
      } finally {
        ng?.stop();
        await wl?.finish();
      }
    });

    it(`openssl s_client to s_server, TLS 1.3 and 1.2 (ALPN chosen shown), and a ClientHello written in pieces (--hooks ${hooks})`, async () => {
      let srv: SServer | undefined;
      let wl: WirelensRun | undefined;
      try {
        const port = await freePort();
        wl = await startWirelens(['tls', '--port', String(port), '--hooks', hooks, '--timeout', '3']);
        srv = await startSServer(cert, port, ['-alpn', 'http/1.1']);
        const connect = ['s_client', '-connect', `127.0.0.1:${srv.port}`, '-alpn', 'h2,http/1.1'];
        const p13 = await exits('openssl', [...connect, '-servername', 'other.test']);
        const p12 = await exits('openssl', [...connect, '-servername', 'v12.test', '-tls1_2']);
        const pieces = start(process.execPath, [PIECES, String(srv.port), 'pieces.test']);
        await waitFor(pieces.stdout, /reply [1-9]\d*/, 10_000, 'the piecewise client to get a reply');
        await pieces.exited;
        const { records } = await wl.finish();
        assert.equal(records.length, 6, JSON.stringify(records));

        const c13 = one(records, { side: 'client', sni: 'other.test' });
        const s13 = one(records, { side: 'server', sni: 'other.test' });
        assert.deepEqual([c13.pid, c13.comm, s13.pid, s13.comm], [p13, 'openssl', srv.pid, 'openssl']);
        assert.deepEqual([c13.alpn_offered, c13.version, c13.alpn], [['h2', 'http/1.1'], 'TLS 1.3', null]);
        sameHandshake(c13, s13);

        const c12 = one(records, { side: 'client', sni: 'v12.test' });
        const s12 = one(records, { side: 'server', sni: 'v12.test' });
        assert.deepEqual(
          [c12.pid, c12.version, c12.alpn, c12.versions_offered],
          [p12, 'TLS 1.2', 'http/1.1', ['TLS 1.2']],
        );
        assert.match(c12.cipher as string, /^TLS_ECDHE_RSA_WITH_/);
        sameHandshake(c12, s12);

        const cp = one(records, { side: 'client', sni: 'pieces.test' });
        const sp = one(records, { side: 'server', sni: 'pieces.test' });
        assert.deepEqual(
          [cp.pid, cp.comm, cp.status, cp.alpn_offered],
          [pieces.child.pid, 'node', 'ok', ['h2', 'http/1.1']],
        );
        assert.equal(sp.pid, srv.pid);
        sameHandshake(cp, sp);
        const local = Number(/local (\d+)/.exec(pieces.stdout())?.[1]);
        assert.equal(cp.sport, local);
      } finally {
        await srv?.stop();
        await wl?.finish();
      }
    });
  }

  it('nginx with TCP_DEFER_ACCEPT: the ClientHello reaches the listener, and the server side is still whole', async () => {
    let ng: TlsNginx | undefined;
    let wl: WirelensRun | undefined;
    try {
      const port = await freePort();
      wl = await startWirelens(['tls', '--port', String(port)]);
      ng = await startTlsNginx(cert, port, { deferred: true });
      const pid = await exits('curl', [
        '-sk',
        '--max-time',
        '10',
        '-o',
        '/dev/null',
        '--resolve',
        `myhost.test:${ng.port}:127.0.0.1`,
        `https://myhost.test:${ng.port}/`,
      ]);
      const { records, stderr } = await wl.finish();
      assert.equal(records.length, 2, JSON.stringify(records));
      const c = one(records, { side: 'client' });
      const s = one(records, { side: 'server' });
      assert.deepEqual([c.pid, c.status, s.comm, s.status, s.sni], [pid, 'ok', 'nginx', 'ok', 'myhost.test']);
      sameHandshake(c, s);
      const listener = Number(/tls: kernel: .* (\d+) segments copied from a listener/.exec(stderr)?.[1]);
      assert.ok(listener >= 1, `the ClientHello came through the listener: ${stderr}`);
    } finally {
      ng?.stop();
      await wl?.finish();
    }
  });

  it('a user-space client that never sends the bare ACK: the ClientHello on the listener joins its connection', async () => {
    let ns: NetnsPair | undefined;
    let srv: SServer | undefined;
    let wl: WirelensRun | undefined;
    try {
      ns = createNetnsPair('tlsraw');
      const peer = craftPeer(ns);
      const port = await freePort();
      const hello = await recordClientHello('raw.test');
      wl = await startWirelens(['tls', '--port', String(port)]);
      srv = await startSServer(cert, port, [], { host: ns.addrB, netns: ns.b });
      const c = await peer.run(port, [
        { syn: '' },
        { data: hello.toString('hex'), off: 0 },
        { expect: 100 },
        { rst: true },
      ]);
      assert.equal(c.received[0], 22, 'the server answered with a handshake record');
      const { records } = await wl.finish();
      const s = one(records, { side: 'server', netns: ns.inodeB });
      assert.deepEqual([s.status, s.sni, s.dport, s.pid, s.comm], ['ok', 'raw.test', c.sport, srv.pid, 'openssl']);
      assert.equal(records.length, 1, JSON.stringify(records));
    } finally {
      await srv?.stop();
      await wl?.finish();
      ns?.remove();
    }
  });
});
