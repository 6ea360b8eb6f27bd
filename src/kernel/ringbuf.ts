/**
 * RingBuffer: records from a BPF ring buffer map. The addon wakes on the
 * ring's epoll fd (and a timer) inside libuv and writes many records into one
 * batch Buffer owned here and reused for every batch (no allocation, so no
 * GC pressure per batch); this splits it in place. Record handlers must not
 * keep views into it past their return. Batch layout per record, the
 * kernel's own (copied a run at a time): u32 length with bit 30 set for a
 * record its program discarded (skipped here), u32 the kernel's, the
 * record, padding to 8 bytes.
 */
import { NativeRingBuffer, native } from './native';

/** Called once per record: `view` covers the whole batch, the record starts at `offset`. */
export type RecordHandler = (view: DataView, offset: number, length: number) => void;

const BATCH_BYTES = 4 << 20;
const DISCARDED = 1 << 30;
const LENGTH = DISCARDED - 1;

export function forEachRecord(
  batch: Buffer,
  fn: RecordHandler,
  bytes = batch.byteLength,
  view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength),
): number {
  let off = 0;
  let n = 0;
  while (off + 8 <= bytes) {
    const word = view.getUint32(off, true);
    const len = word & LENGTH;
    if (off + 8 + len > bytes) break;
    if ((word & DISCARDED) === 0) {
      fn(view, off + 8, len);
      n++;
    }
    off += 8 + ((len + 7) & ~7);
  }
  return n;
}

export class RingBuffer {
  private rb: NativeRingBuffer | undefined;
  private readonly onRecord: RecordHandler;
  records = 0;
  batches = 0;
  /** Records whose handler threw: counted, and the rest of the batch still delivered. */
  handlerErrors = 0;

  private readonly batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private readonly view = new DataView(this.batch.buffer, this.batch.byteOffset, this.batch.byteLength);
  /** The handler, counting what it throws: made once, not per batch. */
  private readonly guarded = (v: DataView, off: number, len: number): void => {
    try {
      this.onRecord(v, off, len);
    } catch {
      this.handlerErrors++;
    }
  };

  /** pollMs > 0: also drain every pollMs, for programs that submit without waking us. */
  constructor(mapFd: number, onRecord: RecordHandler, pollMs = 0) {
    this.onRecord = onRecord;
    this.rb = new (native().RingBuffer)(mapFd, (bytes) => this.deliver(bytes), this.batch, pollMs);
  }

  private deliver(bytes: number): void {
    this.batches++;
    this.records += forEachRecord(this.batch, this.guarded, bytes, this.view);
  }

  /** Drains what is in the ring now (at shutdown, before close). */
  drain(): void {
    for (let i = 0; i < 64 && this.rb; i++) {
      const bytes = this.rb.consume();
      if (!bytes) return;
      this.deliver(bytes);
    }
  }

  close(): void {
    this.rb?.close();
    this.rb = undefined;
  }
}
