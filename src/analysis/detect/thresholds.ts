/**
 * Detector settings, each with its default and the reason for it (the
 * README's table says the same). Rates are per second over one interval.
 */
export interface Thresholds {
  /** SYNs/s to one listening port, with under half of them completing, that make a SYN flood. */
  synRate: number;
  /** SYNs/s to a port that, with the kernel itself reporting SYN-queue trouble or the listener's queues near its backlog, make a SYN flood. */
  synEvidenceRate: number;
  /** Distinct ports a remote is refused at (RST or ICMP unreachable) within scanWindowS that make a scan. */
  scanPorts: number;
  scanWindowS: number;
  /** One source: SYNs/s (mostly not completing, mostly not refused), UDP/s, ICMP/s, packets/s. */
  sourceSyn: number;
  sourceUdp: number;
  sourceIcmp: number;
  sourcePps: number;
  /** Many sources: UDP packets/s to one port (or the host), ICMP packets/s to the host. */
  udpRate: number;
  icmpRate: number;
  /** Distributed flood: packets/s at least this many times the moving baseline, and at least floodMinPps. */
  floodFactor: number;
  floodMinPps: number;
  /** ... from at least this many distinct sources, none with more than dominantShare of them. */
  floodMinSources: number;
  /** Seconds the moving baseline averages over. */
  baselineS: number;
  /** A source with this share of a target's traffic (and over its own threshold) makes it a single-source flood. */
  dominantShare: number;
  /** Intervals (seconds) a flood condition must hold before an alert starts. */
  sustainS: number;
  /** Seconds without the condition before an alert ends (scans: scanQuietS). */
  quietS: number;
  scanQuietS: number;
  /** Seconds between updates of a lasting alert. */
  updateS: number;
  /** Seconds after a scan alert ends during which the same source raises no new one. */
  suppressS: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  synRate: 1000,
  synEvidenceRate: 100,
  scanPorts: 15,
  scanWindowS: 300,
  sourceSyn: 1000,
  sourceUdp: 20000,
  sourceIcmp: 1000,
  sourcePps: 100000,
  udpRate: 50000,
  icmpRate: 5000,
  floodFactor: 10,
  floodMinPps: 20000,
  floodMinSources: 100,
  baselineS: 300,
  dominantShare: 0.8,
  sustainS: 3,
  quietS: 10,
  scanQuietS: 30,
  updateS: 30,
  suppressS: 3600,
};
