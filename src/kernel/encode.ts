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

/**
 * `text` as UTF-8 in exactly `size` bytes, zero-padded (undefined: all
 * zero). UTF-8 because task names hold the bytes the process set.
 */
export function fixedText(text: string | undefined, size: number): Buffer {
  const b = Buffer.alloc(size);
  if (text !== undefined) b.write(text, 'utf8');
  return b;
}
