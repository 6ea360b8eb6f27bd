/**
 * Bytes for BPF globals, map keys and values: fixed-width integers in host
 * order (little-endian on the architectures wirelens builds for) and
 * zero-padded fixed-size text.
 */
export function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u64le(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** Sum over CPUs of a per-CPU u64 value (`slotBytes` apart). */
export function sumSlotsU64(v: Buffer, slotBytes: number): bigint {
  let sum = 0n;
  for (let off = 0; off + 8 <= v.length; off += slotBytes) sum += v.readBigUInt64LE(off);
  return sum;
}

/**
 * `text` as UTF-8 in exactly `size` bytes, zero-padded (undefined: all
 * zero). UTF-8 because task names hold the bytes the process set.
 */
export function fixedText(text: string | undefined, size: number): Buffer {
  const b = Buffer.alloc(size);
  if (text !== undefined) b.write(text, 'utf8');
  return b;
}
