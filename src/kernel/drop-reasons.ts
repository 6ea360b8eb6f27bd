/**
 * The kernel's names for its packet drop reasons, from its own BTF (enum
 * skb_drop_reason): never a hand-written table, so new reasons are named on
 * new kernels. "SKB_DROP_REASON_NO_SOCKET" is shown as "NO_SOCKET".
 */
import { native } from './native';
import { BpfMap } from './maps';
import { sumSlotsU64 } from './encode';

const PREFIX = 'SKB_DROP_REASON_';

export class DropReasons {
  private names: Map<number, string> | undefined;

  /** Reads the names now (at start-up), not at the first drop record. */
  preload(): void {
    this.names ??= DropReasons.load();
  }

  name(value: number): string {
    this.names ??= DropReasons.load();
    return this.names.get(value) ?? `REASON_${value}`;
  }

  /** Drops counted per reason in a wl_drop_reasons map (bpf/include/drop_count.bpf.h), most first. */
  read(m: BpfMap): [string, bigint][] {
    const out: [string, bigint][] = m
      .entries()
      .map(({ key, value }) => [this.name(key.readUInt32LE(0)), sumSlotsU64(value, m.slotBytes)]);
    return out.sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  }

  private static load(): Map<number, string> {
    const m = new Map<number, string>();
    for (const e of native().btfEnum('skb_drop_reason') ?? []) {
      if (!m.has(e.value)) m.set(e.value, e.name.startsWith(PREFIX) ? e.name.slice(PREFIX.length) : e.name);
    }
    return m;
  }
}
