/** What the pcap and pcapng readers share. */
import type { CaptureInterface, Packet } from '../../model/packet';

/** The largest block or record accepted; a longer one is an error, not an allocation. */
export const MAX_BLOCK = 16 * 1024 * 1024;
/** Interfaces accepted over a whole file. */
export const MAX_INTERFACES = 65536;

/** Per-interface figures from pcapng Interface Statistics Blocks (the last one seen wins). */
export interface InterfaceStats {
  received?: number;
  dropped?: number;
  filterAccepted?: number;
  osDropped?: number;
}

/**
 * An incremental reader: push chunks as they come (a file, stdin), take the
 * packets they complete; end() at the end of input. Never throws on bad
 * input: a fatal problem sets `error` (one line) and the reader stops; a
 * truncated end adds a note and keeps the packets read so far.
 */
export interface PacketReader {
  readonly format: 'pcap' | 'pcapng' | 'unknown';
  /** Every interface seen so far; Packet.iface indexes this list (pcapng ids restart per section, these do not). */
  readonly interfaces: readonly CaptureInterface[];
  /** Statistics from ISBs, by index in `interfaces`. */
  readonly stats: ReadonlyMap<number, InterfaceStats>;
  /** Non-fatal findings: truncation, skipped malformed options, packets for unknown interfaces. */
  readonly notes: readonly string[];
  /** Set when the input is unreadable from some point on (bad magic, absurd length); no packets follow. */
  readonly error: string | undefined;
  /** Feeds a chunk (kept by reference: do not reuse its memory); returns the packets it completed. */
  push(chunk: Uint8Array): Packet[];
  /** End of input: notes a cut last block/record. */
  end(): void;
}

export interface Endian {
  u16(b: Buffer, o: number): number;
  u32(b: Buffer, o: number): number;
}

export const LE: Endian = { u16: (b, o) => b.readUInt16LE(o), u32: (b, o) => b.readUInt32LE(o) };
export const BE: Endian = { u16: (b, o) => b.readUInt16BE(o), u32: (b, o) => b.readUInt32BE(o) };
