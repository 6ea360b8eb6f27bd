/**
 * The kernel runs what libpcap means: every expression of the corpus
 * (test/fixtures/filter-expressions.txt) is compiled by libpcap, translated
 * to eBPF (src/filter/cbpf-to-ebpf.ts), loaded as a TC and as a cgroup_skb
 * program and run on every generated frame with BPF_PROG_TEST_RUN; its
 * verdict must equal libpcap's own interpreter (bpf_filter, what
 * pcap_offline_filter runs) on the same bytes, for Ethernet (TC) and raw
 * IP (socket packets: the frame from its IP header).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { frameCorpus } from '../helpers/frames';
import { DLT_EN10MB, DLT_RAW, expressionCorpus, loadFilter, kernelVerdict, pcapVerdict } from '../helpers/filter-run';
import { kernelSkipReason } from '../helpers/skip';
import { TranslateError } from '../../src/filter/cbpf-to-ebpf';

const skip = kernelSkipReason();

const HOOKS = [
  { name: 'TC (Ethernet)', link: DLT_EN10MB, progType: 'sched_cls', ipOnly: false },
  { name: 'cgroup_skb (raw IP)', link: DLT_RAW, progType: 'cgroup_skb', ipOnly: true },
] as const;

describe('filter equivalence: translated eBPF in the kernel vs libpcap', { skip }, () => {
  const exprs = expressionCorpus();
  const frames = frameCorpus();
  for (const hook of HOOKS) {
    it(`${hook.name}: every expression, every frame`, () => {
      const mismatches: string[] = [];
      let compiled = 0;
      let pairs = 0;
      let matched = 0;
      const loops: string[] = [];
      for (const expr of exprs) {
        let f;
        try {
          f = loadFilter(expr, hook.link, hook.progType);
        } catch (e) {
          if (e instanceof TranslateError) {
            loops.push(expr);
            continue;
          }
          if ((e as { code?: string }).code === 'WL_ERR_FILTER') continue; // libpcap refuses it for this link type
          throw new Error(`${expr}: ${(e as Error).message}\n${(e as { libbpfLog?: string }).libbpfLog ?? ''}`);
        }
        compiled++;
        try {
          for (const fr of frames) {
            if (hook.ipOnly && !fr.ip) continue;
            const pkt = hook.ipOnly ? fr.bytes.subarray(14) : fr.bytes;
            const want = pcapVerdict(f.classic, Buffer.from(pkt));
            const got = kernelVerdict(f, fr.bytes);
            pairs++;
            if (want) matched++;
            if (got !== want) mismatches.push(`'${expr}' on ${fr.name}: kernel ${got}, libpcap ${want}`);
          }
        } finally {
          f.close();
        }
      }
      assert.deepEqual(mismatches, []);
      assert.ok(compiled >= (hook.ipOnly ? 100 : 130), `only ${compiled} expressions compiled`);
      assert.ok(
        matched > pairs / 20 && matched < pairs / 2,
        `${matched} of ${pairs} pairs matched: corpus too one-sided`,
      );
      assert.deepEqual(loops, ['ip6 protochain 6', 'protochain 17']);
    });
  }
});
