/**
 * The flow tracker against a reference: tcpdump writes real loopback
 * traffic (curl and nginx: keep-alive requests, a large download, an
 * upload, IPv4 and IPv6, a connection per request) to a file; the file goes
 * through our reader and the tracker, and each connection's two directions
 * must equal what `tshark -z follow,tcp,raw` reassembles from the same file.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlowTracker, type FlowOutput } from '../../src/net/flow-tracker';
import { readCaptureFile } from '../../src/sources/pcap/capture-reader';
import { collectStreams } from '../helpers/flow-streams';
import { startNginx, type TestNginx } from '../helpers/nginx';
import { run, start, stop, waitFor } from '../helpers/proc';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = ['tcpdump', 'tshark', 'curl', 'nginx'].filter((t) => !have(t));
const skip =
  missing.length > 0 ? `missing ${missing.join(', ')}` : process.getuid?.() !== 0 ? 'needs root for tcpdump' : false;

interface Follow {
  /** The client's address family: the same port may serve an IPv4 and an IPv6 connection at once. */
  family: 'ipv4' | 'ipv6';
  clientPort: number;
  c2s: Buffer;
  s2c: Buffer;
}

/** tshark's reassembly of one TCP stream: node 0 (the first packet's sender) is the client. */
function tsharkFollow(file: string, stream: number): Follow {
  const out = execFileSync('tshark', ['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`], {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  }).toString();
  const lines = out.split('\n');
  const node0 = lines.find((l) => l.startsWith('Node 0: '));
  assert.ok(node0, `tshark follow ${stream}: no Node 0 line in\n${out.slice(0, 500)}`);
  const c: string[] = [];
  const s: string[] = [];
  const from = lines.findIndex((l) => l.startsWith('Node 1: ')) + 1;
  for (const l of lines.slice(from)) {
    if (l.startsWith('=====')) break;
    if (l.startsWith('\t')) s.push(l.slice(1));
    else if (l.length > 0) c.push(l);
  }
  const addr = /^Node 0: (.*):\d+$/.exec(node0)![1]!;
  return {
    family: addr.includes(':') ? 'ipv6' : 'ipv4',
    clientPort: Number(/:(\d+)$/.exec(node0)![1]),
    c2s: Buffer.from(c.join(''), 'hex'),
    s2c: Buffer.from(s.join(''), 'hex'),
  };
}

function tsharkStreams(file: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.stream'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return [...new Set(out.split('\n').filter(Boolean).map(Number))].sort((a, b) => a - b);
}

describe('flow tracker against tshark on a tcpdump capture of curl and nginx', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-flow-'));
  const file = path.join(dir, 'lo.pcap');
  const big = randomBytes(300_000);
  const upload = randomBytes(200_000);
  let nginx: TestNginx | undefined;

  before(async () => {
    nginx = await startNginx({ 'big.bin': big, 'small.txt': 'small\n' });
    const port = nginx.port;
    fs.writeFileSync(path.join(dir, 'upload.bin'), upload);
    const td = start('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', file, `tcp port ${port}`]);
    try {
      await waitFor(td.stderr, /listening on/, 15_000, 'tcpdump to listen');
      const v4 = `http://127.0.0.1:${port}`;
      // One keep-alive connection: three requests, an upload among them.
      const a = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        `${v4}/big.bin`,
        '-o',
        '/dev/null',
        `${v4}/small.txt`,
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '--data-binary',
        `@${path.join(dir, 'upload.bin')}`,
        `${v4}/upload`,
      ]);
      assert.equal(a.code, 0, a.stderr);
      // A connection of its own over IPv6, and one per request.
      const b = await run('curl', ['-sS', '-g', '-o', '/dev/null', `http://[::1]:${port}/big.bin`]);
      assert.equal(b.code, 0, b.stderr);
      for (let i = 0; i < 3; i++) await run('curl', ['-sS', '-o', '/dev/null', `${v4}/small.txt`]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await stop(td, 'SIGINT');
    }
    assert.match(td.stderr(), /^0 packets dropped by kernel/m, td.stderr());
  });

  after(() => {
    nginx?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("each connection's two directions equal tshark's follow,tcp,raw", () => {
    const r = readCaptureFile(file);
    assert.equal(r.error, undefined);
    const tr = new FlowTracker();
    const outs: FlowOutput[] = [];
    for (const p of r.packets) tr.push(p, outs);
    tr.flush(outs);
    const ours = collectStreams(outs);

    const streams = tsharkStreams(file);
    assert.equal(streams.length, 5, `tshark sees ${streams.length} TCP streams`);
    assert.equal(tr.stats.flows, streams.length);
    for (const i of streams) {
      const want = tsharkFollow(file, i);
      const dirs = [...ours.values()].filter(
        (s) => s.key.clientPort === want.clientPort && s.key.family === want.family,
      );
      assert.deepEqual(
        dirs.map((s) => s.dir).sort(),
        ['c2s', 's2c'],
        `stream ${i} (client port ${want.clientPort}, ${want.family})`,
      );
      for (const s of dirs) {
        const ref = s.dir === 'c2s' ? want.c2s : want.s2c;
        assert.equal(s.bytes.length, ref.length, `stream ${i} ${s.dir}: ${s.bytes.length} bytes, tshark ${ref.length}`);
        assert.ok(s.bytes.equals(ref), `stream ${i} ${s.dir}: same length, different bytes`);
        assert.deepEqual([s.gaps, s.midStream, s.end], [[], false, 'fin'], `stream ${i} ${s.dir}`);
      }
    }
    // And against the source of truth: the file nginx served and the body curl sent are in the streams.
    const all = [...ours.values()];
    assert.equal(all.filter((s) => s.dir === 's2c' && s.bytes.includes(big)).length, 2, 'big.bin, v4 and v6');
    assert.equal(all.filter((s) => s.dir === 'c2s' && s.bytes.includes(upload)).length, 1, 'the upload');
    assert.ok(all.some((s) => s.key.family === 'ipv6'));
    assert.deepEqual([tr.stats.gaps, tr.stats.midStream, tr.stats.outOfWindow], [0, 0, 0]);
  });
});
