/**
 * The first handshake message of one direction of a connection, gathered
 * from the chunks the process wrote: TLS records (RFC 8446 5.1) split at any
 * byte, and a message split over any number of records. Only the record
 * header being read and the handshake message are kept, never the raw
 * stream, and the message at most maxBytes long: kept as the bytes that
 * came, never sized by its header alone.
 */
import { HANDSHAKE_HEADER, isHelloType, parseHelloMessage } from './handshake';
import { HelloResult, malformed } from './types';

const CONTENT_HANDSHAKE = 22;
const RECORD_HEADER = 5;
/** The largest record any version allows (2^14 plaintext + 256 TLS 1.3 expansion). */
const MAX_RECORD = (1 << 14) + 256;

/** The default bound on the hello handshake message, header included. */
export const DEFAULT_MAX_HELLO = 32 * 1024;

/**
 * Whether the bytes can begin a TLS handshake record: 0x16, then version
 * 0x0300..0x0304. One or two bytes that agree so far are a "maybe" (true);
 * no bytes are false.
 */
export function looksLikeTlsHandshake(first: Uint8Array): boolean {
  if (first.length === 0 || first[0] !== CONTENT_HANDSHAKE) return false;
  if (first.length > 1 && first[1] !== 0x03) return false;
  return first.length < 3 || first[2]! <= 0x04;
}

/**
 * One direction of one connection. push() chunks in order; it returns
 * undefined while more bytes are needed, then a result exactly once (later
 * pushes return undefined). finish() at the end of the stream reports a
 * hello cut short. Never throws.
 */
export class TlsHelloGatherer {
  private readonly maxBytes: number;
  private done = false;
  private seen = false;
  private firstRecord = true;
  private readonly recordHeader = new Uint8Array(RECORD_HEADER);
  private recordHeaderFill = 0;
  /** Bytes of the current record's fragment not yet read. */
  private recordLeft = 0;
  private readonly msgHeader = new Uint8Array(HANDSHAKE_HEADER);
  private msgHeaderFill = 0;
  /** The hello's announced body length once its header is in; -1 before. */
  private msgLength = -1;
  private msgParts: Uint8Array[] = [];
  private msgFill = 0;

  /** maxBytes bounds the hello handshake message (its header included). */
  constructor(maxBytes = DEFAULT_MAX_HELLO) {
    this.maxBytes = Number.isFinite(maxBytes) ? Math.max(HANDSHAKE_HEADER, Math.floor(maxBytes)) : DEFAULT_MAX_HELLO;
  }

  /** Bytes of the hello held so far. */
  get buffered(): number {
    return this.msgFill;
  }

  push(chunk: Uint8Array): HelloResult | undefined {
    if (this.done) return undefined;
    if (chunk.length > 0) this.seen = true;
    let i = 0;
    while (i < chunk.length) {
      if (this.recordLeft === 0) {
        const r = this.recordHeaderByte(chunk[i++]!);
        if (r) return this.end(r);
        continue;
      }
      const n = Math.min(this.recordLeft, chunk.length - i);
      const r = this.handshakeBytes(chunk, i, i + n);
      if (r) return this.end(r);
      this.recordLeft -= n;
      i += n;
    }
    return undefined;
  }

  /** The end of the stream: 'truncated' if bytes came and no result yet, else undefined. */
  finish(): HelloResult | undefined {
    if (this.done) return undefined;
    this.done = true;
    return this.seen ? malformed('truncated') : undefined;
  }

  private end(r: HelloResult): HelloResult {
    this.done = true;
    this.msgParts = [];
    this.msgFill = 0;
    return r;
  }

  private notHandshake(): HelloResult {
    return this.firstRecord ? { kind: 'not_tls' } : malformed('bad record');
  }

  /** Takes one byte of a record header; a result when the header breaks a rule. */
  private recordHeaderByte(c: number): HelloResult | undefined {
    const at = this.recordHeaderFill;
    this.recordHeader[this.recordHeaderFill++] = c;
    if (at === 0 && c !== CONTENT_HANDSHAKE) return this.notHandshake();
    if (at === 1 && c !== 0x03) return this.notHandshake();
    if (at === 2 && c > 0x04) return this.notHandshake();
    if (this.recordHeaderFill < RECORD_HEADER) return undefined;
    const length = (this.recordHeader[3]! << 8) | this.recordHeader[4]!;
    // Handshake records are never empty (RFC 8446 5.1).
    if (length === 0 || length > MAX_RECORD) return malformed('bad length');
    this.recordHeaderFill = 0;
    this.recordLeft = length;
    this.firstRecord = false;
    return undefined;
  }

  /** Takes chunk[from, to), all within one record's fragment; a result when the message ends or breaks a rule. */
  private handshakeBytes(chunk: Uint8Array, from: number, to: number): HelloResult | undefined {
    let i = from;
    while (this.msgHeaderFill < HANDSHAKE_HEADER) {
      if (i === to) return undefined;
      this.msgHeader[this.msgHeaderFill++] = chunk[i++]!;
      if (this.msgHeaderFill === 1 && !isHelloType(this.msgHeader[0]!)) return malformed('not a hello');
    }
    if (this.msgLength < 0) {
      const length = (this.msgHeader[1]! << 16) | (this.msgHeader[2]! << 8) | this.msgHeader[3]!;
      if (HANDSHAKE_HEADER + length > this.maxBytes) return malformed('too long');
      this.msgLength = length;
    }
    const n = Math.min(to - i, this.msgLength - this.msgFill);
    if (n > 0) {
      this.msgParts.push(new Uint8Array(chunk.subarray(i, i + n))); // a copy: the caller's chunk is reused
      this.msgFill += n;
    }
    if (this.msgFill < this.msgLength) return undefined;
    return parseHelloMessage(this.msgHeader[0]!, this.joined());
  }

  /** The hello's body in one piece. */
  private joined(): Uint8Array {
    if (this.msgParts.length === 1) return this.msgParts[0]!;
    const out = new Uint8Array(this.msgLength);
    let at = 0;
    for (const p of this.msgParts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
