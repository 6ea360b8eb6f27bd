/**
 * DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): each message follows a
 * two-byte big-endian length. One framer per direction of a connection
 * takes bytes split anywhere and returns the whole messages, copied out of
 * the caller's chunks, without their prefixes. A length over maxMessage is
 * an error reported once; after it the stream is ignored. A message is kept
 * as the bytes that came, never sized by its prefix alone, so buffering is
 * what arrived, at most maxMessage bytes. Never throws.
 */

export interface DnsTcpPush {
  messages: Uint8Array[];
  error?: string;
}

/**
 * Where a framer stood, without its bytes: enough to take a stream up again
 * at the next message boundary. skip: bytes of the current message still to
 * come (0 at a boundary); prefixHigh: a length prefix's first byte when the
 * stream stopped between the two (-1 if not).
 */
export interface FramerMark {
  skip: number;
  prefixHigh: number;
}

export class DnsTcpFramer {
  private readonly maxMessage: number;
  /** The message being filled: its announced length, or -1 between messages. */
  private length = -1;
  private parts: Uint8Array[] = [];
  private filled = 0;
  /** Bytes to pass over before the next prefix (a message dropped part way). */
  private skip = 0;
  /** The prefix's first byte when a chunk ended between the two; -1 if none. */
  private prefixHigh = -1;
  private failed = false;

  constructor(maxMessage = 0xffff, mark?: FramerMark) {
    this.maxMessage = maxMessage;
    if (mark) {
      this.skip = mark.skip;
      this.prefixHigh = mark.prefixHigh;
    }
  }

  /** Bytes of a message begun and not finished, held here. */
  get buffered(): number {
    return this.filled;
  }

  /** Whether the stream stands between messages (nothing begun, nothing to pass over). */
  get atBoundary(): boolean {
    return this.length < 0 && this.prefixHigh < 0 && this.skip === 0;
  }

  /** A length over the bound was seen: nothing more is framed. */
  /**
   * Drops the message begun (its bytes) and returns where the next one
   * starts, or null once broken. `cut`: a message was begun and is lost.
   */
  park(): { mark: FramerMark; cut: boolean } | null {
    if (this.failed) return null;
    const cut = this.length >= 0;
    const mark = { skip: cut ? this.skip + this.length - this.filled : this.skip, prefixHigh: this.prefixHigh };
    this.length = -1;
    this.parts = [];
    this.filled = 0;
    return { mark, cut };
  }

  push(chunk: Uint8Array): DnsTcpPush {
    const messages: Uint8Array[] = [];
    if (this.failed) return { messages };
    let i = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      i = n;
    }
    while (i < chunk.length) {
      if (this.length < 0) {
        let length: number;
        if (this.prefixHigh >= 0) {
          length = (this.prefixHigh << 8) | chunk[i]!;
          this.prefixHigh = -1;
          i += 1;
        } else if (i + 1 < chunk.length) {
          length = (chunk[i]! << 8) | chunk[i + 1]!;
          i += 2;
        } else {
          this.prefixHigh = chunk[i]!;
          break;
        }
        if (length > this.maxMessage) {
          this.failed = true;
          this.parts = [];
          this.filled = 0;
          return { messages, error: `message length ${length} over ${this.maxMessage}` };
        }
        this.length = length;
        this.filled = 0;
      }
      const n = Math.min(this.length - this.filled, chunk.length - i);
      if (n > 0) {
        this.parts.push(new Uint8Array(chunk.subarray(i, i + n))); // a copy (Buffer#slice would be a view): the caller's chunk is reused
        this.filled += n;
        i += n;
      }
      if (this.filled === this.length) {
        messages.push(this.take());
        this.length = -1;
      }
    }
    return { messages };
  }

  /** The message's bytes in one piece. */
  private take(): Uint8Array {
    const parts = this.parts;
    this.parts = [];
    this.filled = 0;
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
