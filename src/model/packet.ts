/**
 * A packet as every source gives it (kernel capture records, pcap and
 * pcapng files) and every sink takes it (text lines, pcapng files, the
 * analyzers). Times are wall-clock seconds and nanoseconds as two numbers:
 * a nanosecond count since 1970 does not fit a double exactly, and a
 * BigInt per packet costs more than it is worth.
 */

/** Link-layer header types (tcpdump.org's LINKTYPE_ values, as written in files). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
  IPV4: 228,
  IPV6: 229,
} as const;

export type Direction = 'in' | 'out' | 'unknown';

/** The process a packet belongs to, as far as it is known. */
export interface Proc {
  pid: number;
  /** Thread id, when the kernel knew it. */
  tid?: number;
  uid?: number;
  comm: string;
}

/** Where packets were seen: one per (hook, interface, netns) for live capture, one per IDB in files. */
export interface CaptureInterface {
  linkType: number;
  /** As shown in lines and written as if_name: 'lo', 'eth0', 'sockets' for the socket hook. */
  name: string;
  description?: string;
  snaplen: number;
  /** The filter expression that applied on it (if_filter), if any. */
  filter?: string;
  /** Network namespace inode, for live capture. */
  netns?: number;
  /** Timestamp resolution as nanoseconds per unit (1000 for µs files, 1 for ns). */
  tsUnitNs?: number;
}

/**
 * Where a packet's bytes sit inside a larger buffer (a ring batch): a sink
 * that copies them may read them there, without the view `data` would
 * allocate per packet.
 */
export interface PacketBytes {
  view: DataView;
  offset: number;
  length: number;
}

export interface Packet {
  sec: number;
  nsec: number;
  /** Index of the interface in the source's list (pcapng's interface id). */
  iface: number;
  linkType: number;
  /** The bytes captured (at most the snap length). */
  data: Uint8Array;
  /** The packet's length on the wire. */
  wireLen: number;
  direction: Direction;
  proc?: Proc;
  /** Network namespace inode of the socket or interface, where known. */
  netns?: number;
  /** Free text carried with the packet (pcapng opt_comment) that is not process information. */
  comment?: string;
  /** The same bytes as `data`, in place (sources that hold them in a larger buffer). */
  at?: PacketBytes;
}

/** Capture statistics as tcpdump and pcapng's ISB give them. */
export interface CaptureStats {
  /** Packets written or printed ("captured"). */
  captured: number;
  /**
   * Packets the filter accepted, whether or not they were then copied
   * ("received by filter", as tcpdump counts on Linux: the packet socket's
   * filter accepted them; some may be lost to a full ring, or still unread
   * when the capture stopped).
   */
  received: number;
  /** Packets lost in the kernel (ring buffer full). */
  dropped: number;
}
