/**
 * RingBuffer: records from a BPF ring buffer map. The addon wakes on the
 * ring's epoll fd inside libuv and hands over one Buffer of many records; this
 * splits it in place (no copy per record). Batch layout per record: u32
 * length, u32 zero, the record, padding to 8 bytes.
 */
import { NativeRingBuffer, native } from './native';

/** Called once per record: `view` covers the whole batch, the record starts at `offset`. */
export type RecordHandler = (view: DataView, offset: number, length: number) => void;

export function forEachRecord(batch: Buffer, fn: RecordHandler): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let off = 0;
  let n = 0;
  while (off + 8 <= batch.byteLength) {
    const len = view.getUint32(off, true);
    if (off + 8 + len > batch.byteLength) break;
    fn(view, off + 8, len);
    n++;
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
  firstHandlerError: unknown;

  /** pollMs > 0: also drain every pollMs, for programs that submit without waking us. */
  constructor(mapFd: number, onRecord: RecordHandler, pollMs = 0) {
    this.onRecord = onRecord;
    this.rb = new (native().RingBuffer)(mapFd, (batch) => this.deliver(batch), 4 << 20, pollMs);
  }

  private deliver(batch: Buffer): void {
    this.batches++;
    this.records += forEachRecord(batch, (v, off, len) => {
      try {
        this.onRecord(v, off, len);
      } catch (e) {
        this.handlerErrors++;
        this.firstHandlerError ??= e;
      }
    });
  }

  /** Drains what is in the ring now (at shutdown, before close). */
  drain(): void {
    for (let i = 0; i < 64 && this.rb; i++) {
      const batch = this.rb.consume();
      if (!batch) return;
      this.deliver(batch);
    }
  }

  close(): void {
    this.rb?.close();
    this.rb = undefined;
  }
}
