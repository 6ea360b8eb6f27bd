/**
 * Kernel timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns); so is
 * process.hrtime. One offset, taken at start, turns them into wall time.
 * Records already in wall time (the stream analyzers', capture files') use
 * a Clock with offset 0.
 */
/**
 * CLOCK_REALTIME less CLOCK_MONOTONIC, in ns, to the microsecond: the wall
 * clock as performance.timeOrigin + performance.now() (µs, unlike
 * Date.now()'s ms, which put every stamp up to 1 ms early), read next to
 * process.hrtime.
 */
export function wallMinusMonoNs(): bigint {
  const mono = process.hrtime.bigint();
  const wallUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return BigInt(wallUs) * 1000n - mono;
}

export class Clock {
  private readonly offsetNs: bigint;
  // ISO text up to the second changes once a second: cache it.
  private cachedSec = -1n;
  private cachedPrefix = '';
  private cachedLocalSec = -1n;
  private cachedLocalPrefix = '';

  /** `offsetNs`: what to add to a record's time for the wall clock (default: monotonic to wall, taken now). */
  constructor(offsetNs: bigint = wallMinusMonoNs()) {
    this.offsetNs = offsetNs;
  }

  /** A clock for records whose times are wall-clock already. */
  static wall(): Clock {
    return new Clock(0n);
  }

  /** Wall-clock ns since the epoch for a monotonic kernel timestamp. */
  wallNs(monoNs: bigint): bigint {
    return monoNs + this.offsetNs;
  }

  /** ISO-8601 UTC with microseconds: 2026-11-24T21:34:00.123456Z */
  iso(monoNs: bigint): string {
    const wall = this.wallNs(monoNs);
    const sec = wall / 1_000_000_000n;
    if (sec !== this.cachedSec) {
      this.cachedSec = sec;
      this.cachedPrefix = isoSecond(sec);
    }
    return withMicros(this.cachedPrefix, wall);
  }

  /** Local time of day with microseconds, as tcpdump prints it. */
  timeOfDay(monoNs: bigint): string {
    const ns = this.wallNs(monoNs);
    const sec = ns / 1_000_000_000n;
    if (sec !== this.cachedLocalSec) {
      // The local time up to the second changes once a second (a zone change lands at the next second).
      const d = new Date(Number(sec) * 1000);
      const p = (n: number): string => String(n).padStart(2, '0');
      this.cachedLocalSec = sec;
      this.cachedLocalPrefix = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.`;
    }
    return this.cachedLocalPrefix + String((ns % 1_000_000_000n) / 1000n).padStart(6, '0');
  }
}

/** "2026-11-24T21:34:00" for a whole second since the epoch (UTC). */
function isoSecond(sec: bigint): string {
  return new Date(Number(sec) * 1000).toISOString().slice(0, 19);
}

function withMicros(secondPrefix: string, wallNs: bigint): string {
  return `${secondPrefix}.${String((wallNs % 1_000_000_000n) / 1000n).padStart(6, '0')}Z`;
}

export function isoMicros(wallNs: bigint): string {
  return withMicros(isoSecond(wallNs / 1_000_000_000n), wallNs);
}

/** ISO-8601 UTC with microseconds for a wall time given as seconds and nanoseconds (no BigInt). */
export function isoFromWall(sec: number, nsec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}Z`;
}
