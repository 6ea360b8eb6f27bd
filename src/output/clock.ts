/**
 * Wall time for the data's clock (src/model/time: every time is a number
 * of ns on the clock of its data, kernel CLOCK_MONOTONIC or a file's base
 * second). A Clock knows its TimeBase (the wall time of 0) and prints a
 * time as ISO-8601 UTC or as local time of day, to the microsecond, with
 * numbers only: the time splits into whole seconds and ns (exact for
 * |t| < 2^53 ns), the base's seconds and ns are added with a carry, and
 * the text up to the second is cached (it changes once a second). No
 * BigInt per record; the one BigInt left is process.hrtime.bigint() in
 * wallMinusMonoNs, once per clock.
 */
import { TimeBase } from '../model/time';

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

/** A TimeBase for kernel times: the wall time at CLOCK_MONOTONIC 0 (`offsetNs`: wall less monotonic). */
export function monotonicBase(offsetNs: bigint = wallMinusMonoNs()): TimeBase {
  let sec = offsetNs / 1_000_000_000n;
  let nsec = offsetNs - sec * 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return new TimeBase(Number(sec), Number(nsec));
}

/** CLOCK_MONOTONIC now, ns as a number (the kernel's clock, for tick(now)): no BigInt. */
export function monoNowNs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e9 + ns;
}

export class Clock {
  readonly base: TimeBase;
  // The wall time of the last time split: whole seconds and ns past them.
  private sec = 0;
  private nsec = 0;
  // ISO text up to the second changes once a second: cache it.
  private cachedSec = NaN;
  private cachedPrefix = '';
  private cachedLocalSec = NaN;
  private cachedLocalPrefix = '';

  /** `base`: the wall time of the data's 0 (default: kernel CLOCK_MONOTONIC, offset taken now). */
  constructor(base: TimeBase = monotonicBase()) {
    this.base = base;
  }

  /** A clock for data whose times are ns since `sec` (and `nsec`) of the wall clock. */
  static at(sec: number, nsec = 0): Clock {
    return new Clock(new TimeBase(sec, nsec));
  }

  /** Wall-clock whole seconds since the epoch of a time on the data's clock. */
  wallSec(tsNs: number): number {
    this.split(tsNs);
    return this.sec;
  }

  /** ISO-8601 UTC with microseconds: 2026-11-24T21:34:00.123456Z */
  iso(tsNs: number): string {
    this.split(tsNs);
    if (this.sec !== this.cachedSec) {
      this.cachedSec = this.sec;
      this.cachedPrefix = isoSecond(this.sec);
    }
    return `${this.cachedPrefix}.${micros(this.nsec)}Z`;
  }

  /** Local time of day with microseconds, as tcpdump prints it. */
  timeOfDay(tsNs: number): string {
    this.split(tsNs);
    const sec = this.sec;
    if (sec !== this.cachedLocalSec) {
      // The local time up to the second changes once a second (a zone change lands at the next second).
      const d = new Date(sec * 1000);
      const p = (n: number): string => String(n).padStart(2, '0');
      this.cachedLocalSec = sec;
      this.cachedLocalPrefix = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.`;
    }
    return this.cachedLocalPrefix + micros(this.nsec);
  }

  /** Sets sec and nsec to the wall time of `tsNs` (ns on the data's clock). */
  private split(tsNs: number): void {
    let s = Math.floor(tsNs / 1e9);
    // s * 1e9 is a multiple of 512: exact up to 2^62, so the difference is exact too.
    let ns = tsNs - s * 1e9;
    if (ns < 0) {
      ns += 1e9;
      s--;
    } else if (ns >= 1e9) {
      ns -= 1e9;
      s++;
    }
    ns += this.base.nsec;
    s += this.base.sec ?? 0;
    if (ns >= 1e9) {
      ns -= 1e9;
      s++;
    }
    this.sec = s;
    this.nsec = ns;
  }
}

/** Microseconds of a second's ns, six digits. */
function micros(nsec: number): string {
  return String(Math.floor(nsec / 1000)).padStart(6, '0');
}

/** "2026-11-24T21:34:00" for a whole second since the epoch (UTC). */
function isoSecond(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 19);
}

/** ISO-8601 UTC with microseconds for a wall time given as seconds and nanoseconds (no BigInt). */
export function isoFromWall(sec: number, nsec: number): string {
  return `${isoSecond(sec)}.${micros(nsec)}Z`;
}
