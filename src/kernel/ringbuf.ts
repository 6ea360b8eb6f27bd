/**
 * RingBuffer: records from a BPF ring buffer map, read where the kernel
 * wrote them. The addon wakes on the map's fd (and a timer) inside libuv and
 * hands over what the producer has reserved as a byte range of the ring's
 * memory (read-only, its data pages mapped twice so a range that wraps is
 * contiguous); one walk here reads the records up to one still being
 * written and says how far it got, and the kernel gets that memory back
 * when the handler returns, so record handlers must not keep views into it
 * past their return. Layout per record, the kernel's own: u32 length with
 * bit 31 set while its program is still writing it and bit 30 set once it
 * discarded it (skipped here), u32 the kernel's, the record, padding to 8
 * bytes.
 */
import { NativeRingBuffer, native } from './native';

/** Called once per record: `view` covers the ring's memory, the record starts at `offset`. */
export type RecordHandler = (view: DataView, offset: number, length: number) => void;

const BUSY = 0x80000000;
const DISCARDED = 1 << 30;
const LENGTH = DISCARDED - 1;

/**
 * Calls fn for each record from byte `start` towards `end` of `view`,
 * stopping at a record still being written or cut short; returns the offset
 * where it stopped (the bytes consumed are that less `start`). `words`, the
 * same memory as 32-bit words, is for the ring: its length words are read
 * with Atomics.load, an acquire on every architecture (the kernel writes
 * the record, then clears its busy bit).
 */
export function forEachRecord(
  view: DataView,
  fn: RecordHandler,
  start = 0,
  end = view.byteLength,
  words?: Int32Array,
): number {
  let off = start;
  while (off + 8 <= end) {
    const word = words ? Atomics.load(words, off >> 2) >>> 0 : view.getUint32(off, true);
    if (word & BUSY) break;
    const len = word & LENGTH;
    if (off + 8 + len > end) break;
    if ((word & DISCARDED) === 0) fn(view, off + 8, len);
    off += 8 + ((len + 7) & ~7);
  }
  return off;
}

export class RingBuffer {
  private rb: NativeRingBuffer | undefined;
  private readonly onRecord: RecordHandler;
  private readonly view: DataView;
  private readonly words: Int32Array;
  records = 0;
  batches = 0;
  /** Records whose handler threw: counted, and the rest of the batch still delivered. */
  handlerErrors = 0;

  /** The handler, counting records and what it throws: made once, not per batch. */
  private readonly guarded = (v: DataView, off: number, len: number): void => {
    this.records++;
    try {
      this.onRecord(v, off, len);
    } catch {
      this.handlerErrors++;
    }
  };

  private readonly onBatchEnd: (() => void) | undefined;

  /**
   * pollMs > 0: also drain every pollMs, for programs that submit without
   * waking us. onBatchEnd runs after each batch's records, while their
   * memory is still readable (writeRanges works there).
   */
  constructor(mapFd: number, onRecord: RecordHandler, pollMs = 0, onBatchEnd?: () => void) {
    this.onRecord = onRecord;
    this.onBatchEnd = onBatchEnd;
    const rb = new (native().RingBuffer)(mapFd, (start, end) => this.deliver(start, end), pollMs);
    this.rb = rb;
    const memory = rb.memory();
    this.view = new DataView(memory);
    this.words = new Int32Array(memory);
  }

  /** One run of the ring: returns the bytes read, which the kernel may then reuse. */
  private deliver(start: number, end: number): number {
    this.batches++;
    const stop = forEachRecord(this.view, this.guarded, start, end, this.words);
    if (this.onBatchEnd) {
      try {
        this.onBatchEnd();
      } catch {
        this.handlerErrors++;
      }
    }
    return stop - start;
  }

  /** Writes ranges of the ring's memory to fd (from a record or batch-end handler); bytes, or -errno. */
  writeRanges(fd: number, ranges: Uint32Array, count: number): number {
    return this.rb ? this.rb.writeRanges(fd, ranges, count) : -9;
  }

  /** Drains what is in the ring now (at shutdown, before close). */
  drain(): void {
    for (let i = 0; i < 64 && this.rb; i++) if (!this.rb.consume()) return;
  }

  close(): void {
    this.rb?.close();
    this.rb = undefined;
  }
}
