/**
 * What `wirelens guard` reads from the kernel once per interval: counters
 * since start (per protocol, per destination port, per source above the
 * floor, per listening port and namespace), the listeners' queues, the distinct-source registers
 * and scan bitmaps of the interval, drops by reason and each network
 * namespace's own TCP/IP counters. A source fills it (the kernel counters,
 * or a test); the detectors read two in a row. Times are the data's clock:
 * CLOCK_MONOTONIC nanoseconds as a number.
 */

export interface GuardCounts {
  /** Packets received on the hooked interfaces, and their bytes. */
  pkts: number;
  bytes: number;
  /** TCP SYN without ACK received. */
  syn: number;
  /** TCP SYN-ACK sent. */
  synack: number;
  rstIn: number;
  /** TCP RST|ACK sent: a segment without ACK (a SYN) refused; a RST answering a segment with ACK is not counted. */
  rstOut: number;
  /** ICMP/ICMPv6 destination unreachable sent. */
  unreachOut: number;
  udp: number;
  icmp: number;
  /** Handshakes completed (a listener made a child socket). */
  est: number;
  /** Packets dropped by --block. */
  blocked: number;
}

export const ZERO_GUARD_COUNTS: Readonly<GuardCounts> = {
  pkts: 0,
  bytes: 0,
  syn: 0,
  synack: 0,
  rstIn: 0,
  rstOut: 0,
  unreachOut: 0,
  udp: 0,
  icmp: 0,
  est: 0,
  blocked: 0,
};

export type GuardProto = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';
export const GUARD_PROTOS: readonly GuardProto[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'];

export interface PortCounts {
  proto: GuardProto;
  port: number;
  c: GuardCounts;
  /** The last destination address seen for it ('' when none). */
  daddr: string;
}

export interface ListenCounts {
  netns: number;
  /** 0: resets sent for packets that found no socket. */
  port: number;
  est: number;
  synackRetrans: number;
  rstSent: number;
}

/** A listening TCP port's queues as read at the sample (summed over its sockets, SO_REUSEPORT's several). */
export interface ListenQueue {
  netns: number;
  port: number;
  /** Half-open connections: request socks waiting for the handshake's last ACK. */
  synQueue: number;
  /** Handshakes completed, waiting for accept(). */
  acceptQueue: number;
  /** The limit of each queue: sk_max_ack_backlog (listen()'s backlog, capped by net.core.somaxconn). */
  backlog: number;
}

/** Distinct sources in one interval, as HyperLogLog registers (merged over CPUs). */
export interface DistinctRegisters {
  all: Uint8Array;
  syn: Uint8Array;
  udp: Uint8Array;
  icmp: Uint8Array;
}

export interface GuardSample {
  /** CLOCK_MONOTONIC ns when read. */
  tNs: number;
  /** Scan bucket the kernel was filling until this read. */
  bucket: number;
  protos: Map<GuardProto, PortCounts>;
  /** Keyed "tcp/80". */
  ports: Map<string, PortCounts>;
  /** Keyed by address text. */
  sources: Map<string, GuardCounts>;
  /** Keyed "netns/port". */
  listen: Map<string, ListenCounts>;
  /** Listening TCP ports whose queues held anything at the read, keyed "netns/port" (none when not read). */
  queues: Map<string, ListenQueue>;
  /** Per source: scan bucket -> bitmap of the ports it was refused at (1024 bits as 32 words). */
  scans: Map<string, Map<number, Uint32Array>>;
  /**
   * Per source: scan bucket -> bitmap of the TCP ports it sent a SYN to that had no answer (SYN-ACK, RST,
   * ICMP unreachable) yet at this read. A port pending at two reads in a row went unanswered.
   */
  pending: Map<string, Map<number, Uint32Array>>;
  /** Distinct sources over the interval that ended with this read (undefined on the first). */
  distinct?: DistinctRegisters;
  /** Drops since start per network namespace inode (0: neither device nor socket known), by the kernel's reason name. */
  drops: Map<number, Map<string, number>>;
  /** Per network namespace inode: its /proc net/netstat and net/snmp counters (nstat's names), as read now. */
  netstat: Map<number, Map<string, number>>;
  /** The network namespace of the hooked interfaces. */
  ownNetns: number;
  /** Table fill, for the "full" warning. */
  tables: { name: string; entries: number; max: number }[];
}
