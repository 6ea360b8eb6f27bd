/**
 * One direction of a TCP connection put back in order from segments tagged
 * with their place in the stream (Segment.offset: the kernel numbers them
 * from the direction's first byte, the flow tracker from its SYN). Bytes already delivered are cut off (duplicates,
 * retransmissions overlapping what came); segments ahead of a gap wait, at
 * most maxHeld bytes of them; past that the gap is given up: the stream is
 * `broken` and takes nothing more. Never throws.
 */

interface Held {
  off: number;
  bytes: Uint8Array;
}

export class StreamReassembler {
  /** The stream offset expected next. */
  private next: number;
  private held: Held[] = [];
  private heldTotal = 0;
  private readonly maxHeld: number;
  broken = false;

  /** `start`: the offset expected first (a direction taken up again where it was left). */
  constructor(maxHeld = 64 * 1024, start = 0) {
    this.maxHeld = maxHeld;
    this.next = start;
  }

  /** Bytes delivered so far (the offset expected next). */
  get delivered(): number {
    return this.next;
  }

  /** Bytes waiting ahead of a gap. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** Whether bytes wait ahead of a gap. */
  get gap(): boolean {
    return this.held.length > 0;
  }

  /**
   * Takes a segment's bytes at stream offset `off`; returns what is now in
   * order, in order. The pieces returned may be views of `bytes`: use them
   * before the caller's buffer is reused. Held segments are copied.
   */
  push(off: number, bytes: Uint8Array): Uint8Array[] {
    if (this.broken || bytes.length === 0) return [];
    const end = off + bytes.length;
    if (end <= this.next) return []; // all of it came before
    if (off > this.next) {
      this.hold(off, bytes);
      return [];
    }
    const out = [bytes.subarray(this.next - off)];
    this.next = end;
    this.release(out);
    return out;
  }

  /** Gives the gap up: held bytes dropped, nothing more taken. */
  break(): void {
    this.broken = true;
    this.held = [];
    this.heldTotal = 0;
  }

  private hold(off: number, bytes: Uint8Array): void {
    if (this.heldTotal + bytes.length > this.maxHeld) {
      this.break();
      return;
    }
    const h = { off, bytes: new Uint8Array(bytes) }; // a copy, also of a Buffer (whose slice() is a view)
    let i = this.held.length;
    while (i > 0 && this.held[i - 1]!.off > off) i--;
    this.held.splice(i, 0, h);
    this.heldTotal += bytes.length;
  }

  /** Moves held segments that now connect onto `out`. */
  private release(out: Uint8Array[]): void {
    while (this.held.length > 0 && this.held[0]!.off <= this.next) {
      const h = this.held.shift()!;
      this.heldTotal -= h.bytes.length;
      const end = h.off + h.bytes.length;
      if (end <= this.next) continue;
      out.push(h.bytes.subarray(this.next - h.off));
      this.next = end;
    }
  }
}
