/**
 * Puts together heads that travel in several pieces: a request written a few
 * bytes at a time, a response read a few bytes at a time. The kernel copies
 * head chunks and every small chunk whole (WL_HTTP_PIECE_MAX), so a head cut
 * into pieces arrives as one start chunk (or, for a response whose first
 * piece was too short to recognise, a small piece) followed by small pieces.
 * One gather per connection direction, bounded by HEAD_MAX bytes. Pure.
 */
import { HttpChunk } from '../events/http';
import { headEnds } from '../protocols/http1/head';

/** What the kernel copies of a head at most (WL_HTTP_HEAD_MAX). */
export const HEAD_MAX = 2048;

export class HeadGather {
  private readonly parts: Uint8Array[] = [];
  private captured = 0;
  private moved = 0;
  private whole = true;
  private last: number;
  private readonly first: HttpChunk;

  /**
   * @param first the chunk the head begins in
   * @param rebuilt the kernel did not see a head begin there: it numbered none
   */
  constructor(
    first: HttpChunk,
    private readonly rebuilt: boolean,
  ) {
    this.first = { ...first, payload: new Uint8Array(0) };
    this.last = first.tsNs;
    this.add(first);
  }

  /** Whether a chunk begins a head that does not end in it (copied whole, no blank line yet): gather it. */
  static wanted(c: HttpChunk): boolean {
    return c.payload.length === c.len && c.len < HEAD_MAX && !headEnds(c.payload);
  }

  /** When the last piece came. */
  get lastTsNs(): number {
    return this.last;
  }

  /** Adds the next piece; true when the head is complete (or can grow no more). */
  add(c: HttpChunk): boolean {
    const room = HEAD_MAX - this.captured;
    // A copy: the chunk's payload is a view of the ring buffer's batch.
    const part = c.payload.slice(0, room);
    this.parts.push(part);
    this.captured += part.length;
    this.moved += c.len;
    this.last = c.tsNs;
    if (part.length < c.len) this.whole = false;
    return !this.whole || this.captured >= HEAD_MAX || headEnds(this.joined());
  }

  /** The head as one start chunk of the first piece's time, process and numbering. */
  chunk(): HttpChunk {
    return {
      ...this.first,
      start: true,
      tail: false,
      seq: this.rebuilt ? 0 : this.first.seq,
      len: this.moved,
      payload: this.joined(),
    };
  }

  private joined(): Uint8Array {
    if (this.parts.length === 1) return this.parts[0]!;
    const all = Buffer.concat(this.parts, this.captured);
    this.parts.length = 0;
    this.parts.push(all);
    return all;
  }
}
