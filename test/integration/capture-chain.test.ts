/**
 * The capture chain in the kernel, run with BPF_PROG_TEST_RUN on generated
 * frames: entry program -> compiled filter (tail call) -> emit program
 * (tail call) -> ring record. For every expression of the corpus, on both
 * hook types: every run returns the pass verdict (capture never changes a
 * packet's fate: matched, rejected, or with the ring full), and a record is
 * written exactly when libpcap's own interpreter accepts the frame, holding
 * the frame's bytes (from the IP header on the socket hook).
 *
 * A mixed capture (LINUX_SLL2): the entry program picks the filter slot of
 * the interface's header kind (wl_cap_ifs), and each record, once user
 * space has rewritten it, is the SLL2 packet libpcap accepted, cut at the
 * snap length.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { frameCorpus, sll2Of } from '../helpers/frames';
import { DLT_EN10MB, DLT_LINUX_SLL2, DLT_RAW, expressionCorpus, pcapVerdict } from '../helpers/filter-run';
import { kernelSkipReason } from '../helpers/skip';
import { BpfObject } from '../../src/kernel/object';
import { native } from '../../src/kernel/native';
import { KernelPackets } from '../../src/sources/kernel/capture-packets';
import { SOCK_PASS, TC_PASS, directions, fillIfaceConfig, fillProgArray, headerKinds } from '../../src/probes/capture';
import { u32le, u64le } from '../../src/kernel/encode';
import { CaptureInterface, LINKTYPE, Packet } from '../../src/model/packet';
import { PcapngWriter } from '../../src/output/pcapng-writer';
import { netnsInode } from '../../src/kernel/netns';
import { TranslateError, translateClassic, verdictOutcomes } from '../../src/filter/cbpf-to-ebpf';
import { decodeClassic } from '../../src/filter/cbpf';
import { EV, STAT, WL_CAP_EPB, WL_HDR } from '../../src/events/layout';

const skip = kernelSkipReason();

function kernelRuns(classic: Buffer): boolean {
  try {
    translateClassic(decodeClassic(classic), verdictOutcomes());
    return true;
  } catch (e) {
    if (e instanceof TranslateError) return false;
    throw e;
  }
}

const HOOKS = [
  { name: 'TC (Ethernet)', tc: true, dlt: DLT_EN10MB, pass: TC_PASS },
  { name: 'socket hook (raw IP)', tc: false, dlt: DLT_RAW, pass: SOCK_PASS },
] as const;

describe('capture chain in the kernel: entry -> filter -> emit', { skip }, () => {
  for (const hook of HOOKS) {
    it(`${hook.name}: pass verdict on every path, a record exactly for libpcap's matches`, () => {
      const obj = BpfObject.open('capture');
      const records: { data: Buffer; len: number }[] = [];
      try {
        const dirs = directions(hook.tc, { in: true, out: true });
        const keep = new Set(dirs.flatMap((d) => [d.entry, d.emit]));
        for (const p of obj.programs()) obj.setAutoload(p, keep.has(p));
        obj.setMaxEntries('wl_events', 1 << 20);
        obj.load();
        const packets = new KernelPackets({ linkType: 1, snaplen: 262144, expression: '', wallMinusMonoNs: 0n });
        const ring = obj.ringBuffer('wl_events', (v, off, len) => {
          const p = packets.decode(v, off, len);
          assert.ok(p, 'a record that decodes');
          records.push({ data: Buffer.from(p.data), len: p.wireLen });
        });
        const frames = frameCorpus().filter((f) => hook.tc || f.ip);
        const problems: string[] = [];
        let runs = 0;
        for (const expr of expressionCorpus()) {
          let classic: Buffer;
          try {
            classic = native().pcapCompile(expr, hook.dlt, 262144, true);
          } catch {
            continue; // libpcap refuses it for this link type (the equivalence test covers which)
          }
          const inKernel = kernelRuns(classic);
          for (const d of dirs) fillProgArray(obj, d, hook.tc, inKernel ? classic : null);
          for (const d of dirs) {
            const entry = obj.progFd(d.entry);
            for (const f of frames) {
              records.length = 0;
              const { retval } = native().progTestRun(entry, f.bytes);
              ring.drain();
              runs++;
              const pkt = hook.tc ? f.bytes : f.bytes.subarray(14);
              const want = !inKernel || pcapVerdict(classic, Buffer.from(pkt));
              if (retval !== hook.pass) problems.push(`'${expr}' ${d.entry} on ${f.name}: returned ${retval}`);
              if (records.length !== (want ? 1 : 0)) {
                problems.push(`'${expr}' ${d.entry} on ${f.name}: ${records.length} records, libpcap ${want}`);
              } else if (want && !records[0]!.data.equals(pkt)) {
                problems.push(`'${expr}' ${d.entry} on ${f.name}: record bytes differ from the packet`);
              }
            }
          }
        }
        assert.deepEqual(problems.slice(0, 20), []);
        assert.ok(runs > 5000, `${runs} runs`);

        // Ring full: nothing drained, records are lost (counted) and the verdict stays pass.
        for (const d of dirs) fillProgArray(obj, d, hook.tc, null);
        const big = frames.find((f) => f.bytes.length > 1000)!;
        const stats = obj.map('wl_stats');
        const lost0 = stats.sumPerCpuU64(STAT.RB_LOST);
        for (let i = 0; i < 1200; i++) {
          const { retval } = native().progTestRun(obj.progFd(dirs[0]!.entry), big.bytes);
          assert.equal(retval, hook.pass, 'pass verdict with the ring full');
        }
        assert.ok(stats.sumPerCpuU64(STAT.RB_LOST) > lost0, 'records lost to a full ring are counted');
      } finally {
        obj.close();
      }
    });
  }
});

/** The EPB the writer makes for a packet, time stamp zeroed (its bytes 12..19). */
function writerEpb(p: Packet, iface: CaptureInterface): Buffer {
  const out: Buffer[] = [];
  const w = new PcapngWriter((b) => out.push(Buffer.from(b)));
  w.addInterface(iface);
  w.flush();
  out.length = 0;
  w.packet(p);
  w.flush();
  const b = Buffer.concat(out);
  b.fill(0, 12, 20);
  return b;
}

