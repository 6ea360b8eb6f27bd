/**
 * What every probe family does the same way: open its object, write the
 * common filters, size the ring buffer, load and attach through the hook
 * plan, consume records, and count what the kernel lost or filtered.
 */
import { STAT } from '../events/layout';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot, loadAndAttach } from '../kernel/hooks';
import { BpfMap } from '../kernel/maps';
import { u32le } from '../kernel/encode';
import { BpfObject } from '../kernel/object';
import { RecordHandler, RingBuffer } from '../kernel/ringbuf';
import { KernelFilters, applyKernelFilters } from './filters';

/** Longest a record waits in the ring when the kernel did not wake us. */
const DRAIN_MS = 50;

export interface FamilySpec {
  object: string;
  slots: HookSlot[];
  filters: KernelFilters;
  hookMode: HookMode;
  features: Features;
  /** Ring buffer bytes: a power of two, multiple of the page size. */
  ringBytes?: number;
  /** Extra configuration between open and load (runs again if a load is retried). */
  configure?: (obj: BpfObject) => void;
  /** Tell the programs what got attached (maps are live now). */
  afterAttach?: (obj: BpfObject, choices: HookChoice[]) => void;
  onRecord: RecordHandler;
  /** The consumer is woken once this many bytes wait (default: 1/16 of the ring, at most 256 KiB). */
  wakeupBytes?: number;
  /** The ring is drained every this many ms too (default DRAIN_MS), for records that woke nobody. */
  drainMs?: number;
  /** After each batch of records, while their memory is still readable (RunningFamily.writeRanges). */
  onBatchEnd?: () => void;
}

export interface KernelStats {
  /** Records the ring buffer had no room for. */
  lost: bigint;
  /** Records dropped in the kernel by filters. */
  filtered: bigint;
  /** Tracking-table inserts refused. */
  tableFull: bigint;
  /** Records the kernel submitted. */
  emitted: bigint;
  /** Records user space received. */
  received: number;
}

export class RunningFamily {
  readonly choices: HookChoice[];
  readonly obj: BpfObject;
  private readonly ring: RingBuffer;
  private readonly stats: BpfMap;

  private constructor(obj: BpfObject, choices: HookChoice[], ring: RingBuffer) {
    this.obj = obj;
    this.choices = choices;
    this.ring = ring;
    this.stats = obj.map('wl_stats');
  }

  static start(spec: FamilySpec): RunningFamily {
    const open = (): BpfObject => {
      const obj = BpfObject.open(spec.object);
      try {
        applyKernelFilters(obj, spec.filters);
        const ringBytes = spec.ringBytes ?? 4 << 20;
        obj.setMaxEntries('wl_events', ringBytes);
        // Batch wake-ups: the consumer is woken once 1/16 of the ring waits,
        // and drains every DRAIN_MS anyway.
        obj.setGlobal('wl_wakeup_bytes', u32le(spec.wakeupBytes ?? Math.min(256 << 10, ringBytes / 16)));
        spec.configure?.(obj);
      } catch (e) {
        obj.close();
        throw e;
      }
      return obj;
    };
    const { obj, choices } = loadAndAttach(open, spec.slots, spec.features, spec.hookMode);
    try {
      spec.afterAttach?.(obj, choices);
      const ring = obj.ringBuffer('wl_events', spec.onRecord, spec.drainMs ?? DRAIN_MS, spec.onBatchEnd);
      return new RunningFamily(obj, choices, ring);
    } catch (e) {
      obj.close();
      throw e;
    }
  }

  kernelStats(): KernelStats {
    return {
      lost: this.stats.sumPerCpuU64(STAT.RB_LOST),
      filtered: this.stats.sumPerCpuU64(STAT.FILTERED),
      tableFull: this.stats.sumPerCpuU64(STAT.TABLE_FULL),
      emitted: this.stats.sumPerCpuU64(STAT.EMITTED),
      received: this.ring.records,
    };
  }

  /** Detaches every program: nothing new reaches the ring after this. */
  detach(): void {
    this.obj.detach();
  }

  /** Delivers what the kernel already wrote. */
  drain(): void {
    this.ring.drain();
  }

  /** Writes ranges of the ring's memory to fd, from a record or batch-end handler: bytes, or -errno. */
  writeRanges(fd: number, ranges: Uint32Array, count: number): number {
    return this.ring.writeRanges(fd, ranges, count);
  }

  /** Records whose handler threw (counted, never fatal). */
  get handlerErrors(): number {
    return this.ring.handlerErrors;
  }

  close(): void {
    this.obj.close();
  }
}
