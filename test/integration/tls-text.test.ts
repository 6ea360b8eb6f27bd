/**
 * `wirelens tls`: the SNI a client sends is text once (UTF-8 decoded,
 * controls escaped, the backslash itself), the same in JSON and in the
 * table. The ClientHello is Node's own, recorded, with the bytes of its
 * server name replaced (same length) and sent from a raw socket to a
 * listener here that answers nothing.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { recordClientHello } from '../helpers/tls-servers';
import { freePort } from '../helpers/ports';
import { start, stop, waitFor } from '../helpers/proc';
import { CLI } from '../helpers/paths';
import { kernelSkipReason } from '../helpers/skip';
import { pick, startWirelens, WirelensRun } from '../helpers/wirelens';

const skip = kernelSkipReason();

describe('wirelens tls: the SNI as text, once', { skip }, () => {
  it('UTF-8 decoded, ESC escaped, a backslash as itself, in JSON and in the table', async () => {
    const hello = await recordClientHello('abcdefgh.test');
    const at = hello.indexOf('abcdefgh.test');
    assert.ok(at > 0);
    // c a f é(c3 a9) \ ESC A: eight bytes for the eight of "abcdefgh".
    Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x5c, 0x1b, 0x41]).copy(hello, at);
    const want = 'caf\u00e9\\\\x1bA.test';
    const port = await freePort();
    const srv = net
      .createServer((s) => {
        s.on('error', () => undefined);
        s.resume();
      })
      .listen(port, '127.0.0.1');
    const text = start(process.execPath, [CLI, 'tls', '-v', '--timeout', '0.2', '--port', String(port)], {
      env: { ...process.env, COLUMNS: '200' },
    });
    let wl: WirelensRun | undefined;
    try {
      await waitFor(text.stderr, /attached in/, 15000, 'wirelens tls (text) to attach');
      wl = await startWirelens(['tls', '--timeout', '0.2', '--port', String(port)]);
      await new Promise<void>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.write(hello));
        c.on('error', reject);
        setTimeout(() => (c.destroy(), resolve()), 800);
      });
      const { records } = await wl.finish();
      const r = pick(records, { side: 'client', dport: port });
      assert.equal(r.length, 1, JSON.stringify(records));
      assert.equal(r[0]!.sni, want);
      assert.equal(r[0]!.status, 'no_server_hello');
      await stop(text, 'SIGINT');
      assert.ok(text.stdout().includes(` ${want} `), `the table shows the same text: ${text.stdout()}`);
      assert.doesNotMatch(text.stdout(), /\x1b/, 'no raw ESC');
    } finally {
      await wl?.finish();
      await stop(text, 'SIGKILL');
      srv.close();
    }
  });
});