describe('capture chain, blocks made in the kernel (capture -w FILE)', { skip }, () => {
  for (const hook of HOOKS) {
    it(`${hook.name}: pass verdict on every path; for libpcap's matches a pcapng block equal to the writer's, in wall time`, () => {
      const SNAP = 200;
      const WALL_OFF = 1_700_000_000_123_456_789n;
      const obj = BpfObject.open('capture');
      const blocks: Buffer[] = [];
      const records: Buffer[] = [];
      try {
        const dirs = directions(hook.tc, { in: true, out: true });
        const keep = new Set(dirs.flatMap((d) => [d.entry, d.emit]));
        for (const p of obj.programs()) obj.setAutoload(p, keep.has(p));
        obj.setMaxEntries('wl_events', 1 << 20);
        obj.setGlobal('wl_cap_snaplen', u32le(SNAP));
        obj.setGlobal('wl_cap_epb', u32le(1));
        obj.setGlobal('wl_cap_wall_off', u64le(WALL_OFF));
        obj.load();
        // BPF_PROG_TEST_RUN runs on the namespace's loopback device (ifindex 1): its interface id is 3.
        if (hook.tc) obj.map('wl_cap_idb').update(u32le(1), u32le(3));
        const E = WL_CAP_EPB.fields;
        const ring = obj.ringBuffer('wl_events', (v, off, len) => {
          const rec = Buffer.from(v.buffer, v.byteOffset + off, len);
          if (rec.readUInt16LE(E.hdr + WL_HDR.fields.type) !== EV.CAPTURE_EPB) {
            records.push(Buffer.from(rec));
            return;
          }
          const n = rec.readUInt32LE(E.epb_len);
          const b = Buffer.from(rec.subarray(E.block_type, E.block_type + n));
          // The time stamp: the record's monotonic one plus the offset, exactly.
          const mono = rec.readBigUInt64LE(E.hdr + WL_HDR.fields.ts_ns);
          const ts = (BigInt(b.readUInt32LE(12)) << 32n) | BigInt(b.readUInt32LE(16));
          assert.equal(ts, mono + WALL_OFF, 'wall time = monotonic + offset');
          b.fill(0, 12, 20);
          blocks.push(b);
        });
        const iface: CaptureInterface = {
          name: 'x',
          linkType: hook.tc ? LINKTYPE.ETHERNET : LINKTYPE.RAW,
          snaplen: SNAP,
        };
        const frames = frameCorpus().filter((f) => hook.tc || f.ip);
        const problems: string[] = [];
        let runs = 0;
        let matched = 0;
        for (const expr of ['', ...expressionCorpus().filter((_, i) => i % 4 === 0)]) {
          let classic: Buffer | null = null;
          if (expr !== '') {
            try {
              classic = native().pcapCompile(expr, hook.dlt, SNAP, true);
            } catch {
              continue;
            }
            if (!kernelRuns(classic)) continue;
          }
          for (const d of dirs) fillProgArray(obj, d, hook.tc, classic);
          for (const d of dirs) {
            const entry = obj.progFd(d.entry);
            for (const f of frames) {
              blocks.length = 0;
              records.length = 0;
              const { retval } = native().progTestRun(entry, f.bytes);
              ring.drain();
              runs++;
              const pkt = hook.tc ? f.bytes : f.bytes.subarray(14);
              const want = classic === null || pcapVerdict(classic, Buffer.from(pkt));
              const at = `'${expr}' ${d.entry} on ${f.name}`;
              if (retval !== hook.pass) problems.push(`${at}: returned ${retval}`);
              if (records.length) problems.push(`${at}: ${records.length} records not made blocks`);
              if (blocks.length !== (want ? 1 : 0)) {
                problems.push(`${at}: ${blocks.length} blocks, libpcap ${want}`);
                continue;
              }
              if (!want) continue;
              matched++;
              const cap = pkt.subarray(0, SNAP);
              const p: Packet = {
                sec: 0,
                nsec: 0,
                iface: hook.tc ? 3 : 0,
                linkType: iface.linkType,
                wireLen: pkt.length,
                data: cap,
                direction: d.ingress ? 'in' : 'out',
                // The socket hook: the test run's socket is in this namespace, not the capture's (none set).
                ...(hook.tc ? {} : { netns: netnsInode() }),
              };
              const expect = writerEpb(p, iface);
              expect.writeUInt32LE(hook.tc ? 3 : 0, 8);
              if (!blocks[0]!.equals(expect)) problems.push(`${at}: block ${blocks[0]!.toString('hex')}`);
            }
          }
        }
        assert.deepEqual(problems.slice(0, 20), []);
        assert.ok(runs > 1000 && matched > 500, `${runs} runs, ${matched} blocks`);
      } finally {
        obj.close();
      }
    });
  }
});

