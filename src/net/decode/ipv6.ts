/** IPv6 header and a bounded walk over extension headers (hop-by-hop, routing, fragment, destination options, AH). */
import { ipv6Text } from '../../text/address';
import { u16, u32 } from './bytes';
import type { Decoded, Ipv6 } from './types';

export const NH_HOPOPTS = 0;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_AH = 51;
export const NH_DSTOPTS = 60;
const MAX_EXT = 8;

/** Decodes the header and extension headers at `off`; returns the end of the datagram in the data, or -1. */
export function decodeIpv6(b: Uint8Array, off: number, d: Decoded): number {
  if (off + 40 > b.length) {
    d.truncated = 'ipv6';
    return -1;
  }
  const w = u32(b, off);
  if (w >>> 28 !== 6) {
    d.malformed = `ipv6 version ${w >>> 28}`;
    return -1;
  }
  const payloadLength = u16(b, off + 4);
  const next = b[off + 6]!;
  const ip: Ipv6 = {
    kind: 'ipv6',
    src: ipv6Text(b, off + 8),
    dst: ipv6Text(b, off + 24),
    tclass: (w >>> 20) & 0xff,
    flow: w & 0xfffff,
    payloadLength,
    hopLimit: b[off + 7]!,
    next,
    proto: next,
    ext: [],
    headerLength: 40,
  };
  d.net = ip;
  // A jumbogram (payload length 0) or a TSO packet: use what was captured.
  const end = payloadLength === 0 ? b.length : Math.min(b.length, off + 40 + payloadLength);
  let p = off + 40;
  let nh = next;
  while (ip.ext.length < MAX_EXT) {
    if (nh !== NH_HOPOPTS && nh !== NH_ROUTING && nh !== NH_FRAGMENT && nh !== NH_DSTOPTS && nh !== NH_AH) break;
    if (p + 8 > end) {
      d.truncated = 'ipv6 extension header';
      ip.ext.push(nh);
      ip.proto = nh;
      return -1;
    }
    ip.ext.push(nh);
    let len: number;
    if (nh === NH_FRAGMENT) {
      const fo = u16(b, p + 2);
      const after = Math.max(0, off + 40 + payloadLength - (p + 8));
      ip.frag = { offset: fo & 0xfff8, more: (fo & 1) !== 0, id: u32(b, p + 4), length: after };
      len = 8;
    } else if (nh === NH_AH) len = (b[p + 1]! + 2) * 4;
    else len = (b[p + 1]! + 1) * 8;
    nh = b[p]!;
    p += len;
    if (p > end) {
      d.truncated = 'ipv6 extension header';
      ip.proto = nh;
      return -1;
    }
    if (ip.frag && ip.frag.offset !== 0) break; // the rest is not a header
  }
  ip.proto = nh;
  ip.headerLength = p - off;
  return end;
}
