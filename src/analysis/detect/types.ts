/**
 * Alerts and the figures detectors judge, shared by the detectors, the
 * alert book and the renderers. Times are the data's clock (ns).
 */
import { GuardCounts, GuardProto } from '../../model/guard';

export const ALERT_KINDS = [
  'syn_flood',
  'port_scan',
  'source_flood',
  'udp_flood',
  'icmp_flood',
  'distributed_flood',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type Severity = 'low' | 'medium' | 'high';
export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

export interface Target {
  /** A local address the traffic went to (the last seen), null when unknown or many. */
  address: string | null;
  port: number | null;
  protocol: string;
  /** Network namespace inode. */
  netns: number;
}

export interface TopSource {
  address: string;
  /** Packets per second of the alert's traffic class from it. */
  pps: number;
  /** Its share of that class's packets, 0..1. */
  share: number;
}

export interface SourceInfo {
  /** The one source, for single-source alerts. */
  address: string | null;
  /** Distinct sources estimated over the last interval (HyperLogLog), null for single-source alerts. */
  distinct: number | null;
  top: TopSource[];
}

/** A kernel counter that moved: "TcpExtSyncookiesSent" (netstat/snmp), "drop:NO_SOCKET", "synack_retransmits". */
export interface Evidence {
  counter: string;
  delta: number;
  netns: number | null;
}

/** What a detector saw in one interval for one target or source. */
export interface Observation {
  kind: AlertKind;
  /** What the traffic is: syn, udp, icmp, packets (floods); refusals or unanswered (scans: which made most of its ports). */
  traffic: string;
  /** Identity within the kind: the same key in the next interval is the same alert. */
  key: string;
  severity: Severity;
  target: Target;
  source: SourceInfo;
  figures: Record<string, number | null>;
  thresholds: Record<string, number>;
  evidence: Evidence[];
}

/** Per-interval change of a set of counters, and the interval. */
export interface Rates {
  d: GuardCounts;
  dtS: number;
}

export interface PortDelta {
  proto: GuardProto;
  port: number;
  daddr: string;
  d: GuardCounts;
}

export interface SourceDelta {
  address: string;
  d: GuardCounts;
}
