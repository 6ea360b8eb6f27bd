/**
 * Task names are bytes a process chooses (prctl PR_SET_NAME): decoded once,
 * when the record is decoded, as UTF-8 where valid, with C0/C1 controls and
 * invalid bytes escaped as \xNN, so neither the text nor the JSON carries a
 * raw control (U+009B is CSI on a UTF-8 terminal) and `café` reads `café`,
 * not `cafÃ©`. Checked against what /proc says each process is called.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { CLI } from '../helpers/paths';
import { start, stop, waitFor } from '../helpers/proc';
import { freePort } from '../helpers/ports';
import { kernelSkipReason } from '../helpers/skip';
import { pick, startWirelens } from '../helpers/wirelens';

const skip = kernelSkipReason();

/** Names its thread `name` (hex bytes), connects to `port` once, prints its pid and what /proc reads back. */
const NAMED_CLIENT = `
import ctypes, socket, sys
name = bytes.fromhex(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) == 0
with open('/proc/self/comm', 'rb') as f:
    assert f.read().rstrip(b'\\n') == name, 'the kernel kept the name'
s = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
s.recv(1)
s.close()
`;

const C1 = /[\u0080-\u009f]/;

describe('wirelens tcp: task names as text', { skip }, () => {
  it('UTF-8 decoded, C1 and invalid bytes escaped, in text and in JSON', async () => {
    const port = await freePort();
    const srv = net.createServer((s) => s.end()).listen(port, '127.0.0.1');
    // The wide table: whole task names (the 80-column one cuts them to 8 columns).
    const text = start(process.execPath, [CLI, 'tcp', '-v', '--port', String(port)], {
      env: { ...process.env, COLUMNS: '200' },
    });
    const json = await startWirelens(['tcp', '--port', String(port)]);
    try {
      await waitFor(text.stderr, /attached in/, 15000, 'text wirelens to attach');
      const names: [string, string][] = [
        ['636166c3a9', 'café'], // caf\xc3\xa9
        ['78c29b5b33316d79', 'x\\xc2\\x9b[31my'], // CSI as C1, then "[31m"
        ['626164fffe', 'bad\\xff\\xfe'], // not UTF-8
      ];
      const pids: number[] = [];
      for (const [hex] of names) {
        const c = start('python3', ['-c', NAMED_CLIENT, hex, String(port)]);
        assert.equal(await c.exited, 0, c.stderr());
        pids.push(c.child.pid!);
      }
      await new Promise((r) => setTimeout(r, 300));
      const { records, stderr } = await json.finish();
      await stop(text, 'SIGINT');
      names.forEach(([, want], i) => {
        const recs = pick(records, { pid: pids[i]!, direction: 'active' });
        assert.equal(recs.length, 2, `open and close of ${want}: ${stderr}`);
        for (const r of recs) assert.equal(r.comm, want);
        assert.match(text.stdout(), new RegExp(`^.* ${pids[i]} .*${want.replace(/[\\[\]]/g, '\\$&')} `, 'm'));
      });
      assert.doesNotMatch(JSON.stringify(records), C1, 'no raw C1 control in the JSON');
      assert.doesNotMatch(text.stdout(), C1, 'no raw C1 control in the text');
      assert.doesNotMatch(text.stdout(), /Ã/, 'not decoded as Latin-1');
    } finally {
      await json.finish();
      await stop(text, 'SIGKILL');
      srv.close();
    }
  });
});
