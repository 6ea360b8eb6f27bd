/**
 * wirelens capture on interfaces with different link-layer headers, in a
 * test namespace with a veth (Ethernet) and a tun device (raw IP, no header
 * at TC) carrying real traffic: the capture is LINUX_SLL2, as tcpdump -i
 * any's. Checked against tcpdump in the same namespace on the same traffic:
 * `tcpdump -r` reads the file and shows the packets tcpdump -i any captured
 * (same lines, so the same interfaces, directions, counts and bytes);
 * `wirelens capture -r` prints them back; `-i any` now includes the tun
 * device and prints tcpdump -i any's lines, with and without -e.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { kernelSkipReason } from '../helpers/skip';
import { CLI, FIXTURES } from '../helpers/paths';
import { Spawned, run, start, stop, waitFor } from '../helpers/proc';
import { NetnsPair, createNetnsPair } from '../helpers/netns';
import { readCaptureFile } from '../../src/sources/pcap/capture-reader';
import { LINKTYPE } from '../../src/model/packet';
import { decodePacket } from '../../src/net/decode/index';

const missing = ['tcpdump', 'curl', 'ping', 'python3'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
const skip =
  kernelSkipReason() ??
  (missing.length ? `needs ${missing.join(', ')}` : undefined) ??
  (fs.existsSync('/dev/net/tun') ? undefined : 'needs /dev/net/tun');

const EXPR = 'tcp port 8080 or icmp';
const SLL2_HEADER = 20;

/** A line without wirelens's process suffix (tcpdump has none). */
const noProc = (l: string): string => l.replace(/ \[pid \d+ [^\]]*\]$/, '');

function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(noProc)
    .sort();
}

