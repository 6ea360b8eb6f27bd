/**
 * Our pcap/pcapng files, readers and packet lines against the reference
 * tools on the same bytes: tcpdump (lines, counts), tshark (comments,
 * interface names, directions), editcap/capinfos (format variants, ISB).
 * Real traffic is captured by tcpdump on lo and on "any" (SLL2) while
 * curl fetches from a local HTTP server, ping runs over IPv4 and IPv6, and
 * a UDP query hits a closed port (ICMP port unreachable).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LINKTYPE, type Packet } from '../../src/model/packet';
import { PacketText, type PacketTextOptions } from '../../src/output/packet-text';
import { PcapngWriter } from '../../src/output/pcapng-writer';
import { readCaptureFile } from '../../src/sources/pcap/capture-reader';
import { ether, frameCorpus, ipv4, udp } from '../helpers/frames';
import { FIXTURES } from '../helpers/paths';
import { freePort } from '../helpers/ports';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const tools = ['tcpdump', 'tshark', 'editcap', 'capinfos', 'curl', 'ping'];
const missing = tools.filter((t) => !have(t));
const skip =
  missing.length > 0 ? `missing ${missing.join(', ')}` : process.getuid?.() !== 0 ? 'needs root for tcpdump' : false;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-pcap-'));
const TZ = { ...process.env, TZ: 'UTC' };

function tcpdumpText(file: string, flags: string[]): string[] {
  const out = execFileSync('tcpdump', ['-r', file, '-n', ...flags], { env: TZ, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.toString().replace(/\n$/, '').split('\n');
}

const FLAG_SETS: [string[], PacketTextOptions][] = [
  [[], {}],
  [['-e'], { link: true }],
  [['-q'], { quick: true }],
  [['-tttt'], { time: 'date' }],
  [['-t'], { time: 'none' }],
  [['-X'], { hex: true }],
  [['-A'], { ascii: true }],
  [['-v'], { verbose: true }],
];

function ourText(file: string, o: PacketTextOptions, plain = false): string[] {
  const r = readCaptureFile(file);
  assert.equal(r.error, undefined);
  const t = new PacketText({ ...o, utc: true, ifName: (i) => (i === 1 ? 'lo' : undefined) });
  const lines: string[] = [];
  for (const p of r.packets) {
    const q: Packet = plain ? { ...p, direction: 'unknown' } : p;
    lines.push(...t.format(q, r.interfaces[p.iface]).split('\n'));
  }
  return lines;
}

function run(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
}

async function startTcpdump(iface: string, file: string, filter: string): Promise<ChildProcess> {
  const p = spawn('tcpdump', ['-i', iface, '-U', '-n', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump -i ${iface} did not start`)), 10_000);
    p.stderr!.on('data', (b: Buffer) => {
      if (b.toString().includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    p.once('exit', (c) => reject(new Error(`tcpdump exited ${c}`)));
  });
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGINT');
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  if (p.exitCode === null) p.kill('SIGKILL');
}

describe('capture files and packet lines against tcpdump/tshark', { skip }, () => {
  const lo = path.join(dir, 'lo.pcap');
  const any = path.join(dir, 'any.pcap');
  let server: ChildProcess | undefined;

  before(async () => {
    const port = await freePort();
    const udpPort = await freePort('127.0.0.1', { udp: true });
    server = spawn(
      process.execPath,
      ['-e', `require('http').createServer((q,s)=>s.end('hello from the test\\n')).listen(${port},'127.0.0.1')`],
      { stdio: 'ignore' },
    );
    const filter = `tcp port ${port} or udp port ${udpPort} or (icmp and host 127.0.0.1) or (icmp6 and host ::1)`;
    const a = await startTcpdump('lo', lo, filter);
    const b = await startTcpdump('any', any, filter);
    for (let i = 0; i < 50; i++) {
      if (spawnSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]).status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/x?y=1`]);
    run('ping', ['-c', '2', '-i', '0.2', '-W', '1', '127.0.0.1']);
    run('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '1', '::1']);
    run(process.execPath, [
      '-e',
      `const s=require('dgram').createSocket('udp4');s.send('query',${udpPort},'127.0.0.1',()=>setTimeout(()=>s.close(),200))`,
    ]);
    await new Promise((r) => setTimeout(r, 500));
    await stop(a);
    await stop(b);
  });

  after(() => {
    server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, file] of [
    ['lo (Ethernet)', () => lo],
    ['any (SLL2)', () => any],
  ] as const) {
    for (const [flags, o] of FLAG_SETS) {
      it(`${name}: our lines equal tcpdump -n ${flags.join(' ')}`, () => {
        const want = tcpdumpText(file(), flags);
        const got = ourText(file(), o);
        assert.ok(want.length >= 12, `only ${want.length} lines captured`);
        assert.deepEqual(got, want);
      });
    }
  }

  it('reader: same packets as tcpdump -r for pcap, nsec pcap, big-endian pcap, tshark pcapng, editcap pcapng', () => {
    const ns = path.join(dir, 'ns.pcap');
    const ng = path.join(dir, 'tshark.pcapng');
    const ng2 = path.join(dir, 'editcap.pcapng');
    const be = path.join(dir, 'be.pcap');
    execFileSync('editcap', ['-F', 'nsecpcap', lo, ns]);
    execFileSync('tshark', ['-r', lo, '-w', ng, '-F', 'pcapng'], { stdio: 'ignore' });
    execFileSync('editcap', ['-F', 'pcapng', any, ng2]);
    fs.writeFileSync(be, swapPcap(fs.readFileSync(lo)));
    const base = readCaptureFile(lo);
    assert.equal(base.error, undefined);
    assert.equal(base.packets.length, tcpdumpText(lo, ['-q']).length);
    for (const f of [ns, ng, be]) {
      const r = readCaptureFile(f);
      assert.equal(r.error, undefined, f);
      assert.deepEqual(r.notes, []);
      assert.equal(r.packets.length, tcpdumpText(f, ['-q']).length, f);
      assert.equal(r.packets.length, base.packets.length, f);
      r.packets.forEach((p, i) => {
        const q = base.packets[i]!;
        assert.deepEqual(
          [p.sec, Math.floor(p.nsec / 1000), p.wireLen, p.linkType],
          [q.sec, q.nsec / 1000, q.wireLen, q.linkType],
        );
        assert.ok(Buffer.from(p.data).equals(Buffer.from(q.data)), `${f} packet ${i}`);
      });
      // The same lines from the variant as from the original.
      assert.deepEqual(ourText(f, {}), ourText(lo, {}));
    }
    const sll2 = readCaptureFile(ng2);
    assert.equal(sll2.error, undefined);
    assert.equal(sll2.packets.length, readCaptureFile(any).packets.length);
    assert.equal(sll2.interfaces[0]!.linkType, LINKTYPE.LINUX_SLL2);
  });

  it('writer: tshark shows the process comment, interface name and direction; tcpdump reads it; capinfos sees the ISB', () => {
    const f = path.join(dir, 'ours.pcapng');
    const r = readCaptureFile(lo);
    const chunks: Buffer[] = [];
    const w = new PcapngWriter((b) => chunks.push(b));
    const id = w.addInterface({ linkType: LINKTYPE.ETHERNET, name: 'lo', snaplen: 262144, filter: 'tcp or icmp' });
    r.packets.forEach((p, i) => {
      w.packet({
        ...p,
        iface: id,
        direction: i % 2 ? 'out' : 'in',
        proc: { pid: 1000 + i, comm: i % 3 ? 'curl' : 'ng\x1binx', uid: 33, tid: 2000 + i },
      });
    });
    w.stats(id, { captured: r.packets.length, received: r.packets.length + 4, dropped: 3 });
    w.flush();
    fs.writeFileSync(f, Buffer.concat(chunks));
    const fields = execFileSync(
      'tshark',
      [
        '-r',
        f,
        '-T',
        'fields',
        '-E',
        'separator=|',
        '-e',
        'frame.comment',
        '-e',
        'frame.interface_name',
        '-e',
        'frame.packet_flags_direction',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .toString()
      .trim()
      .split('\n');
    assert.equal(fields.length, r.packets.length);
    fields.forEach((l, i) => {
      const comm = i % 3 ? 'curl' : 'ng\\x1binx';
      assert.equal(l, `PID: ${1000 + i}\\nCmd: ${comm}\\nUID: 33\\nTID: ${2000 + i}|lo|0x0000000${i % 2 ? 2 : 1}`);
    });
    assert.deepEqual(tcpdumpText(f, []), tcpdumpText(lo, []));
    const info = execFileSync('capinfos', [f], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.match(info, /Number of stat entries = 1/);
    assert.match(info, /Filter string = tcp or icmp/);
    assert.match(info, /Capture application: wirelens/);
    const back = readCaptureFile(f);
    assert.deepEqual(back.stats.get(0), {
      received: r.packets.length + 4,
      dropped: 3,
      filterAccepted: r.packets.length,
    });
    assert.deepEqual(back.packets[1]!.proc, { pid: 1001, comm: 'curl', uid: 33, tid: 2001 });
    // Our lines for our file: tcpdump's, with the interface, direction and process.
    const line = new PacketText({ utc: true }).format(back.packets[1]!, back.interfaces[0]);
    assert.equal(line, `${tcpdumpText(lo, [])[1]!.replace(/^(\S+) /, '$1 lo    Out ')} [pid 1001 curl]`);
  });

  it('-w - streams pcapng that tshark -r - reads as it comes (flushed per batch)', () => {
    const script = [
      `const { CaptureFiles } = require(${JSON.stringify(path.join(__dirname, '../../src/output/capture-files.js'))});`,
      `const { readCaptureFile } = require(${JSON.stringify(path.join(__dirname, '../../src/sources/pcap/capture-reader.js'))});`,
      `const r = readCaptureFile(${JSON.stringify(lo)});`,
      "const out = new CaptureFiles({ path: '-' });",
      'if (out.open()) process.exit(2);',
      "out.addInterface({ linkType: 1, name: 'lo', snaplen: 262144 });",
      "r.packets.forEach((p, i) => { out.packet({ ...p, iface: 0, proc: { pid: 4242, comm: 'curl' } }); if (i % 3 === 2) out.flush(); });",
      'out.close([{ iface: 0, stats: { captured: r.packets.length, received: r.packets.length, dropped: 0 } }]);',
    ].join('\n');
    const res = spawnSync(
      'sh',
      ['-c', 'node -e "$WL_SCRIPT" | tshark -r - -T fields -e frame.comment -e frame.interface_name'],
      { env: { ...process.env, WL_SCRIPT: script }, timeout: 60_000 },
    );
    const lines = res.stdout.toString().trim().split('\n');
    assert.equal(lines.length, readCaptureFile(lo).packets.length, res.stderr.toString());
    for (const l of lines) assert.equal(l, 'PID: 4242\\nCmd: curl\tlo');
  });

  it('DNS over UDP (dig against dnsmasq, kept as a fixture): our lines equal tcpdump -n in every mode', () => {
    const f = path.join(FIXTURES, 'dns-dnsmasq.pcap');
    for (const [flags, o] of FLAG_SETS) {
      const want = tcpdumpText(f, flags);
      assert.equal(want.length >= 16, true);
      assert.deepEqual(ourText(f, o), want, flags.join(' '));
    }
  });

  it('-A and -X on payloads ending in CR, CR X, CR LF, CR CR, control and high bytes: as tcpdump', () => {
    const f = path.join(dir, 'cr.pcapng');
    const tails = [
      [0x41, 0x0d],
      [0x41, 0x0d, 0x42],
      [0x41, 0x0d, 0x0a],
      [0x0d, 0x0d],
      [0x0d, 0x0d, 0x0d],
      [0x0d, 0x41, 0x42],
      [0x41, 0x0d, 0x42, 0x43],
      [0x09, 0x1b, 0x5b, 0x32, 0x4a, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x41],
    ];
    const chunks: Buffer[] = [];
    const w = new PcapngWriter((b) => chunks.push(b));
    w.addInterface({ linkType: LINKTYPE.ETHERNET, name: 'x', snaplen: 0 });
    tails.forEach((t, i) => {
      const fr = ether(0x0800, ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, udp(1000, 2000, t)));
      w.packet({ sec: i, nsec: 0, iface: 0, linkType: 1, data: fr, wireLen: fr.length, direction: 'unknown' });
    });
    w.flush();
    fs.writeFileSync(f, Buffer.concat(chunks));
    assert.deepEqual(ourText(f, { ascii: true }), tcpdumpText(f, ['-A']));
    assert.deepEqual(ourText(f, { hex: true }), tcpdumpText(f, ['-X']));
  });

  // The corpus as Ethernet frames, and as raw IP (LINKTYPE_RAW, what the socket hook writes) with IP
  // headers cut short and a wrong version added: tcpdump -e says "ip: " there in place of IP/IP6.
  const CUT_IP: [string, Buffer][] = [
    ['raw: v4 header cut', Buffer.from([0x45, 0, 0])],
    ['raw: v6 header cut', Buffer.from([0x60, 0])],
    ['raw: ip version 1', Buffer.from([0x15, 0, 0, 0])],
  ];
  for (const [kind, linkType] of [
    ['Ethernet', LINKTYPE.ETHERNET],
    ['raw IP', LINKTYPE.RAW],
  ] as const) {
    it(`frame corpus (${kind}): lines equal tcpdump -n except the documented differences`, () => {
      const f = path.join(dir, `corpus-${linkType}.pcapng`);
      const chunks: Buffer[] = [];
      const w = new PcapngWriter((b) => chunks.push(b));
      w.addInterface({ linkType, name: 'eth0', snaplen: 0 });
      const frames =
        linkType === LINKTYPE.ETHERNET
          ? frameCorpus()
          : [
              ...frameCorpus()
                .filter((fr) => fr.ip)
                .map((fr) => ({ ...fr, bytes: fr.bytes.subarray(14) })),
              ...CUT_IP.map(([name, bytes]) => ({ name, bytes, ip: true })),
            ];
      frames.forEach((fr, i) =>
        w.packet({
          sec: 1764000000 + i,
          nsec: 0,
          iface: 0,
          linkType,
          data: fr.bytes,
          wireLen: fr.bytes.length,
          direction: 'unknown',
        }),
      );
      w.flush();
      fs.writeFileSync(f, Buffer.concat(chunks));
      // tcpdump decodes these by port or protocol beyond what we print (mDNS, NTP, DHCP, GRE, SCTP, IGMP, LLDP).
      const differs = /5353|udp 123|udp broadcast|time exceeded|gre|sctp|igmp|link-local udp|lldp|unknown type/;
      // -A dumps carry the packets' own newlines: covered on real traffic above.
      for (const [flags, o] of FLAG_SETS.filter(([fl]) => !fl.includes('-A'))) {
        const want = tcpdumpText(f, flags);
        const got = ourText(f, o);
        const byFrame = (lines: string[]) => {
          const out: string[][] = [];
          for (const l of lines) {
            if ((l.startsWith('\t') || l.startsWith('    ')) && out.length > 0) out.at(-1)!.push(l);
            else out.push([l]);
          }
          return out;
        };
        const W = byFrame(want);
        const G = byFrame(got);
        assert.equal(G.length, frames.length);
        frames.forEach((fr, i) => {
          if (differs.test(fr.name)) return;
          // -v lists IP options and IPv6 hop-by-hop options: we do not.
          if (flags.includes('-v') && /ip options|hop-by-hop/.test(fr.name)) return;
          assert.deepEqual(G[i], W[i], `${fr.name} ${flags.join(' ')}`);
        });
      }
    });
  }
});

/** A little-endian pcap rewritten big-endian (header and record headers swapped). */
function swapPcap(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const sw32 = (o: number) => out.writeUInt32BE(b.readUInt32LE(o), o);
  const sw16 = (o: number) => out.writeUInt16BE(b.readUInt16LE(o), o);
  sw32(0);
  sw16(4);
  sw16(6);
  for (const o of [8, 12, 16, 20]) sw32(o);
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = b.readUInt32LE(off + 8);
    for (const k of [0, 4, 8, 12]) sw32(off + k);
    off += 16 + cap;
  }
  return out;
}
