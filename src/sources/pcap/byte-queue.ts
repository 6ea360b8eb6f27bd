/**
 * Incoming chunks held until a whole record is there. Bytes are copied only
 * when a record spans chunks (then once, into one Buffer of the record's
 * size), so reading is linear in the input whatever the chunk sizes.
 * Chunks are kept by reference: a caller must not reuse a buffer it pushed.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  /** Bytes held. */
  length = 0;
  /** Bytes consumed (skipped) since the start: the offset of the queue's first byte in the input. */
  consumed = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));
    this.length += b.length;
  }

  /** The first n bytes as one Buffer; n must be at most `length`. */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    let off = this.head;
    while (filled < n) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length - off, n - filled);
      c.copy(out, filled, off, off + take);
      filled += take;
      if (off + take === c.length) {
        i++;
        off = 0;
      } else off += take;
    }
    const rest: Buffer[] = [out];
    if (i < this.chunks.length) {
      const partial = this.chunks[i]!.subarray(off);
      if (partial.length > 0) rest.push(partial);
      for (let k = i + 1; k < this.chunks.length; k++) rest.push(this.chunks[k]!);
    }
    this.chunks = rest;
    this.head = 0;
    return out;
  }

  skip(n: number): void {
    this.length -= n;
    this.consumed += n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
    if (this.chunks.length > 0 && this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }

  clear(): void {
    this.consumed += this.length;
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}
