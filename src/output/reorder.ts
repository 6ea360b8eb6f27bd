/**
 * Puts records in the order of their own timestamps before they are printed.
 * A record is complete only some time after the moment it is stamped with
 * (an HTTP exchange is stamped with its request's first byte and complete at
 * its response), so completion order is not time order. Each record is held
 * until `windowNs` of the data's clock has passed since its stamp, then
 * released with every other one that is due, oldest first. Bounded: above
 * `max` held records the oldest are released at once. Never loses one: a
 * record that completes after later-stamped ones were released (it took
 * longer than the window) comes out at the next release, out of order.
 * Pure: the caller passes the time.
 */
export class ReorderWindow<T> {
  private held: T[] = [];

  constructor(
    private readonly stamp: (r: T) => bigint,
    private readonly windowNs: bigint,
    private readonly max = 10_000,
  ) {}

  get size(): number {
    return this.held.length;
  }

  add(r: T, emit: (r: T) => void): void {
    this.held.push(r);
    if (this.held.length > this.max) this.release(this.held.length - Math.floor(this.max / 2), emit);
  }

  /** Releases the records stamped at or before now - window. */
  flush(nowNs: bigint, emit: (r: T) => void): void {
    const due = nowNs - this.windowNs;
    this.sort();
    let n = 0;
    while (n < this.held.length && this.stamp(this.held[n]!) <= due) n++;
    this.release(n, emit);
  }

  /** Releases everything (at stop). */
  flushAll(emit: (r: T) => void): void {
    this.release(this.held.length, emit);
  }

  private sort(): void {
    // Stable: records with one stamp keep the order they completed in.
    this.held.sort((a, b) => {
      const x = this.stamp(a);
      const y = this.stamp(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  private release(n: number, emit: (r: T) => void): void {
    if (n <= 0) return;
    this.sort();
    const out = this.held.slice(0, n);
    this.held = this.held.slice(n);
    for (const r of out) emit(r);
  }
}
