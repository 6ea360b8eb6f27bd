/**
 * Hand-built pcap and pcapng files in either byte order, for reader tests:
 * independent of the writer under test (only what the spec says).
 */
export class Bytes {
  private parts: number[] = [];
  constructor(private readonly be: boolean) {}
  u8(n: number): this {
    this.parts.push(n & 0xff);
    return this;
  }
  u16(n: number): this {
    const b = [(n >> 8) & 0xff, n & 0xff];
    this.parts.push(...(this.be ? b : b.reverse()));
    return this;
  }
  u32(n: number): this {
    const b = [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    this.parts.push(...(this.be ? b : b.reverse()));
    return this;
  }
  u64(n: bigint): this {
    const hi = Number(n >> 32n) >>> 0;
    const lo = Number(n & 0xffffffffn) >>> 0;
    return this.be ? this.u32(hi).u32(lo) : this.u32(lo).u32(hi);
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  buffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

export type Opt = [number, ArrayLike<number>];

export function pcapngBlock(be: boolean, type: number, body: (b: Bytes) => void, opts: Opt[] = []): Buffer {
  const inner = new Bytes(be);
  body(inner);
  inner.pad4();
  for (const [code, v] of opts) inner.u16(code).u16(v.length).raw(v).pad4();
  if (opts.length) inner.u32(0);
  const len = inner.length + 12;
  return new Bytes(be).u32(type).u32(len).raw(inner.buffer()).u32(len).buffer();
}

export const shb = (be: boolean, opts: Opt[] = []) =>
  pcapngBlock(be, 0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff), opts);

export const idb = (be: boolean, linkType: number, snaplen: number, opts: Opt[] = []) =>
  pcapngBlock(be, 1, (b) => b.u16(linkType).u16(0).u32(snaplen), opts);

export const epb = (be: boolean, iface: number, ticks: bigint, data: Buffer, wire: number, opts: Opt[] = []) =>
  pcapngBlock(
    be,
    6,
    (b) => {
      b.u32(iface)
        .u32(Number(ticks >> 32n) >>> 0)
        .u32(Number(ticks & 0xffffffffn) >>> 0)
        .u32(data.length)
        .u32(wire)
        .raw(data);
    },
    opts,
  );

export const spb = (be: boolean, data: Buffer, wire: number) => pcapngBlock(be, 3, (b) => b.u32(wire).raw(data));

export const pb = (be: boolean, iface: number, ticks: bigint, data: Buffer, wire: number, opts: Opt[] = []) =>
  pcapngBlock(
    be,
    2,
    (b) => {
      b.u16(iface)
        .u16(0)
        .u32(Number(ticks >> 32n) >>> 0)
        .u32(Number(ticks & 0xffffffffn) >>> 0)
        .u32(data.length)
        .u32(wire)
        .raw(data);
    },
    opts,
  );

export const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];
export const u32opt = (be: boolean, n: number): number[] => [...new Bytes(be).u32(n).buffer()];
export const i64opt = (be: boolean, n: bigint): number[] => [...new Bytes(be).u64(BigInt.asUintN(64, n)).buffer()];

export function pcapFile(
  be: boolean,
  ns: boolean,
  linkType: number,
  recs: { sec: number; frac: number; data: Buffer; wire?: number }[],
): Buffer {
  const b = new Bytes(be)
    .u32(ns ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(262144)
    .u32(linkType);
  for (const r of recs)
    b.u32(r.sec)
      .u32(r.frac)
      .u32(r.data.length)
      .u32(r.wire ?? r.data.length)
      .raw(r.data);
  return b.buffer();
}
