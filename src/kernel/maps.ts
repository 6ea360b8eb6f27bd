/**
 * BpfMap: a map by fd with its layout. Per-CPU maps return one value slot per
 * possible CPU (each rounded up to 8 bytes); sumPerCpuU64 folds them.
 */
import { sumSlotsU64, u32le } from './encode';
import { NativeMapInfo, native } from './native';

export class BpfMap {
  readonly info: NativeMapInfo;
  readonly fd: number;
  readonly perCpu: boolean;
  /** Bytes one lookup returns: value size, or per-CPU slots for per-CPU maps. */
  readonly valueBytes: number;
  readonly slotBytes: number;

  constructor(info: NativeMapInfo, fd: number) {
    this.info = info;
    this.fd = fd;
    this.perCpu = info.type.startsWith('percpu') || info.type.startsWith('lru_percpu');
    this.slotBytes = this.perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize;
    this.valueBytes = this.perCpu ? this.slotBytes * native().numPossibleCpus() : info.valueSize;
  }

  lookup(key: Buffer): Buffer | null {
    return native().mapLookup(this.fd, key, this.valueBytes);
  }

  update(key: Buffer, value: Buffer, flags = 0): void {
    native().mapUpdate(this.fd, key, value, flags);
  }

  delete(key: Buffer): boolean {
    return native().mapDelete(this.fd, key);
  }

  /** All entries, at most `max`, read in one native call. */
  entries(max = this.info.maxEntries): { key: Buffer; value: Buffer }[] {
    const d = native().mapDump(this.fd, this.info.keySize, this.valueBytes, max);
    const out: { key: Buffer; value: Buffer }[] = [];
    for (let i = 0; i < d.count; i++) {
      out.push({
        key: d.keys.subarray(i * this.info.keySize, (i + 1) * this.info.keySize),
        value: d.values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes),
      });
    }
    return out;
  }

  /** For a per-CPU array of u64 counters: the sum over CPUs of slot `index`. */
  sumPerCpuU64(index: number): bigint {
    const v = this.lookup(u32le(index));
    return v ? sumSlotsU64(v, this.slotBytes) : 0n;
  }
}
