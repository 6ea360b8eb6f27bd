/**
 * wirelens capture on real traffic, checked against tcpdump and tshark:
 * the same packets as tcpdump on the same loopback traffic; pcapng files
 * whose comments tshark shows with each packet's process; -r reading back;
 * rotation; -w - into tshark; -c; bad input as one line and exit 2; and
 * traffic that flows unchanged while capture runs.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { kernelSkipReason } from '../helpers/skip';
import { CLI } from '../helpers/paths';
import { Spawned, run, start, stop, waitFor } from '../helpers/proc';
import { TestNginx, nginxWorkerPids, startNginx } from '../helpers/nginx';
import { TestDnsmasq, startDnsmasq } from '../helpers/dnsmasq';
import { freeDnsPort } from '../helpers/ports';
import { createNetnsPair } from '../helpers/netns';
import { readCaptureFile } from '../../src/sources/pcap/capture-reader';
import { PacketText } from '../../src/output/packet-text';
import { decodePacket } from '../../src/net/decode/index';
import { cgroup2Root } from '../../src/kernel/cgroup';

const missing = ['tcpdump', 'tshark', 'curl', 'dig', 'ping', 'nginx', 'dnsmasq'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
const skip = kernelSkipReason() ?? (missing.length ? `needs ${missing.join(', ')}` : undefined);

const BODY = Buffer.alloc(300_000, 'x');

function capture(args: string[]): Spawned {
  return start(process.execPath, [CLI, 'capture', ...args]);
}

async function listening(s: Spawned, what: string): Promise<void> {
  await waitFor(s.stderr, /listening on/, 15_000, `${what} to listen`);
}

/** Runs `wirelens capture args` while `drive` makes traffic; stopped with SIGINT once the last packets are in. */
async function captureDuring(args: string[], drive: () => Promise<void>): Promise<Spawned> {
  const wl = capture(args);
  try {
    await listening(wl, `wirelens capture ${args.join(' ')}`);
    await drive();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await stop(wl, 'SIGINT');
  }
  return wl;
}

/** The summary's three figures from a capture's stderr. */
function summaryOf(stderr: string): { captured: number; received: number; dropped: number } {
  const n = (what: string) => {
    const m = new RegExp(`^(\\d+) packets? ${what}$`, 'm').exec(stderr);
    assert.ok(m, `no "${what}" in:\n${stderr}`);
    return Number(m[1]);
  };
  return { captured: n('captured'), received: n('received by filter'), dropped: n('dropped by kernel') };
}

/** The TCP ports of a captured packet ([] when it is not TCP). */
function tcpPorts(p: { data: Uint8Array; linkType: number }): number[] {
  const t = decodePacket(p.data, p.linkType).transport;
  return t && t.kind === 'tcp' ? [t.sport, t.dport] : [];
}

function totals(file: string): { packets: number; bytes: number; captured: number } {
  const r = readCaptureFile(file);
  assert.equal(r.error, undefined, `${file}: ${r.error}`);
  return {
    packets: r.packets.length,
    bytes: r.packets.reduce((n, p) => n + p.wireLen, 0),
    captured: r.packets.reduce((n, p) => n + p.data.length, 0),
  };
}

/** The packets one file has more of than the other, as lines (for a failure's message). */
function lineDiff(a: string, b: string): string {
  const lines = (f: string) => {
    const t = new PacketText({ time: 'none', proc: false });
    return readCaptureFile(f).packets.map((p) => t.format({ ...p, direction: 'unknown' }));
  };
  const count = new Map<string, number>();
  for (const l of lines(a)) count.set(l, (count.get(l) ?? 0) + 1);
  for (const l of lines(b)) count.set(l, (count.get(l) ?? 0) - 1);
  return [...count]
    .filter(([, n]) => n !== 0)
    .map(([l, n]) => `${n > 0 ? `only in ${path.basename(a)}` : `only in ${path.basename(b)}`}: ${l}`)
    .join('\n');
}

