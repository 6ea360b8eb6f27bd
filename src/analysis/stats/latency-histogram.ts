/**
 * Latency percentiles in bounded memory: logarithmic buckets of 2% width
 * from 1 us to ~1 hour (~1100 counters), exact min/max.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const MAX_BUCKET = Math.ceil(Math.log(3.6e9) / LOG_GROWTH); // 1 hour in us

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  min = Infinity;
  max = 0;

  /** Records one latency in microseconds. */
  add(us: number): void {
    const v = Math.max(1, us);
    const b = Math.min(MAX_BUCKET, Math.floor(Math.log(v) / LOG_GROWTH));
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.count++;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** The q-quantile (0..1) in microseconds, within 2%; exact at the extremes. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Math.pow(GROWTH, b + 0.5)));
    }
    return this.max;
  }
}
