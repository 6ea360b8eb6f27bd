/** ICMP and ICMPv6: type, code, echo id/seq, neighbour discovery target, and the start of a quoted packet. */
import { ipv4Text, ipv6Text } from '../../text/address';
import { u16, u32 } from './bytes';
import type { Decoded, Icmp, IcmpQuote } from './types';

function quoteV4(b: Uint8Array, off: number, end: number): IcmpQuote | undefined {
  if (off + 20 > end || b[off]! >> 4 !== 4) return undefined;
  const hl = (b[off]! & 0xf) * 4;
  const q: IcmpQuote = { src: ipv4Text(b, off + 12), dst: ipv4Text(b, off + 16), proto: b[off + 9]! };
  const t = off + hl;
  if (hl >= 20 && (q.proto === 6 || q.proto === 17) && t + 4 <= end) {
    q.sport = u16(b, t);
    q.dport = u16(b, t + 2);
  }
  return q;
}

function quoteV6(b: Uint8Array, off: number, end: number): IcmpQuote | undefined {
  if (off + 40 > end || b[off]! >> 4 !== 6) return undefined;
  const q: IcmpQuote = { src: ipv6Text(b, off + 8), dst: ipv6Text(b, off + 24), proto: b[off + 6]! };
  const t = off + 40;
  if ((q.proto === 6 || q.proto === 17) && t + 4 <= end) {
    q.sport = u16(b, t);
    q.dport = u16(b, t + 2);
  }
  return q;
}

/** ICMP (IPv4) at off; returns the offset after the 8-byte header or -1. */
export function decodeIcmp(b: Uint8Array, off: number, end: number, d: Decoded): number {
  if (off + 4 > end) {
    d.truncated = 'icmp';
    return -1;
  }
  const m: Icmp = { kind: 'icmp', type: b[off]!, code: b[off + 1]!, checksum: u16(b, off + 2) };
  d.transport = m;
  if (off + 8 > end) {
    d.truncated = 'icmp';
    return -1;
  }
  const t = m.type;
  if (t === 0 || t === 8 || t === 13 || t === 14 || t === 15 || t === 16 || t === 17 || t === 18) {
    m.id = u16(b, off + 4);
    m.seq = u16(b, off + 6);
  } else if (t === 3 || t === 4 || t === 5 || t === 11 || t === 12) {
    if (t === 3 && m.code === 4) m.mtu = u16(b, off + 6);
    if (t === 5) m.gateway = ipv4Text(b, off + 4);
    const q = quoteV4(b, off + 8, end);
    if (q) m.quote = q;
  }
  return off + 8;
}

/** ICMPv6 at off; returns the offset after the 8-byte header or -1. */
export function decodeIcmp6(b: Uint8Array, off: number, end: number, d: Decoded): number {
  if (off + 4 > end) {
    d.truncated = 'icmp6';
    return -1;
  }
  const m: Icmp = { kind: 'icmp6', type: b[off]!, code: b[off + 1]!, checksum: u16(b, off + 2) };
  d.transport = m;
  if (off + 8 > end) {
    d.truncated = 'icmp6';
    return -1;
  }
  const t = m.type;
  if (t === 128 || t === 129) {
    m.id = u16(b, off + 4);
    m.seq = u16(b, off + 6);
  } else if (t === 135 || t === 136 || t === 137) {
    if (off + 24 <= end) m.target = ipv6Text(b, off + 8);
    else d.truncated = 'icmp6';
  } else if (t >= 1 && t <= 4) {
    if (t === 2) m.mtu = u32(b, off + 4);
    const q = quoteV6(b, off + 8, end);
    if (q) m.quote = q;
  }
  return off + 8;
}