describe('wirelens capture', { skip }, () => {
  let dir: string;
  let nginx: TestNginx;
  let dns: TestDnsmasq;
  const traffic = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      const c = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/big.bin`]);
      assert.equal(c.code, 0, c.stderr);
    }
    for (const name of ['a.test', 'b.test', 'nx.test']) {
      const d = await run('dig', ['@127.0.0.1', '-p', String(dns.port), '+tries=1', '+time=2', name, 'A']);
      assert.equal(d.code, 0, d.stderr);
    }
    // 127.0.0.2 (still lo): other processes' pings of 127.0.0.1 stay out of the expressions.
    const p = await run('ping', ['-c', '3', '-i', '0.2', '-q', '127.0.0.2']);
    assert.equal(p.code, 0, p.stderr);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-capture-'));
    nginx = await startNginx({ 'big.bin': BODY, 'index.html': 'hello\n' });
    dns = await startDnsmasq(await freeDnsPort(), ['--host-record=a.test,10.0.0.1', '--host-record=b.test,10.0.0.2']);
  });
  after(async () => {
    nginx?.stop();
    await dns?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('captures the same packets as tcpdump -i lo with the same expression (count and bytes)', async () => {
    const expr = `tcp port ${nginx.port} or udp port ${dns.port} or (icmp and host 127.0.0.2)`;
    const tf = path.join(dir, 'tcpdump.pcap');
    const wf = path.join(dir, 'wirelens.pcapng');
    // --immediate-mode: without it tcpdump holds packets up to a second in the ring and loses the last
    // ones when it is stopped (counted as received by filter, not captured).
    const td = start('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', tf, expr]);
    const wl = capture(['-i', 'lo', '-w', wf, expr]);
    try {
      await waitFor(td.stderr, /listening on/, 15_000, 'tcpdump to listen');
      await listening(wl, 'wirelens');
      await traffic();
      // tcpdump writes each packet as it reads it (-U): wait until its file has stopped growing for
      // half a second (up to 5 s), so a tcpdump lagging on a busy machine is not stopped short.
      let size = -1;
      let still = 0;
      for (let i = 0; i < 50 && still < 5; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const now = fs.existsSync(tf) ? fs.statSync(tf).size : 0;
        still = now === size ? still + 1 : 0;
        size = now;
      }
    } finally {
      await stop(td, 'SIGINT');
      await stop(wl, 'SIGINT');
    }
    const a = totals(tf);
    const b = totals(wf);
    assert.ok(a.packets > 30, `tcpdump saw ${a.packets} packets`);
    assert.deepEqual(b, a, `wirelens ${JSON.stringify(b)} vs tcpdump ${JSON.stringify(a)}:\n${lineDiff(tf, wf)}`);
    assert.match(wl.stderr(), new RegExp(`^${b.packets} packets captured$`, 'm'));
    assert.match(wl.stderr(), /^0 packets dropped by kernel$/m);
  });

  it('-w: tshark shows curl on curl packets and nginx on nginx packets; tcpdump -r and -r read it back', async () => {
    const wf = path.join(dir, 'procs.pcapng');
    const wl = capture(['-w', wf, `tcp port ${nginx.port}`]);
    let curlPid = 0;
    let curlPort = 0;
    try {
      await listening(wl, 'wirelens');
      const c = start('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{local_port}',
        `http://127.0.0.1:${nginx.port}/big.bin`,
      ]);
      curlPid = c.child.pid!;
      assert.equal(await c.exited, 0);
      curlPort = Number(c.stdout());
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await stop(wl, 'SIGINT');
    }
    // The worker that read the request, or (before it did) the master, which holds the listener too.
    const workers = [
      ...(await nginxWorkerPids(nginx.dir)),
      Number(fs.readFileSync(path.join(nginx.dir, 'nginx.pid'), 'utf8')),
    ];
    const rows = execFileSync(
      'tshark',
      [
        '-r',
        wf,
        '-T',
        'fields',
        '-E',
        'separator=|',
        '-e',
        'frame.comment',
        '-e',
        'tcp.srcport',
        '-e',
        'frame.packet_flags_direction',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const out = rows.filter((r) => r[2] === '0x00000002');
    const fromCurl = out.filter((r) => Number(r[1]) === curlPort);
    const fromNginx = out.filter((r) => Number(r[1]) === nginx.port);
    assert.ok(fromCurl.length >= 3 && fromNginx.length >= 3, `${fromCurl.length} curl, ${fromNginx.length} nginx rows`);
    for (const r of fromCurl) assert.equal(r[0], `PID: ${curlPid}\\nCmd: curl\\nUID: 0`);
    // nginx's answer after it read the request: the worker that read it.
    const named = fromNginx.filter((r) => r[0] !== '');
    assert.ok(named.length >= fromNginx.length - 2, `nginx rows without a process: ${fromNginx.length - named.length}`);
    for (const r of named)
      assert.match(r[0]!, new RegExp(`^PID: (${workers.join('|')})\\\\nCmd: nginx\\\\nUID: \\d+$`));
    // tcpdump reads a single-link-type file.
    const td = await run('tcpdump', ['-n', '-r', wf]);
    assert.equal(td.code, 0, td.stderr);
    assert.match(td.stderr, /link-type RAW/);
    assert.equal(td.stdout.trim().split('\n').length, rows.length);
    // wirelens reads the processes back.
    const back = await run(process.execPath, [CLI, 'capture', '-r', wf]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`\\[pid ${curlPid} curl\\]`));
    assert.match(back.stdout, /\[pid \d+ nginx\]/);
  });

  it('-w FILE (blocks made in the kernel) writes every block as -w - (made in user space) does, names not ASCII included', async () => {
    // Processes whose names the kernel cannot write as they are (UTF-8, a control character): their
    // packets come as records and user space writes their blocks, escaped, into the same file.
    const udp = await freeDnsPort();
    const names = ['caf\\xc3\\xa9', 'tab\\tname', 'plain'];
    const senders = async () => {
      for (const n of names) {
        // It sends to itself: on -i lo an arriving packet is named by the socket it is for.
        const py = `import ctypes,socket\nctypes.CDLL(None).prctl(15, b"${n}", 0, 0, 0)\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(("127.0.0.1", ${udp}))\nfor i in range(3): s.sendto(b"x"*(10+i), ("127.0.0.1", ${udp}))\nfor i in range(3): s.recv(100)`;
        const r = await run('python3', ['-c', py]);
        assert.equal(r.code, 0, r.stderr);
      }
    };
    const epbs = (b: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let off = 0; off + 12 <= b.length;) {
        const len = b.readUInt32LE(off + 4);
        assert.ok(len >= 12 && off + len <= b.length, `a whole block at ${off}`);
        if (b.readUInt32LE(off) === 6) {
          const e = Buffer.from(b.subarray(off, off + len));
          e.fill(0, 12, 20); // the two captures stamp their copies a few ns apart
          out.push(e);
        }
        off += len;
      }
      return out.sort(Buffer.compare);
    };
    // The last run stands in for a kernel refusing the programs that make blocks: user space writes them.
    for (const [hook, refuse] of [
      [[], false],
      [['-i', 'lo'], false],
      [['-i', 'lo'], true],
    ] as const) {
      const wf = path.join(dir, `blocks${hook.length}${refuse}.pcapng`);
      const expr = `tcp port ${nginx.port} or udp port ${udp} or icmp`;
      const viaFile = start(process.execPath, [CLI, 'capture', ...hook, '-v', '-w', wf, expr], {
        env: { ...process.env, WIRELENS_REFUSE_BLOCKS: refuse ? '1' : '0' },
      });
      const sf = path.join(dir, `stdout${hook.length}.pcapng`);
      const q = (x: string) => `'${x}'`;
      const cmd = [process.execPath, CLI, 'capture', ...hook, '-w', '-', expr].map(q).join(' ');
      const viaStdout = start('sh', ['-c', `exec ${cmd} > ${q(sf)}`]);
      try {
        await listening(viaFile, 'capture -w FILE');
        await listening(viaStdout, 'capture -w -');
        await traffic();
        await senders();
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await stop(viaFile, 'SIGINT');
        await stop(viaStdout, 'SIGINT');
      }
      const a = epbs(fs.readFileSync(wf));
      const b = epbs(fs.readFileSync(sf));
      const what = `${hook.length ? '-i lo' : 'sockets'}${refuse ? ', blocks refused' : ''}`;
      assert.equal(
        /pcapng blocks are not made in the kernel here/.test(viaFile.stderr()),
        refuse,
        `${what}: ${viaFile.stderr()}`,
      );
      assert.ok(a.length > 50, `${what}: ${a.length} blocks`);
      assert.equal(a.length, b.length, `${what}: as many blocks`);
      const differ = a.findIndex((x, i) => !x.equals(b[i]!));
      assert.equal(differ, -1, `${what}: block ${a[differ]?.toString('hex')} vs ${b[differ]?.toString('hex')}`);
      assert.equal(summaryOf(viaFile.stderr()).captured, a.length);
      const comments = execFileSync('tshark', ['-r', wf, '-T', 'fields', '-e', 'frame.comment'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
      for (const c of ['Cmd: café', 'Cmd: tab\\x09name', 'Cmd: plain', 'Cmd: curl'])
        assert.ok(comments.includes(c), `${what}: ${c} in\n${comments}`);
      const td = spawnSync('tcpdump', ['-r', wf, '-n'], { encoding: 'utf8' });
      assert.equal(td.stdout.trim().split('\n').length, a.length, `${what}: tcpdump -r reads every block`);
    }
  });

  it('--comm filters by process in the kernel; -r - reads standard input', async () => {
    const wf = path.join(dir, 'comm.pcapng');
    const wl = await captureDuring(['--comm', 'curl', '-w', wf], traffic);
    const r = readCaptureFile(wf);
    assert.ok(r.packets.length >= 9, `${r.packets.length} packets`);
    for (const p of r.packets) assert.equal(p.proc?.comm, 'curl', 'only curl sockets');
    const received = Number(/(\d+) packets received by filter/.exec(wl.stderr())?.[1]);
    assert.ok(received >= r.packets.length, 'received by filter counts what the process filter kept');
    const viaStdin = await run('sh', [
      '-c',
      `cat ${wf} | ${process.execPath} ${CLI} capture -r - 'tcp[tcpflags] & tcp-syn != 0'`,
    ]);
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    const lines = viaStdin.stdout.trim().split('\n');
    assert.equal(lines.length, r.packets.filter((p) => /Flags \[S/.test(new PacketText().format(p))).length);
    for (const l of lines) assert.match(l, /Flags \[S\.?\].*\[pid \d+ curl\]$/);

    // On an interface the filter judges the process the line names: an arriving frame's local socket.
    const lf = path.join(dir, 'comm-lo.pcapng');
    await captureDuring(['-i', 'lo', '--comm', 'curl', '-w', lf, `tcp port ${nginx.port}`], traffic);
    const onLo = readCaptureFile(lf).packets;
    assert.ok(onLo.length >= 9, `${onLo.length} packets for curl on lo`);
    for (const p of onLo) assert.equal(p.proc?.comm, 'curl');
  });

  it('-C/-W rotate into readable files; -w - streams into tshark -r -; -c stops', async () => {
    const base = path.join(dir, 'ring');
    await captureDuring(['-i', 'lo', '-C', '0.1', '-W', '3', '-w', base, `tcp port ${nginx.port}`], traffic);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('ring'));
    assert.deepEqual(files.sort(), ['ring0', 'ring1', 'ring2']);
    for (const f of files) {
      const t = totals(path.join(dir, f));
      assert.ok(t.packets > 0, `${f} holds packets`);
      const td = await run('tcpdump', ['-n', '-r', path.join(dir, f)]);
      assert.equal(td.code, 0, `${f}: ${td.stderr}`);
    }

    const pipe = await run('sh', [
      '-c',
      `${process.execPath} ${CLI} capture -i lo -c 6 -w - 'icmp' | tshark -r - -T fields -e icmp.type 2>/dev/null & sleep 2; ping -c 4 -i 0.2 -q 127.0.0.1 >/dev/null; wait`,
    ]);
    assert.equal(pipe.code, 0, pipe.stderr);
    assert.deepEqual(pipe.stdout.trim().split('\n'), ['8', '0', '8', '0', '8', '0']);
  });

  it('-G 1 -W 3: three files, none empty, whose packets (tcpdump -r) add up to "packets captured"; the ISB says the summary', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'g-'));
    const wl = capture([
      '-i',
      'lo',
      '-G',
      '1',
      '-W',
      '3',
      '-w',
      path.join(sub, 'g-%s.pcapng'),
      'icmp and host 127.0.0.3',
    ]);
    let ping: Spawned | undefined;
    try {
      await listening(wl, 'wirelens -G 1 -W 3');
      // Nothing for longer than -G at first: the first file still takes the first packets.
      await new Promise((r) => setTimeout(r, 1500));
      ping = start('ping', ['-c', '100', '-i', '0.1', '-q', '127.0.0.3']);
      // wirelens stops by itself at the packet that would open a fourth file.
      const code = await Promise.race([wl.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      assert.equal(code, 0, `exit ${code}: ${wl.stderr()}`);
    } finally {
      if (ping) await stop(ping, 'SIGKILL');
      await stop(wl, 'SIGINT');
    }
    const s = summaryOf(wl.stderr());
    const files = fs.readdirSync(sub).sort();
    assert.equal(files.length, 3, files.join(' '));
    const counts: number[] = [];
    for (const f of files) {
      const td = await run('tcpdump', ['-n', '-r', path.join(sub, f)]);
      assert.equal(td.code, 0, `${f}: ${td.stderr}`);
      counts.push(td.stdout.split('\n').filter((l) => l !== '').length);
    }
    assert.ok(
      counts.every((n) => n > 0),
      `no file is empty: ${counts.join(', ')}`,
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      s.captured,
      `files ${counts.join(' + ')} vs ${s.captured} captured`,
    );
    const isb = readCaptureFile(path.join(sub, files.at(-1)!)).stats.get(0);
    assert.deepEqual(isb, { filterAccepted: s.captured, received: s.received, dropped: s.dropped });
  });

  it("received by filter: what the filter let through (tcpdump's figure on a veth; with --comm too); the ISB says the summary", async () => {
    const ns = createNetnsPair('recv');
    const server = start(
      'ip',
      ['netns', 'exec', ns.b, 'python3', '-m', 'http.server', '8080', '--bind', ns.addrB, '-d', dir],
      { stdio: 'ignore' },
    );
    try {
      const expr = 'tcp port 8080';
      const tf = path.join(dir, 'recv-td.pcap');
      const wf = path.join(dir, 'recv-wl.pcapng');
      const inA = (argv: string[]) => start('ip', ['netns', 'exec', ns.a, ...argv]);
      const td = inA(['tcpdump', '-Z', 'root', '-i', ns.devA, '-n', '-U', '--immediate-mode', '-w', tf, expr]);
      const wl = inA([process.execPath, CLI, 'capture', '-i', ns.devA, '-w', wf, expr]);
      try {
        await waitFor(td.stderr, /listening on/, 15_000, 'tcpdump to listen');
        await listening(wl, 'wirelens');
        for (let i = 0, ok = 0; ok < 3; i++) {
          const c = await run('ip', [
            'netns',
            'exec',
            ns.a,
            'curl',
            '-s',
            '-o',
            '/dev/null',
            `http://${ns.addrB}:8080/`,
          ]);
          if (c.code === 0) ok++;
          else if (i > 100) throw new Error('the test server did not start');
          else await new Promise((r) => setTimeout(r, 50));
        }
        // Seen by both, let through by neither: ping, and the ARP/ND around it.
        await run('ip', ['netns', 'exec', ns.a, 'ping', '-c', '5', '-i', '0.2', '-q', ns.addrB]);
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await stop(td, 'SIGINT');
        await stop(wl, 'SIGINT');
      }
      const t = summaryOf(td.stderr());
      const w = summaryOf(wl.stderr());
      assert.ok(t.captured >= 30, `tcpdump captured ${t.captured}`);
      assert.deepEqual(w, t, `wirelens ${JSON.stringify(w)} vs tcpdump ${JSON.stringify(t)}`);
      assert.equal(readCaptureFile(wf).packets.length, w.captured);
      assert.deepEqual(readCaptureFile(wf).stats.get(0), {
        filterAccepted: w.captured,
        received: w.received,
        dropped: w.dropped,
      });
    } finally {
      await stop(server);
      ns.remove();
    }

    // With a process filter: the packets both filters let through (curl's SYNs), not all of curl's packets.
    const cf = path.join(dir, 'recv-comm.pcapng');
    const wl = await captureDuring(['--comm', 'curl', '-w', cf, 'tcp[tcpflags] & tcp-syn != 0'], traffic);
    const s = summaryOf(wl.stderr());
    const r = readCaptureFile(cf);
    assert.ok(s.captured >= 3, `${s.captured} SYNs`);
    assert.equal(r.packets.length, s.captured);
    assert.ok(
      s.received >= s.captured + s.dropped && s.received <= s.captured + s.dropped + 2,
      `received ${s.received} = captured ${s.captured} + dropped ${s.dropped}`,
    );
    assert.deepEqual(r.stats.get(0), { filterAccepted: s.captured, received: s.received, dropped: s.dropped });
  });

  it('socket packets of other network namespaces: [netns N] on the line, NetNS: N in the comment, read back by -r', async () => {
    const ns = createNetnsPair('nsid');
    const server = start(
      'ip',
      ['netns', 'exec', ns.b, 'python3', '-m', 'http.server', '8080', '--bind', ns.addrB, '-d', dir],
      { stdio: 'ignore' },
    );
    const wf = path.join(dir, 'netns.pcapng');
    const expr = `tcp port 8080 or tcp port ${nginx.port}`;
    const drive = async () => {
      for (let i = 0; ; i++) {
        const c = await run('ip', ['netns', 'exec', ns.a, 'curl', '-s', '-o', '/dev/null', `http://${ns.addrB}:8080/`]);
        if (c.code === 0) break;
        if (i > 100) throw new Error('the test server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      const c = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/`]);
      assert.equal(c.code, 0);
    };
    try {
      const live = await captureDuring([expr], drive);
      await captureDuring(['-w', wf, expr], drive);
      const here = fs.statSync('/proc/self/ns/net').ino;
      const their = new Set([String(ns.inodeA), String(ns.inodeB)]);
      for (const [what, out] of [
        ['live', live.stdout()],
        ['-r', (await run(process.execPath, [CLI, 'capture', '-r', wf])).stdout],
      ] as const) {
        const lines = out.split('\n').filter((l) => l !== '');
        const other = lines.filter((l) => / 8080[:.]|\.8080 /.test(l));
        const local = lines.filter((l) => l.includes(`.${nginx.port}`));
        assert.ok(other.length >= 6 && local.length >= 6, `${what}: ${other.length} / ${local.length} lines`);
        for (const l of other) {
          const m = / \[netns (\d+)\]$/.exec(l);
          assert.ok(m && their.has(m[1]!), `${what}: ${l}`);
        }
        for (const l of local) assert.doesNotMatch(l, /netns/, `${what}: the capture's own namespace is not named`);
      }
      const comments = execFileSync('tshark', ['-r', wf, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'frame.comment'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const named = comments.filter(([port]) => port === '8080' || Number(port) !== nginx.port);
      assert.ok(
        named.some(([, c]) => new RegExp(`NetNS: (${ns.inodeA}|${ns.inodeB})`).test(c ?? '')),
        comments.map((c) => c.join(' ')).join('\n'),
      );
      for (const [, c] of comments) assert.doesNotMatch(c ?? '', new RegExp(`NetNS: ${here}\\b`));
    } finally {
      await stop(server);
      ns.remove();
    }
  });

  it("--cgroup: only the packets of sockets made in the test's cgroup or below it", async () => {
    const root = cgroup2Root();
    const cg = fs.mkdtempSync(path.join(root, 'wl-test-'));
    const inner = path.join(cg, 'inner');
    fs.mkdirSync(inner);
    try {
      const wf = path.join(dir, 'cgroup.pcapng');
      const url = `http://127.0.0.1:${nginx.port}/`;
      let inside = 0;
      let outside = 0;
      const wl = await captureDuring(
        ['--cgroup', path.relative(root, cg), '-w', wf, `tcp port ${nginx.port}`],
        async () => {
          const o = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{local_port}', url]);
          outside = Number(o.stdout);
          const i = await run('sh', [
            '-c',
            `echo $$ > ${inner}/cgroup.procs && exec curl -s -o /dev/null -w %{local_port} ${url}`,
          ]);
          assert.equal(i.code, 0, i.stderr);
          inside = Number(i.stdout);
        },
      );
      assert.ok(inside > 0 && outside > 0);
      const pkts = readCaptureFile(wf).packets;
      const ports = pkts.map(tcpPorts);
      assert.ok(pkts.length >= 6, `${pkts.length} packets`);
      assert.ok(
        ports.every((p) => p.includes(inside)),
        `only the connection from inside: ${ports.map((p) => p.join('>')).join(' ')}`,
      );
      for (const p of pkts) if (p.proc) assert.equal(p.proc.comm, 'curl');
      assert.equal(summaryOf(wl.stderr()).captured, pkts.length);
    } finally {
      fs.rmdirSync(inner);
      fs.rmdirSync(cg);
    }
  });

  it('bad input: one line and exit 2, never a stack trace', async () => {
    const trunc = path.join(dir, 'trunc.pcapng');
    const good = fs.readFileSync(path.join(dir, 'wirelens.pcapng'));
    fs.writeFileSync(trunc, good.subarray(0, good.length - 37));
    const shbLen = good.readUInt32LE(4);
    const absurd = Buffer.from(good.subarray(0, shbLen + 64));
    absurd.writeUInt32LE(0x7ffffff0, shbLen + 4); // the IDB's length
    const absurdFile = path.join(dir, 'absurd.pcapng');
    fs.writeFileSync(absurdFile, absurd);
    const cases: [string[], RegExp, number][] = [
      [['tcp prt 80'], /filter expression: .*syntax error/, 2],
      [['-i', 'wl-no-such0', 'tcp'], /no such network interface/, 2],
      [['-r', path.join(dir, 'none.pcap')], /-r .*none\.pcap: .*ENOENT/, 2],
      [['-r', absurdFile], /absurd|block length|too long/i, 2],
      [['ether host 00:11:22:33:44:55'], /socket packets have no link-layer header/, 2],
      [['-i', 'lo', 'arp and tcp'], /rejects all packets/, 2],
      [['--cgroup', 'wl-no-such-cgroup'], /--cgroup wl-no-such-cgroup: no such cgroup/, 2],
      [['--cgroup', '/tmp'], /not a directory of the cgroup v2 hierarchy/, 2],
      [['-i', 'lo', '--cgroup', '/'], /--cgroup needs the socket hook/, 2],
    ];
    for (const [args, re, code] of cases) {
      const r = await run(process.execPath, [CLI, 'capture', ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    // A truncated file: the packets read so far, and a note.
    const t = await run(process.execPath, [CLI, 'capture', '-r', trunc]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /truncated/);
    assert.ok(t.stdout.trim().split('\n').length >= totals(path.join(dir, 'wirelens.pcapng')).packets - 1);
  });

  it('traffic flows unchanged and nothing is retransmitted while capture runs', async () => {
    // Its own namespaces: the counters are theirs alone.
    const ns = createNetnsPair('cap');
    const www = path.join(dir, 'www');
    fs.mkdirSync(www, { recursive: true });
    fs.writeFileSync(path.join(www, 'big.bin'), BODY);
    const server = start('ip', [
      'netns',
      'exec',
      ns.b,
      'python3',
      '-m',
      'http.server',
      '8080',
      '--bind',
      ns.addrB,
      '-d',
      www,
    ]);
    // Retransmits and tail-loss probes: a probe is sent when an ACK is late, as on a loaded machine,
    // without any packet lost, and may resend the last segment (counted as a retransmit) or send new
    // data (not counted). A retransmit no probe accounts for is a lost packet's, which capture must
    // never cause.
    const counters = (): { retrans: number; probes: number } => {
      let retrans = 0;
      let probes = 0;
      for (const x of [ns.a, ns.b]) {
        const out = execFileSync('ip', ['netns', 'exec', x, 'nstat', '-asz', 'TcpRetransSegs', 'TcpExtTCPLossProbes'], {
          encoding: 'utf8',
        });
        retrans += Number(/TcpRetransSegs\s+(\d+)/.exec(out)?.[1] ?? 0);
        probes += Number(/TcpExtTCPLossProbes\s+(\d+)/.exec(out)?.[1] ?? 0);
      }
      return { retrans, probes };
    };
    try {
      for (let i = 0; ; i++) {
        const c = await run('ip', ['netns', 'exec', ns.a, 'curl', '-s', '-o', '/dev/null', `http://${ns.addrB}:8080/`]);
        if (c.code === 0) break;
        if (i > 100) throw new Error('the test server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      const variants: { args: string[]; netns?: string }[] = [
        { args: [] },
        { args: ['tcp port 8080 and greater 1000'] },
        { args: ['ip6 protochain 6'] },
        { args: ['-i', ns.devA, 'tcp'], netns: ns.a },
        { args: ['-i', ns.devA, 'not tcp'], netns: ns.a },
      ];
      for (const v of variants) {
        const argv = [process.execPath, CLI, 'capture', '-w', '/dev/null', ...v.args];
        const wl = v.netns ? start('ip', ['netns', 'exec', v.netns, ...argv]) : start(argv[0]!, argv.slice(1));
        try {
          await listening(wl, `wirelens ${v.args.join(' ')}`);
          const r0 = counters();
          const got = path.join(dir, 'got.bin');
          const c = await run('ip', [
            'netns',
            'exec',
            ns.a,
            'curl',
            '-s',
            '-o',
            got,
            `http://${ns.addrB}:8080/big.bin`,
          ]);
          assert.equal(c.code, 0, c.stderr);
          assert.ok(fs.readFileSync(got).equals(BODY), `body intact with ${v.args.join(' ') || 'no expression'}`);
          const p = await run('ip', ['netns', 'exec', ns.a, 'ping', '-c', '5', '-i', '0.2', '-q', ns.addrB]);
          assert.match(p.stdout, / 0% packet loss/, v.args.join(' '));
          const r1 = counters();
          const lost = r1.retrans - r0.retrans - (r1.probes - r0.probes);
          assert.ok(lost <= 0, `no retransmits but probes' with ${v.args.join(' ') || 'no expression'}: ${lost}`);
        } finally {
          await stop(wl, 'SIGINT');
        }
        assert.match(wl.stderr(), /packets captured/);
      }
    } finally {
      await stop(server);
      ns.remove();
    }
  });
});
