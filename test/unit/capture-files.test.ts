/** The -w/-C/-W/-G file sink: names as tcpdump's, every file readable on its own, errors as values. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Packet } from '../../src/model/packet';
import { CaptureFiles, captureFilesProblem, type CaptureFilesOptions, strftime } from '../../src/output/capture-files';
import { readCaptureBytes } from '../../src/sources/pcap/capture-reader';
import { PcapngWriter } from '../../src/output/pcapng-writer';
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

describe('capture files: blocks made elsewhere (capture -w FILE, the kernel-made EPBs)', () => {
  /** Files with descriptors; the RangeWriter copies ranges of `memory` to the file the fd names. */
  function fdFiles(o: Omit<CaptureFilesOptions, 'open'>, memory: Buffer, fail?: () => number | undefined) {
    const files = new Map<string, Buffer[]>();
    const byFd = new Map<number, Buffer[]>();
    let next = 10;
    const sink = new CaptureFiles({
      ...o,
      open: (p) => {
        const parts: Buffer[] = [];
        files.set(p, parts);
        const fd = next++;
        byFd.set(fd, parts);
        return { fd, synchronous: true, write: (b) => void parts.push(Buffer.from(b)), close: () => undefined };
      },
    });
    const writer = (fd: number, ranges: Uint32Array, count: number): number => {
      const bad = fail?.();
      if (bad !== undefined) return bad;
      let n = 0;
      for (let i = 0; i < count; i++) {
        const b = memory.subarray(ranges[2 * i]!, ranges[2 * i]! + ranges[2 * i + 1]!);
        byFd.get(fd)!.push(Buffer.from(b));
        n += b.length;
      }
      return n;
    };
    return { sink, files, writer, bytes: (p: string) => Buffer.concat(files.get(p) ?? []) };
  }

  /** EPBs as a writer makes them, laid end to end in one memory: [offset, length, second] each. */
  function madeBlocks(n: number, firstSec: number): { memory: Buffer; blocks: [number, number, number][] } {
    const parts: Buffer[] = [];
    const w = new PcapngWriter((b) => parts.push(Buffer.from(b)));
    w.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    w.flush();
    parts.length = 0;
    const blocks: [number, number, number][] = [];
    let off = 0;
    for (let i = 0; i < n; i++) {
      w.packet({ ...pkt(firstSec + i), proc: { pid: 100 + i, comm: 'k', uid: 0 } });
      w.flush();
      const b = parts.at(-1)!;
      blocks.push([off, b.length, firstSec + i]);
      off += b.length;
    }
    return { memory: Buffer.concat(parts), blocks };
  }

  it('blocks and packets written by the sink keep their order; every file reads on its own; -C rotates between blocks', () => {
    const { memory, blocks } = madeBlocks(12, 1000);
    const { sink, files, writer, bytes } = fdFiles({ path: 'k', sizeMB: 0.006 }, memory);
    assert.equal(sink.open(1000), undefined);
    assert.equal(sink.acceptRanges(writer), true);
    sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    const order: number[] = [];
    blocks.forEach(([off, len, sec], i) => {
      assert.equal(sink.block(off, len, sec), undefined);
      order.push(100 + i);
      if (i % 3 === 2) {
        assert.equal(sink.packet({ ...pkt(sec), proc: { pid: 900 + i, comm: 'j', uid: 0 } }), undefined);
        order.push(900 + i);
      }
      if (i % 5 === 4) assert.equal(sink.flushRanges(), undefined); // a batch's end
    });
    assert.equal(sink.close([{ iface: 0, stats: { captured: 16, received: 16, dropped: 0 } }]), undefined);
    const names = [...files.keys()];
    assert.ok(names.length >= 3, `${names.length} files`);
    const pids: number[] = [];
    for (const n of names) {
      const r = readCaptureBytes(bytes(n));
      assert.equal(r.error, undefined, n);
      assert.deepEqual(r.notes, [], n);
      assert.ok(r.packets.length >= 1, n);
      assert.ok(bytes(n).length <= 6000 + frame.length + 200, `${n}: ${bytes(n).length} bytes`);
      pids.push(...r.packets.map((p) => p.proc!.pid));
    }
    assert.deepEqual(pids, order);
  });

  it('-G: blocks rotate by their second; a failed write is one line naming the file and the error', () => {
    const { memory, blocks } = madeBlocks(6, 2000);
    const g = fdFiles({ path: 'g-%s', rotateSeconds: 2 }, memory);
    g.sink.open(2000);
    g.sink.acceptRanges(g.writer);
    g.sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    for (const [off, len, sec] of blocks) assert.equal(g.sink.block(off, len, sec), undefined);
    g.sink.close();
    assert.deepEqual(g.sink.opened, ['g-2000', 'g-2002', 'g-2004']);
    for (const n of g.sink.opened) assert.equal(readCaptureBytes(g.bytes(n)).packets.length, 2, n);

    const full = fdFiles({ path: 'full' }, memory, () => -28);
    full.sink.open(1);
    full.sink.acceptRanges(full.writer);
    full.sink.addInterface({ linkType: 1, name: 'eth0', snaplen: 0 });
    const [off, len, sec] = blocks[0]!;
    assert.equal(full.sink.block(off, len, sec), undefined); // gathered, written at the batch's end
    assert.equal(full.sink.flushRanges(), 'cannot write full: ENOSPC');
  });

  it('a target without a descriptor (stdout) takes no blocks', () => {
    const { sink } = memFiles({ path: '-' });
    sink.open(1);
    assert.equal(
      sink.acceptRanges(() => 0),
      false,
    );
  });
});
