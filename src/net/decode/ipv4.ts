/** IPv4 header: fragments (offset, MF, DF, id), options length, total length against what was captured. */
import { ipv4Text } from '../../text/address';
import { u16 } from './bytes';
import type { Decoded } from './types';

/** Decodes the header at `off`; returns the end of the IP datagram in the data (or -1 when cut or wrong). */
export function decodeIpv4(b: Uint8Array, off: number, d: Decoded): number {
  if (off + 20 > b.length) {
    d.truncated = 'ipv4';
    return -1;
  }
  const vi = b[off]!;
  if (vi >> 4 !== 4) {
    d.malformed = `ipv4 version ${vi >> 4}`;
    return -1;
  }
  const hl = (vi & 0xf) * 4;
  if (hl < 20) {
    d.malformed = `ipv4 header length ${hl} < 20`;
    return -1;
  }
  const totalLength = u16(b, off + 2);
  const frag = u16(b, off + 6);
  d.net = {
    kind: 'ipv4',
    src: ipv4Text(b, off + 12),
    dst: ipv4Text(b, off + 16),
    headerLength: hl,
    tos: b[off + 1]!,
    totalLength,
    id: u16(b, off + 4),
    df: (frag & 0x4000) !== 0,
    mf: (frag & 0x2000) !== 0,
    fragOffset: (frag & 0x1fff) * 8,
    ttl: b[off + 8]!,
    proto: b[off + 9]!,
    checksum: u16(b, off + 10),
    optionsLength: hl - 20,
  };
  if (off + hl > b.length) {
    d.truncated = 'ipv4';
    return -1;
  }
  if (totalLength < hl) {
    d.malformed = `ipv4 total length ${totalLength} < header length ${hl}`;
    return -1;
  }
  return Math.min(b.length, off + totalLength);
}
