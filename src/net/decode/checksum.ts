/** Internet checksums (RFC 1071) of TCP, UDP and ICMPv6 segments with their IPv4/IPv6 pseudo-header. */

function sumWords(b: Uint8Array, from: number, to: number, s: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  return s;
}

const fold = (s: number): number => {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
};

/**
 * The checksum verification value of the segment b[start, start + len): 0
 * when the checksum field is right. `net` is the offset of the IP header,
 * `v6` its version, `proto` the upper-layer protocol. The caller checks that
 * the whole segment was captured.
 */
export function segmentChecksum(
  b: Uint8Array,
  net: number,
  v6: boolean,
  proto: number,
  start: number,
  len: number,
): number {
  let s = v6 ? sumWords(b, net + 8, net + 40, 0) : sumWords(b, net + 12, net + 20, 0);
  s += proto + (len & 0xffff) + Math.floor(len / 65536);
  s = sumWords(b, start, start + len, s);
  return ~fold(s) & 0xffff;
}

/** The checksum field value that would have been right (tcpdump's "incorrect -> 0x...."). */
export function checksumShouldBe(field: number, verify: number): number {
  return fold(field + verify);
}
