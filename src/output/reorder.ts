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
  /** Held records, oldest stamp first (kept sorted as they come: they mostly come in order). */
  private held: T[] = [];
  /** Their stamps (ns on the data's clock). */
  private keys: number[] = [];
  private readonly windowNs: number;

  constructor(
    private readonly stamp: (r: T) => number,
    windowNs: number,
    private readonly max = 10_000,
  ) {
    this.windowNs = windowNs;
  }

  get size(): number {
    return this.held.length;
  }

  add(r: T, emit: (r: T) => void): void {
    const k = this.stamp(r);
    const n = this.keys.length;
    if (n === 0 || k >= this.keys[n - 1]!) {
      this.held.push(r);
      this.keys.push(k);
    } else {
      // After every record with the same stamp: one stamp keeps completion order.
      const at = this.upperBound(k);
      this.held.splice(at, 0, r);
      this.keys.splice(at, 0, k);
    }
    if (this.held.length > this.max) this.release(this.held.length - Math.floor(this.max / 2), emit);
  }

  /** Releases the records stamped at or before now - window. */
  flush(nowNs: number, emit: (r: T) => void): void {
    this.release(this.upperBound(nowNs - this.windowNs), emit);
  }

  /** Releases everything (at stop). */
  flushAll(emit: (r: T) => void): void {
    this.release(this.held.length, emit);
  }

  /** Index of the first key above k. */
  private upperBound(k: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private release(n: number, emit: (r: T) => void): void {
    if (n <= 0) return;
    const out = this.held.splice(0, n);
    this.keys.splice(0, n);
    for (const r of out) emit(r);
  }
}