describe('capture chain, mixed headers (SLL2): entry -> slot of the interface -> filter -> emit', { skip }, () => {
  it("pass verdict on every path; a record exactly for libpcap's SLL2 matches, rewritten to the SLL2 packet and cut at the snap length", () => {
    const SNAP = 100;
    const obj = BpfObject.open('capture');
    try {
      const dirs = directions(true, { in: true, out: true });
      const keep = new Set(dirs.flatMap((d) => [d.entry, d.emit]));
      for (const p of obj.programs()) obj.setAutoload(p, keep.has(p));
      obj.setMaxEntries('wl_events', 1 << 20);
      obj.setGlobal('wl_cap_mixed', u32le(1));
      obj.setGlobal('wl_cap_snaplen', u32le(SNAP));
      obj.load();
      // BPF_PROG_TEST_RUN runs on the namespace's loopback device (ifindex 1): here an Ethernet interface,
      // second of two header kinds, so its filter is in slot 2 (slot 0 stays empty: a wrong slot records nothing).
      const kinds = headerKinds([
        { name: 'tun9', ifindex: 999_999, l2Len: 0, haType: 65534 },
        { name: 'eth9', ifindex: 1, l2Len: 14, haType: 1 },
      ]);
      assert.deepEqual(
        kinds.map((k) => k.slot),
        [0, 2],
      );
      fillIfaceConfig(obj, kinds, SNAP);
      const eth = kinds.filter((k) => k.l2Len === 14);
      const packets = new KernelPackets({
        linkType: LINKTYPE.LINUX_SLL2,
        snaplen: SNAP,
        expression: '',
        wallMinusMonoNs: 0n,
        ifaceNames: new Map([[1, 'eth9']]),
        sll2: new Map([[1, { l2Len: 14, haType: 1 }]]),
      });
      const records: { data: Buffer; len: number }[] = [];
      const ring = obj.ringBuffer('wl_events', (v, off, len) => {
        const p = packets.decode(v, off, len);
        assert.ok(p, 'a record that decodes');
        records.push({ data: Buffer.from(p.data), len: p.wireLen });
      });
      const problems: string[] = [];
      let runs = 0;
      let cut = 0;
      for (const expr of expressionCorpus()) {
        let classic: Buffer;
        try {
          classic = native().pcapCompile(expr, DLT_LINUX_SLL2, SNAP, true);
        } catch {
          continue; // libpcap refuses it for SLL2 (vlan, ether host): so does tcpdump -i any
        }
        const inKernel = kernelRuns(classic);
        for (const d of dirs) fillProgArray(obj, d, true, inKernel ? classic : null, eth);
        for (const d of dirs) {
          const entry = obj.progFd(d.entry);
          for (const f of frameCorpus()) {
            records.length = 0;
            const { retval } = native().progTestRun(entry, f.bytes);
            ring.drain();
            runs++;
            const sll2 = sll2Of(f.bytes, { l2Len: 14, haType: 1, egress: !d.ingress });
            const want = !inKernel || pcapVerdict(classic, sll2);
            if (retval !== TC_PASS) problems.push(`'${expr}' ${d.entry} on ${f.name}: returned ${retval}`);
            if (records.length !== (want ? 1 : 0)) {
              problems.push(`'${expr}' ${d.entry} on ${f.name}: ${records.length} records, libpcap ${want}`);
            } else if (want) {
              const r = records[0]!;
              if (!r.data.equals(sll2.subarray(0, SNAP)) || r.len !== sll2.length) {
                problems.push(`'${expr}' ${d.entry} on ${f.name}: record ${r.data.toString('hex')} (${r.len})`);
              }
              if (sll2.length > SNAP) cut++;
            }
          }
        }
      }
      assert.deepEqual(problems.slice(0, 20), []);
      assert.ok(runs > 5000, `${runs} runs`);
      assert.ok(cut > 100, `${cut} records cut at the snap length`);
    } finally {
      obj.close();
    }
  });
});

