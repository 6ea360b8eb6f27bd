/**
 * DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): each message follows a
 * two-byte big-endian length. One framer per direction of a connection
 * takes bytes split anywhere and returns the whole messages, copied out of
 * the caller's chunks, without their prefixes. A length over maxMessage is
 * an error reported once; after it the stream is ignored, so buffering never
 * exceeds maxMessage bytes. Never throws.
 */

export interface DnsTcpPush {
  messages: Uint8Array[];
  error?: string;
}

export class DnsTcpFramer {
  private readonly maxMessage: number;
  /** The message being filled, sized by its prefix; null between messages. */
  private body: Uint8Array | null = null;
  private filled = 0;
  /** The prefix's first byte when a chunk ended between the two; -1 if none. */
  private prefixHigh = -1;
  private failed = false;

  constructor(maxMessage = 0xffff) {
    this.maxMessage = maxMessage;
  }

  push(chunk: Uint8Array): DnsTcpPush {
    const messages: Uint8Array[] = [];
    if (this.failed) return { messages };
    let i = 0;
    while (i < chunk.length) {
      if (this.body === null) {
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
          return { messages, error: `message length ${length} over ${this.maxMessage}` };
        }
        this.body = new Uint8Array(length);
        this.filled = 0;
      }
      const n = Math.min(this.body.length - this.filled, chunk.length - i);
      this.body.set(chunk.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === this.body.length) {
        messages.push(this.body);
        this.body = null;
      }
    }
    return { messages };
  }
}
