/**
 * The data's clock: how every record, segment and analyzer in wirelens
 * tells time. A time is a number of nanoseconds (a double, not a BigInt:
 * no BigInt per record) on the clock of the data it came from:
 *
 *  - live kernel records: CLOCK_MONOTONIC ns as the kernel stamped them
 *    (bpf_ktime_get_ns), read from the record's u64 as a number. Exact
 *    below 2^53 ns, 104 days of uptime; past that a double keeps the
 *    nearest even (2^54: fourth) nanosecond, so a stamp is off by a few ns
 *    and nothing printed to the microsecond moves by more than one unit.
 *    process.hrtime reads the same clock (tick(now) of the live commands);
 *  - capture files (and every Segment, Datagram and TcpNote made from
 *    them): ns since a base second the source chose (the first packet's),
 *    so exact for any capture shorter than 104 days.
 *
 * A TimeBase says which wall time is 0 on that clock (whole seconds since
 * the epoch and ns, 0 <= nsec < 1e9): the monotonic-to-wall offset taken
 * once at start, or the file's base second. output/clock prints wall time
 * from it exactly to the microsecond with numbers only. Analyzers never
 * need it: they compare and subtract times (timeouts, latencies) and run
 * on the data's clock, ticked with the source's own now.
 */

export class TimeBase {
  /** Whole seconds since the epoch at time 0; undefined until a file's first packet sets it. */
  sec: number | undefined;
  /** Nanoseconds past `sec` at time 0 (0 <= nsec < 1e9). */
  nsec = 0;

  constructor(sec?: number, nsec = 0) {
    this.sec = sec;
    this.nsec = nsec;
  }

  /** A base for wall-time data (files): set by the first wall time given to ns(). */
  static fromFirst(): TimeBase {
    return new TimeBase();
  }

  /**
   * The data's time of a wall time given as seconds and ns since the epoch
   * (a packet's): ns since the base, the base set to this second if unset.
   */
  ns(sec: number, nsec: number): number {
    const base = (this.sec ??= sec);
    return (sec - base) * 1e9 + (nsec - this.nsec);
  }
}
