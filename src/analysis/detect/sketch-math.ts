/**
 * Estimates from the kernel's sketches: distinct sources from HyperLogLog
 * registers (Flajolet et al. 2007, with linear counting for small counts),
 * distinct ports from a bitmap (linear counting, Whang et al. 1990). Pure.
 */

/** Distinct items counted into HyperLogLog registers (each the highest rank seen, 0: none). */
export function hllEstimate(reg: Uint8Array): number {
  const m = reg.length;
  if (m === 0) return 0;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    sum += 2 ** -reg[i]!;
    if (reg[i] === 0) zeros++;
  }
  if (zeros === m) return 0;
  const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m >= 64 ? 0.709 : m >= 32 ? 0.697 : 0.673;
  const raw = (alpha * m * m) / sum;
  if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(raw);
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function bitsSet(bits: Uint32Array): number {
  let n = 0;
  for (const w of bits) n += popcount32(w);
  return n;
}

/**
 * Distinct items hashed (at random) into a bitmap: -m ln(zeros/m), the maximum-likelihood estimate
 * (Whang et al. 1990); exact while no two items share a bit, within 2% (one standard error) to 2m items,
 * and a full bitmap reads as m ln m (a lower bound). Not for items mapped to bits by identity: a range
 * then sets one bit each and the bits set are the count.
 */
export function linearCount(bits: Uint32Array): number {
  const m = bits.length * 32;
  const set = bitsSet(bits);
  if (set === 0) return 0;
  const zeros = m - set;
  return Math.round(m * Math.log(m / Math.max(zeros, 1)));
}

/** a |= b. */
export function orInto(a: Uint32Array, b: Uint32Array): void {
  for (let i = 0; i < a.length && i < b.length; i++) a[i]! |= b[i]!;
}
