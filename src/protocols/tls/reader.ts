/**
 * A bounds-checked cursor over part of a byte array, for the length-prefixed
 * vectors of TLS. Reads past the end return -1 or undefined; nothing throws.
 */
export class Reader {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  static of(b: Uint8Array): Reader {
    return new Reader(b, 0, b.length);
  }

  get left(): number {
    return this.end - this.pos;
  }

  /** One byte, or -1 past the end. */
  u8(): number {
    return this.pos < this.end ? this.b[this.pos++]! : -1;
  }

  /** A big-endian 16-bit number, or -1 past the end. */
  u16(): number {
    if (this.left < 2) return -1;
    const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** Steps over n bytes; false (and no step) if fewer are left. */
  skip(n: number): boolean {
    if (n < 0 || this.left < n) return false;
    this.pos += n;
    return true;
  }

  /** A reader over the next n bytes, stepping past them; undefined if fewer are left. */
  take(n: number): Reader | undefined {
    if (n < 0 || this.left < n) return undefined;
    const r = new Reader(this.b, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** A vector with a one-byte length: a reader over its contents. */
  vec8(): Reader | undefined {
    return this.take(this.u8());
  }

  /** A vector with a two-byte length: a reader over its contents. */
  vec16(): Reader | undefined {
    return this.take(this.u16());
  }
}
