/** Clean skips with a reason: kernel tests need root and a built tree. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './paths';

export function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!fs.existsSync(path.join(ROOT, 'build', 'bpf', 'tcp_life.bpf.o'))) return 'BPF objects not built (npm run build)';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF';
  return undefined;
}