describe('wirelens capture on Ethernet and raw IP interfaces together (LINUX_SLL2)', { skip }, () => {
  let dir: string;
  let ns: NetnsPair;
  let relay: Spawned;
  let server: Spawned;
  let tunA: string;
  let tunAddrB: string;
  const inA = (argv: string[]): Spawned => start('ip', ['netns', 'exec', ns.a, ...argv]);
  const runA = (argv: string[]) => run('ip', ['netns', 'exec', ns.a, ...argv]);

  /** curl over the veth and over the tun link, ping over both. */
  const traffic = async (): Promise<void> => {
    for (const host of [ns.addrB, tunAddrB]) {
      for (let i = 0; i < 2; i++) {
        const c = await runA(['curl', '-s', '-o', '/dev/null', `http://${host}:8080/small.txt`]);
        assert.equal(c.code, 0, c.stderr);
      }
      const p = await runA(['ping', '-c', '3', '-i', '0.2', '-q', host]);
      assert.equal(p.code, 0, p.stderr);
    }
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-sll2-'));
    fs.writeFileSync(path.join(dir, 'small.txt'), 'hello over two kinds of link\n');
    ns = createNetnsPair('sll2');
    const n = ns.addrA.split('.')[2]!;
    tunA = `wlu${process.pid % 100000}a`;
    const tunB = `wlu${process.pid % 100000}b`;
    const tunAddrA = `10.214.${n}.1`;
    tunAddrB = `10.214.${n}.2`;
    relay = start('python3', [path.join(FIXTURES, 'tun-relay.py'), ns.a, tunA, ns.b, tunB], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await waitFor(relay.stdout, /ready/, 10_000, 'the tun relay');
    const ip = async (...args: string[]) => {
      const r = await run('ip', args);
      assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    };
    await ip('-n', ns.a, 'addr', 'add', tunAddrA, 'peer', tunAddrB, 'dev', tunA);
    await ip('-n', ns.b, 'addr', 'add', tunAddrB, 'peer', tunAddrA, 'dev', tunB);
    await ip('-n', ns.a, 'link', 'set', tunA, 'up');
    await ip('-n', ns.b, 'link', 'set', tunB, 'up');
    server = start('ip', ['netns', 'exec', ns.b, 'python3', '-m', 'http.server', '8080', '-d', dir], {
      stdio: 'ignore',
    });
    for (const host of [ns.addrB, tunAddrB]) {
      for (let i = 0; ; i++) {
        const c = await runA(['curl', '-s', '-o', '/dev/null', `http://${host}:8080/small.txt`]);
        if (c.code === 0) break;
        if (i > 100) throw new Error(`the test server is not reachable at ${host}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  after(async () => {
    if (server) await stop(server);
    if (relay) await stop(relay);
    ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('-i VETH -i TUN -w: tcpdump -r reads the SLL2 file and shows what tcpdump -i any captured; -r prints it back', async () => {
    const tf = path.join(dir, 'any-td.pcap');
    const wf = path.join(dir, 'mixed-wl.pcapng');
    const td = inA(['tcpdump', '-Z', 'root', '-i', 'any', '-n', '-U', '--immediate-mode', '-w', tf, EXPR]);
    const wl = inA([process.execPath, CLI, 'capture', '-i', ns.devA, '-i', tunA, '-w', wf, EXPR]);
    try {
      await waitFor(td.stderr, /listening on/, 15_000, 'tcpdump to listen');
      await waitFor(wl.stderr, /listening on/, 15_000, 'wirelens to listen');
      await traffic();
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await stop(td, 'SIGINT');
      await stop(wl, 'SIGINT');
    }
    assert.match(wl.stderr(), /^listening on .*, link-type LINUX_SLL2, /m);

    // Every interface description block says SLL2: one link type for the whole file.
    const mine = readCaptureFile(wf);
    const theirs = readCaptureFile(tf);
    assert.equal(mine.error, undefined, mine.error);
    assert.deepEqual([...new Set(mine.interfaces.map((i) => i.linkType))], [LINKTYPE.LINUX_SLL2]);
    assert.deepEqual(mine.interfaces.map((i) => i.name).sort(), [ns.devA, tunA].sort());
    const netBytes = (ps: { wireLen: number }[]) => ps.reduce((s, p) => s + p.wireLen - SLL2_HEADER, 0);
    assert.ok(theirs.packets.length >= 30, `tcpdump captured ${theirs.packets.length}`);
    assert.deepEqual(
      { packets: mine.packets.length, bytes: netBytes(mine.packets) },
      { packets: theirs.packets.length, bytes: netBytes(theirs.packets) },
    );
    assert.match(wl.stderr(), new RegExp(`^${mine.packets.length} packets captured$`, 'm'));
    // Byte for byte: each packet's SLL2 header (protocol, ifindex, ARPHRD type, packet type, address) and
    // data. Not compared: address bytes past the address length (tcpdump's are not cleared), and the TCP
    // and UDP checksums (TC sees a leaving packet before the kernel completes its checksum, on a device
    // without checksum offload such as tun; tcpdump after).
    const bytes = (ps: { data: Uint8Array }[]) =>
      ps
        .map((p) => {
          const b = Buffer.from(p.data);
          b.fill(0, 12 + Math.min(b[11]!, 8), SLL2_HEADER);
          const d = decodePacket(b, LINKTYPE.LINUX_SLL2);
          const t = d.transport;
          if (t?.kind === 'tcp')
            b.fill(0, d.payloadOffset - t.headerLength + 16, d.payloadOffset - t.headerLength + 18);
          if (t?.kind === 'udp') b.fill(0, d.payloadOffset - 2, d.payloadOffset);
          return b.toString('hex');
        })
        .sort();
    assert.deepEqual(bytes(mine.packets), bytes(theirs.packets));

    // tcpdump reads both files in the namespace (its interface names come from there): the same lines.
    const read = async (f: string, flags: string[] = []) => {
      const r = await runA(['tcpdump', '-n', '-t', ...flags, '-r', f]);
      assert.equal(r.code, 0, r.stderr);
      return r;
    };
    const rw = await read(wf);
    assert.match(rw.stderr, /link-type LINUX_SLL2/);
    const want = sortedLines((await read(tf)).stdout);
    assert.deepEqual(sortedLines(rw.stdout), want);
    assert.ok(want.some((l) => l.startsWith(`${tunA} Out IP `) || l.startsWith(`${tunA} Out  IP `)));
    assert.ok(want.some((l) => l.startsWith(tunA) && / In {2}IP /.test(l)));
    assert.ok(want.some((l) => l.startsWith(ns.devA)));
    assert.deepEqual(sortedLines((await read(wf, ['-e'])).stdout), sortedLines((await read(tf, ['-e'])).stdout));

    // wirelens reads its own file back: tcpdump's lines (names from the file), with the processes.
    const back = await run(process.execPath, [CLI, 'capture', '-n', '-t', '-r', wf]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(sortedLines(back.stdout), want);
    assert.match(back.stdout, / \[pid \d+ curl\]$/m);
  });

  it('-i any in the namespace includes the tun device: the lines tcpdump -i any prints, with and without -e', async () => {
    const procs: Spawned[] = [];
    const both = (flags: string[]) => ({
      td: inA(['tcpdump', '-Z', 'root', '-i', 'any', '-n', '-t', '-l', ...flags, EXPR]),
      wl: inA([process.execPath, CLI, 'capture', '-i', 'any', '-n', '-t', '-l', ...flags, EXPR]),
    });
    const plain = both([]);
    const link = both(['-e']);
    procs.push(plain.td, plain.wl, link.td, link.wl);
    try {
      for (const p of procs) await waitFor(p.stderr, /listening on/, 15_000, 'a capture to listen');
      await traffic();
      const lo = await runA(['ping', '-c', '2', '-i', '0.2', '-q', '127.0.0.1']);
      assert.equal(lo.code, 0, lo.stderr);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      for (const p of procs) await stop(p, 'SIGINT');
    }
    const listening = /^listening on (.*), link-type (\S+),/m.exec(plain.wl.stderr());
    assert.ok(listening, plain.wl.stderr());
    assert.deepEqual(listening[1]!.split(', ').sort(), ['lo', ns.devA, tunA].sort());
    assert.equal(listening[2], 'LINUX_SLL2');
    for (const [name, r] of [
      ['plain', plain],
      ['-e', link],
    ] as const) {
      const want = sortedLines(r.td.stdout());
      assert.ok(want.length >= 30, `${name}: tcpdump printed ${want.length} lines`);
      assert.ok(
        want.some((l) => l.startsWith(tunA)),
        `${name}: tcpdump saw the tun device`,
      );
      assert.ok(
        want.some((l) => l.startsWith('lo ')),
        `${name}: tcpdump saw lo`,
      );
      assert.deepEqual(sortedLines(r.wl.stdout()), want, name);
    }
  });
});
