/** Runs a translated filter in the kernel (BPF_PROG_TEST_RUN) and libpcap's interpreter on the same frame. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, repoRoot } from '../../src/kernel/native';
import { decodeClassic } from '../../src/filter/cbpf';
import { Sll2Frame, translateClassic, verdictOutcomes } from '../../src/filter/cbpf-to-ebpf';
import { encodeEbpf } from '../../src/filter/ebpf';

export const DLT_EN10MB = 1;
export const DLT_RAW = 12;
export const DLT_LINUX_SLL2 = 276;

export interface LoadedFilter {
  classic: Buffer;
  fd: number;
  close(): void;
}

/**
 * Compiles with libpcap, translates, loads as `progType` ('sched_cls' or
 * 'cgroup_skb'); an SLL2 program for the frame `sll2` describes.
 */
export function loadFilter(expr: string, link: number, progType: string, sll2?: Sll2Frame): LoadedFilter {
  const n = native();
  const classic = n.pcapCompile(expr, link, 262144, true);
  const insns = translateClassic(decodeClassic(classic), verdictOutcomes(1, 0), sll2);
  const fd = n.progLoad(progType, encodeEbpf(insns), 'wl_filter_test');
  return { classic, fd, close: () => n.closeFd(fd) };
}

/** Kernel verdict for an Ethernet frame (cgroup_skb programs see it from the IP header). */
export function kernelVerdict(f: LoadedFilter, frame: Buffer): boolean {
  return native().progTestRun(f.fd, frame).retval !== 0;
}

export function pcapVerdict(classic: Buffer, packet: Buffer): boolean {
  return native().pcapFilter(classic, packet, packet.length) !== 0;
}

/** The expressions of test/fixtures/filter-expressions.txt ('(empty)' is the empty expression). */
export function expressionCorpus(): string[] {
  const text = fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'filter-expressions.txt'), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => (l === '(empty)' ? '' : l));
}
