/** The -w/-C/-W/-G file sink: names as tcpdump's, every file readable on its own, errors as values. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Packet } from '../../src/model/packet';
import { CaptureFiles, captureFilesProblem, type CaptureFilesOptions, strftime } from '../../src/output/capture-files';
import { readCaptureBytes } from '../../src/sources/pcap/capture-reader';
import { frameCorpus } from '../helpers/frames';

function memFiles(o: Omit<CaptureFilesOptions, 'open'>) {
  const files = new Map<string, Buffer[]>();
  const closed: string[] = [];
  const sink = new CaptureFiles({
    ...o,
    open: (p) => {
      const parts: Buffer[] = [];
      files.set(p, parts); // reopening a ring name truncates it
      return { write: (b) => void parts.push(b), close: () => void closed.push(p) };
    },
  });
  return { sink, files, closed, bytes: (p: string) => Buffer.concat(files.get(p) ?? []) };
}

const frame = frameCorpus().find((f) => f.name === 'v4 big payload')!.bytes;
const pkt = (sec: number, iface = 0): Packet => ({
  sec,
  nsec: 0,
  iface,
  linkType: 1,
  data: frame,
  wireLen: frame.length,
  direction: 'out',
  proc: { pid: 1, comm: 'x' },
});

describe('capture files', () => {
  it('-C without -W: FILE, FILE1, FILE2, ...; each file has the SHB and all interfaces seen so far', () => {
    const { sink, files, bytes } = memFiles({ path: 'cap.pcapng', sizeMB: 0.005 });
    assert.equal(sink.open(1000), undefined);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (let i = 0; i < 10; i++) assert.equal(sink.packet(pkt(1000 + i)), undefined);
    sink.addInterface({ linkType: 101, name: 'sockets', snaplen: 0 });
    for (let i = 0; i < 10; i++) assert.equal(sink.packet(pkt(1010 + i, i % 2)), undefined);
    assert.equal(sink.close([{ iface: 0, stats: { captured: 20, received: 20, dropped: 0 } }]), undefined);
    const names = [...files.keys()];
    assert.deepEqual(names.slice(0, 3), ['cap.pcapng', 'cap.pcapng1', 'cap.pcapng2']);
    let total = 0;
    for (const n of names) {
      const r = readCaptureBytes(bytes(n));
      assert.equal(r.error, undefined, n);
      assert.deepEqual(r.notes, []);
      assert.ok(r.packets.length >= 1 && r.packets.length <= 4, `${n}: ${r.packets.length}`);
      // A file passes 5000 bytes by at most one packet.
      assert.ok(bytes(n).length <= 5000 + frame.length + 200, `${n}: ${bytes(n).length}`);
      total += r.packets.length;
      const last = r.packets.at(-1)!;
      assert.equal(r.interfaces.length, last.sec >= 1010 ? 2 : 1, n);
    }
    assert.equal(total, 20);
    assert.ok(readCaptureBytes(bytes(names.at(-1)!)).stats.get(0));
  });

  it('-C with -W 3: a ring FILE0, FILE1, FILE2, FILE0, ...', () => {
    const { sink, files, bytes } = memFiles({ path: 'r', sizeMB: 0.002, files: 3 });
    sink.open(1);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (let i = 0; i < 12; i++) sink.packet(pkt(i));
    sink.close();
    assert.deepEqual(sink.opened.slice(0, 5), ['r0', 'r1', 'r2', 'r0', 'r1']);
    assert.deepEqual([...files.keys()].sort(), ['r0', 'r1', 'r2']);
    for (const n of files.keys()) assert.equal(readCaptureBytes(bytes(n)).error, undefined);
    const w11 = memFiles({ path: 'r', sizeMB: 0.002, files: 11 });
    w11.sink.open(1);
    w11.sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (let i = 0; i < 4; i++) w11.sink.packet(pkt(i));
    assert.deepEqual(w11.sink.opened.slice(0, 2), ['r00', 'r01']);
  });

  it('-G: strftime names by packet time; -W N ends after N files; -G with -C counts within a slot', () => {
    const { sink } = memFiles({ path: 'g-%Y%m%d-%H%M%S.pcapng', rotateSeconds: 60, files: 2, utc: true });
    assert.equal(sink.open(1764000000), undefined);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    sink.packet(pkt(1764000001));
    sink.packet(pkt(1764000061));
    assert.equal(sink.done, false);
    sink.packet(pkt(1764000125));
    assert.equal(sink.done, true);
    assert.deepEqual(sink.opened, ['g-20251124-160000.pcapng', 'g-20251124-160101.pcapng']);
    const both = memFiles({ path: 'h-%s', rotateSeconds: 100, sizeMB: 0.002, utc: true });
    both.sink.open(0);
    both.sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (let i = 0; i < 4; i++) both.sink.packet(pkt(i));
    both.sink.packet(pkt(150));
    assert.deepEqual(both.sink.opened, ['h-0', 'h-21', 'h-150']);
  });

  it('-G -W: no file is empty (the first slot starts at its first packet); the packet past file W is not written', () => {
    const { sink, files, bytes } = memFiles({ path: 'g-%s', rotateSeconds: 1, files: 3, utc: true });
    assert.equal(sink.open(1000), undefined);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    let written = 0;
    // The first packet comes 5 s after the start: the first file (named at the start) takes it.
    for (const t of [1005, 1005, 1006, 1007, 1007, 1008, 1009]) {
      assert.equal(sink.packet(pkt(t)), undefined);
      if (!sink.done) written++;
    }
    assert.equal(sink.done, true);
    assert.equal(written, 5);
    assert.equal(sink.close([{ iface: 0, stats: { captured: written, received: 7, dropped: 0 } }]), undefined);
    assert.deepEqual([...files.keys()], ['g-1000', 'g-1006', 'g-1007']);
    const counts = [...files.keys()].map((n) => readCaptureBytes(bytes(n)).packets.length);
    assert.deepEqual(counts, [2, 1, 2]);
    // The statistics block goes to the last file, which stays open for it.
    assert.deepEqual(readCaptureBytes(bytes('g-1007')).stats.get(0), { received: 7, dropped: 0, filterAccepted: 5 });
  });

  it('-C: a file takes a packet before it rotates, even when its headers alone pass the size', () => {
    const { sink, files, bytes } = memFiles({ path: 'tiny', sizeMB: 0.00001, files: 4 });
    sink.open(1);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (let i = 0; i < 3; i++) assert.equal(sink.packet(pkt(i)), undefined);
    sink.close();
    assert.deepEqual([...files.keys()], ['tiny0', 'tiny1', 'tiny2']);
    for (const n of files.keys()) assert.equal(readCaptureBytes(bytes(n)).packets.length, 1, n);
  });

  it('strftime', () => {
    assert.equal(
      strftime('%Y-%m-%d %H:%M:%S %s %j %% %q', 1764000000, true),
      '2025-11-24 16:00:00 1764000000 328 % %q',
    );
    assert.equal(strftime('%j', Date.UTC(2024, 0, 1) / 1000, true), '001');
  });

  it('refuses what tcpdump refuses, and reports open failures in one line', () => {
    assert.match(captureFilesProblem({ path: '-', sizeMB: 1 })!, /need a file name/);
    assert.match(captureFilesProblem({ path: 'x', files: 3 })!, /^-W needs -C or -G$/);
    assert.match(captureFilesProblem({ path: 'x', sizeMB: 0 })!, /^-C needs a size/);
    assert.match(captureFilesProblem({ path: 'x', rotateSeconds: 0.5 })!, /^-G needs/);
    assert.equal(captureFilesProblem({ path: '-' }), undefined);
    const e = new CaptureFiles({ path: '/nonexistent-dir/x.pcapng' }).open();
    assert.equal(e, 'cannot open /nonexistent-dir/x.pcapng for writing: ENOENT');
  });

  it('real files on disk read back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-cf-'));
    try {
      const sink = new CaptureFiles({ path: path.join(dir, 'c'), sizeMB: 0.003, files: 2 });
      assert.equal(sink.open(), undefined);
      sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
      for (let i = 0; i < 6; i++) assert.equal(sink.packet(pkt(i)), undefined);
      assert.equal(sink.close(), undefined);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c0', 'c1']);
      for (const f of ['c0', 'c1']) {
        const r = readCaptureBytes(fs.readFileSync(path.join(dir, f)));
        assert.equal(r.error, undefined);
        assert.ok(r.packets.length > 0);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
