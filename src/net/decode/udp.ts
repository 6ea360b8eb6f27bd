/** UDP header. */
import { u16 } from './bytes';
import type { Decoded } from './types';

/** Decodes the UDP header at off; returns the payload offset or -1. */
export function decodeUdp(b: Uint8Array, off: number, end: number, d: Decoded): number {
  if (off + 8 > end) {
    d.truncated = 'udp';
    return -1;
  }
  d.transport = {
    kind: 'udp',
    sport: u16(b, off),
    dport: u16(b, off + 2),
    length: u16(b, off + 4),
    checksum: u16(b, off + 6),
  };
  return off + 8;
}
