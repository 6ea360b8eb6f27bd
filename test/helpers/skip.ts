/** Clean skips with a reason: kernel tests need root and a built tree. */
import * as fs from 'node:fs';
import { BTF_PATH } from '../../src/cli/preflight';
import { bpfObjectPath } from '../../src/kernel/native';

export function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  try {
    bpfObjectPath('tcp_life');
  } catch (e) {
    return (e as Error).message;
  }
  if (!fs.existsSync(BTF_PATH)) return 'kernel has no BTF';
  return undefined;
}