describe('ring buffer read in place', { skip }, () => {
  it('delivers every record intact and in order across many wraps of a small ring, and a kept view reads as detached after close', () => {
    const obj = BpfObject.open('capture');
    const [d] = directions(true, { in: true, out: false });
    for (const p of obj.programs()) obj.setAutoload(p, p === d!.entry || p === d!.emit);
    obj.setMaxEntries('wl_events', 16384); // four pages: records of ~100 to ~1500 bytes wrap it every few
    let kept: DataView | undefined;
    try {
      obj.load();
      fillProgArray(obj, d!, true, null);
      const packets = new KernelPackets({ linkType: 1, snaplen: 262144, expression: '', wallMinusMonoNs: 0n });
      const got: Buffer[] = [];
      const ring = obj.ringBuffer('wl_events', (v, off, len) => {
        kept = v;
        const p = packets.decode(v, off, len);
        assert.ok(p, 'a record that decodes');
        got.push(Buffer.from(p.data));
      });
      const frames = frameCorpus();
      const sent: Buffer[] = [];
      for (let i = 0; i < 600; i++) {
        const f = frames[(i * 7) % frames.length]!.bytes;
        native().progTestRun(obj.progFd(d!.entry), f);
        sent.push(Buffer.from(f));
        if (i % 5 === 4) ring.drain(); // at most ~7.5 KB waits: the ring never fills
      }
      ring.drain();
      assert.equal(got.length, sent.length);
      for (let i = 0; i < sent.length; i++) assert.ok(got[i]!.equals(sent[i]!), `record ${i} intact`);
      ring.close();
      assert.ok(kept);
      assert.throws(() => kept!.getUint8(0), TypeError, 'a view kept past close is detached, not a dangling mapping');
    } finally {
      obj.close();
    }
  });
});
