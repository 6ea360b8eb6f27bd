/**
 * The packet decoder: link layer by link type (Ethernet with VLAN tags,
 * Linux SLL and SLL2, raw IP, IPv4, IPv6, BSD loopback NULL), then IPv4 /
 * IPv6 (extension headers) / ARP, then TCP / UDP / ICMP / ICMPv6. Pure,
 * bounded, never throws: a cut header is named in `truncated`, a wrong one
 * in `malformed`, and decoding stops there.
 */
import { LINKTYPE } from '../../model/packet';
import { decodeArp } from './arp';
import { decodeEthernet, ETH_ARP, ETH_IPV4, ETH_IPV6 } from './ethernet';
import { decodeIcmp, decodeIcmp6 } from './icmp';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { decodeNull, decodeSll, decodeSll2 } from './sll';
import { decodeTcp } from './tcp';
import type { Decoded } from './types';
import { decodeUdp } from './udp';

export * from './types';
export { ipv4Text, ipv6Text, macText } from '../../text/address';
export { TH_ACK, TH_AE, TH_CWR, TH_ECE, TH_FIN, TH_PUSH, TH_RST, TH_SYN, TH_URG } from './tcp';
export { ETH_ARP, ETH_IPV4, ETH_IPV6, ETH_8021Q, ETH_8021AD } from './ethernet';
export { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING } from './sll';

/** Link types the decoder knows. */
export function linkTypeKnown(linkType: number): boolean {
  return (
    linkType === LINKTYPE.ETHERNET ||
    linkType === LINKTYPE.LINUX_SLL ||
    linkType === LINKTYPE.LINUX_SLL2 ||
    linkType === LINKTYPE.RAW ||
    linkType === LINKTYPE.IPV4 ||
    linkType === LINKTYPE.IPV6 ||
    linkType === LINKTYPE.NULL ||
    linkType === 12 // LINKTYPE_RAW as some OpenBSD files number it (DLT_RAW)
  );
}

export function decodePacket(b: Uint8Array, linkType: number): Decoded {
  const d: Decoded = {
    link: { kind: 'raw', headerLength: 0 },
    netOffset: 0,
    netType: 0,
    payloadOffset: 0,
    payloadLength: 0,
    payloadWireLength: 0,
  };
  let ok = true;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      ok = decodeEthernet(b, d);
      break;
    case LINKTYPE.LINUX_SLL:
      ok = decodeSll(b, d);
      break;
    case LINKTYPE.LINUX_SLL2:
      ok = decodeSll2(b, d);
      break;
    case LINKTYPE.NULL:
      ok = decodeNull(b, d);
      break;
    case LINKTYPE.RAW:
    case 12:
      if (b.length === 0) {
        d.truncated = 'ip';
        ok = false;
      } else d.netType = b[0]! >> 4 === 6 ? ETH_IPV6 : b[0]! >> 4 === 4 ? ETH_IPV4 : 0;
      break;
    case LINKTYPE.IPV4:
      d.netType = ETH_IPV4;
      break;
    case LINKTYPE.IPV6:
      d.netType = ETH_IPV6;
      break;
    default:
      d.link = { kind: 'unknown', linkType, headerLength: 0 };
      ok = false;
  }
  d.payloadOffset = d.netOffset;
  d.payloadLength = Math.max(0, b.length - d.netOffset);
  d.payloadWireLength = d.payloadLength;
  if (!ok) return d;
  decodeNetwork(b, d);
  return d;
}

function setPayload(d: Decoded, off: number, end: number, wire: number): void {
  d.payloadOffset = off;
  d.payloadLength = Math.max(0, end - off);
  d.payloadWireLength = Math.max(0, wire);
}

function decodeNetwork(b: Uint8Array, d: Decoded): void {
  const off = d.netOffset;
  let end: number;
  let proto: number;
  let wireEnd: number; // the datagram's length on the wire, relative to off
  if (d.netType === ETH_IPV4) {
    end = decodeIpv4(b, off, d);
    if (end < 0 || d.net?.kind !== 'ipv4') return;
    const ip = d.net;
    wireEnd = ip.totalLength;
    setPayload(d, off + ip.headerLength, end, wireEnd - ip.headerLength);
    if (ip.fragOffset !== 0) return;
    proto = ip.proto;
  } else if (d.netType === ETH_IPV6) {
    end = decodeIpv6(b, off, d);
    if (end < 0 || d.net?.kind !== 'ipv6') return;
    const ip = d.net;
    wireEnd = ip.payloadLength === 0 ? end - off : 40 + ip.payloadLength;
    setPayload(d, off + ip.headerLength, end, wireEnd - ip.headerLength);
    if (ip.frag && ip.frag.offset !== 0) return;
    proto = ip.proto;
  } else if (d.netType === ETH_ARP) {
    const e = decodeArp(b, off, d);
    if (e >= 0) setPayload(d, e, b.length, b.length - e);
    return;
  } else return;
  const t = d.payloadOffset;
  let p = -1;
  if (proto === 6) p = decodeTcp(b, t, end, d);
  else if (proto === 17) p = decodeUdp(b, t, end, d);
  else if (proto === 1 && d.netType === ETH_IPV4) p = decodeIcmp(b, t, end, d);
  else if (proto === 58 && d.netType === ETH_IPV6) p = decodeIcmp6(b, t, end, d);
  else return;
  if (p < 0) return;
  const ipPayloadWire = d.payloadWireLength;
  let wire = ipPayloadWire - (p - t);
  if (d.transport?.kind === 'udp' && d.transport.length >= 8) wire = Math.min(wire, d.transport.length - 8);
  setPayload(d, p, end, wire);
}
