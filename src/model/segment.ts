/**
 * What the stream analyzers eat, whatever the source: TCP bytes with their
 * place in their direction's stream (Segment) and UDP datagrams (Datagram).
 * The kernel's socket-payload records and the user-space flow tracker
 * (src/net/flow-tracker, for capture files) are two adapters to these.
 *
 * Times are the data's clock (src/model/time: ns as a number, kernel
 * CLOCK_MONOTONIC or since a capture file's base second), never the reader's.
 */
import type { FlowKey, Observer, RolesFrom, StreamDir } from './flow';
import type { Proc } from './packet';

/**
 * Why a direction says no more (set on its last segment):
 *  - 'fin': its FIN, in order;
 *  - 'rst': an RST its sender sent;
 *  - 'reset': the connection was reset by the other end's RST;
 *  - 'idle': no packet of the connection for the idle timeout;
 *  - 'evicted': pushed out of a full flow table;
 *  - 'reused': a new connection (SYN with another sequence number) took its ends;
 *  - 'flush': the input ended (end of file);
 *  - 'limit': the source copies nothing more of it (the kernel's copy limit,
 *    WL_SP_F_LIMIT): the connection may go on unseen;
 *  - 'cut': the same, reached inside a packet longer than the source copies
 *    of one (WL_SP_F_CUT): bytes of that packet are missing.
 */
export type StreamEnd = 'fin' | 'rst' | 'reset' | 'idle' | 'evicted' | 'reused' | 'flush' | 'limit' | 'cut';

export interface Segment {
  kind: 'segment';
  /** Shared by every segment of the connection. */
  key: FlowKey;
  /** The connection's id, unique for the source's life (a socket cookie for kernel records). */
  conn: number;
  dir: StreamDir;
  /** How the client end was known. */
  roles: RolesFrom;
  /**
   * The place of the first byte in its direction's stream: 0 is the byte
   * after the SYN (its ISN + 1), or the first byte seen when `midStream`.
   * Not wrapped at 2^32.
   */
  offset: number;
  /** Bytes of the stream this segment covers (sequence space, FIN and SYN excluded). */
  len: number;
  /**
   * The bytes that were copied, from `offset` on: a view, valid until the
   * next call into the source (copy it to keep it). Fewer than `len` when
   * the capture's snap length or the kernel's copy limit cut them.
   */
  bytes: Uint8Array;
  /** Bytes of the stream never seen right before `offset` (0: none): the analyzer resyncs. */
  gap: number;
  /** The TCP flags of the packet that carried these bytes. */
  syn: boolean;
  fin: boolean;
  rst: boolean;
  /** The direction was first seen without its SYN: offsets count from its first byte seen. */
  midStream: boolean;
  /** Set on the direction's last segment: nothing of it follows. */
  end: StreamEnd | undefined;
  /** When the bytes were in order (arrival of the packet that completed them, or when a gap was declared): ns on the data's clock. */
  tsNs: number;
  proc?: Proc;
  netns?: number;
  observer: Observer;
  /** Socket observers: which end is this host's socket. */
  local?: 'client' | 'server';
  /**
   * Seen on a listening socket (kernel records: the segment that completed
   * the handshake, or a TFO SYN's data): `conn` is the listener's; the
   * connection it made has the same netns and ends and carries on from it.
   */
  listener?: boolean;
}

export interface Datagram {
  kind: 'datagram';
  key: FlowKey;
  /** The socket's id, for socket observers that know it (a socket cookie); files have none. */
  conn?: number;
  dir: StreamDir;
  /** 'ports' on the wire: UDP has no handshake. */
  roles: RolesFrom;
  /** The datagram's payload length (from its UDP header). */
  len: number;
  /** The bytes copied (a view, as Segment.bytes): fewer than `len` when cut, or for a fragmented datagram. */
  bytes: Uint8Array;
  /** ns on the data's clock. */
  tsNs: number;
  proc?: Proc;
  netns?: number;
  observer: Observer;
  local?: 'client' | 'server';
}
