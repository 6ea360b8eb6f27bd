/** Linux "cooked" headers (SLL, SLL2, as `tcpdump -i any` writes them) and BSD loopback (NULL). */
import { macText } from '../../text/address';
import { u16, u32 } from './bytes';
import { ETH_IPV4, ETH_IPV6 } from './ethernet';
import type { Decoded } from './types';

export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

/** LINKTYPE_LINUX_SLL: pkttype, hatype, halen, 8 address bytes, protocol (16 bytes). */
export function decodeSll(b: Uint8Array, d: Decoded): boolean {
  if (b.length < 16) {
    d.link = { kind: 'sll', pktType: 0, haType: 0, addr: '', protocol: 0, headerLength: 0 };
    d.truncated = 'sll';
    return false;
  }
  const halen = Math.min(u16(b, 4), 8);
  const protocol = u16(b, 14);
  d.link = {
    kind: 'sll',
    pktType: u16(b, 0),
    haType: u16(b, 2),
    addr: macText(b, 6, halen),
    protocol,
    headerLength: 16,
  };
  d.netOffset = 16;
  d.netType = protocol;
  return true;
}

/** LINKTYPE_LINUX_SLL2: protocol, reserved, ifindex, hatype, pkttype, halen, 8 address bytes (20 bytes). */
export function decodeSll2(b: Uint8Array, d: Decoded): boolean {
  if (b.length < 20) {
    d.link = { kind: 'sll2', pktType: 0, haType: 0, addr: '', protocol: 0, headerLength: 0 };
    d.truncated = 'sll2';
    return false;
  }
  const protocol = u16(b, 0);
  const halen = Math.min(b[11]!, 8);
  d.link = {
    kind: 'sll2',
    pktType: b[10]!,
    haType: u16(b, 8),
    addr: macText(b, 12, halen),
    protocol,
    ifindex: u32(b, 4),
    headerLength: 20,
  };
  d.netOffset = 20;
  d.netType = protocol;
  return true;
}

/** LINKTYPE_NULL: a 4-byte address family in the writing host's byte order. */
export function decodeNull(b: Uint8Array, d: Decoded): boolean {
  if (b.length < 4) {
    d.link = { kind: 'null', family: 0, headerLength: 0 };
    d.truncated = 'null';
    return false;
  }
  let family = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  if ((family & 0xffff0000) !== 0) family = u32(b, 0); // written big-endian
  d.link = { kind: 'null', family, headerLength: 4 };
  d.netOffset = 4;
  d.netType = family === 2 ? ETH_IPV4 : family === 10 || family === 24 || family === 28 || family === 30 ? ETH_IPV6 : 0;
  return true;
}
