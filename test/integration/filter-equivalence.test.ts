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
import { frameCorpus, sll2Of } from '../helpers/frames';
import {
  DLT_EN10MB,
  DLT_LINUX_SLL2,
  DLT_RAW,
  expressionCorpus,
  loadFilter,
  kernelVerdict,
  pcapVerdict,
} from '../helpers/filter-run';
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

/** Expressions whose meaning depends on the SLL2 header itself (beside the corpus). */
const SLL2_EXPRESSIONS = [
  'inbound',
  'outbound',
  'inbound and tcp',
  'outbound or udp port 53',
  'link[12:4] = 0x02000000 and link[16:2] = 0x00aa',
  'not link[16:2] = 0x00aa and ip',
  'ether[10] = 3',
  'ether[10] = 4',
  'link[0:2] = 0x86dd',
  'link[4:4] = 1',
  'link[8:2] = 1',
  'link[8:2] = 0xfffe',
  'link[11] = 6',
  'link[12:4] = 0x02000000',
  'link[16:4] = 0',
  'ether[18:4] = 0x4500',
  'ether[19:2] = 0x0045',
  'link[(ip[0] & 0xf) + 5] = 3',
  'link[(ip[0] & 0xf) + 14 : 2] = 0x0045',
  'link[(ip[0] & 0xf) + 15 : 4] = 0x45000000',
  'link[(tcp[13] & 0x02) * 5 : 1] = 0',
  'link[(ip[0] & 0xf) + 13] = 0',
  'link[(ip[0] & 0xf) + 13 : 4] = 0x00004500',
  'less 60',
  'greater 100',
  'len = 84',
  'len >= 20 and len <= 60',
];

const KINDS = [
  { name: 'Ethernet frame (TC)', sll2: { l2Len: 14, haType: 1 }, progType: 'sched_cls', ipOnly: false },
  { name: 'raw IP (tun)', sll2: { l2Len: 0, haType: 65534 }, progType: 'cgroup_skb', ipOnly: true },
] as const;

describe(
  'filter equivalence, mixed captures: SLL2 programs on the frames the kernel sees vs libpcap on SLL2',
  { skip },
  () => {
    const exprs = [...expressionCorpus(), ...SLL2_EXPRESSIONS];
    const frames = frameCorpus();
    for (const kind of KINDS) {
      for (const egress of [false, true]) {
        it(`${kind.name}, ${egress ? 'leaving' : 'arriving'}: every expression, every frame`, () => {
          const mismatches: string[] = [];
          const refused: string[] = [];
          let compiled = 0;
          let pairs = 0;
          let matched = 0;
          for (const expr of exprs) {
            let f;
            try {
              f = loadFilter(expr, DLT_LINUX_SLL2, kind.progType, { ...kind.sll2, egress });
            } catch (e) {
              if (e instanceof TranslateError) continue; // protochain: user space, as on the other link types
              if ((e as { code?: string }).code === 'WL_ERR_FILTER') {
                refused.push(expr);
                continue;
              }
              throw new Error(`${expr}: ${(e as Error).message}\n${(e as { libbpfLog?: string }).libbpfLog ?? ''}`);
            }
            compiled++;
            try {
              for (const fr of frames) {
                if (kind.ipOnly && !fr.ip) continue;
                const sll2 = sll2Of(fr.bytes, { ...kind.sll2, egress });
                const want = pcapVerdict(f.classic, sll2);
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
          assert.ok(compiled >= 130, `only ${compiled} expressions compiled for SLL2; refused: ${refused.join(', ')}`);
          assert.ok(
            matched > pairs / 20 && matched < pairs / 2,
            `${matched} of ${pairs} pairs matched: corpus too one-sided`,
          );
          // The header's own fields compile, so they are tested: a libpcap that refused them would hide a gap.
          for (const e of SLL2_EXPRESSIONS) assert.ok(!refused.includes(e), `libpcap refused '${e}' for SLL2`);
        });
      }
    }
  },
);
