/** ARP (and RARP): addresses decoded for Ethernet/IPv4, the fixed part for others. */
import { ipv4Text, macText } from '../../text/address';
import { u16 } from './bytes';
import type { Arp, Decoded } from './types';

export function decodeArp(b: Uint8Array, off: number, d: Decoded): number {
  if (off + 8 > b.length) {
    d.truncated = 'arp';
    return -1;
  }
  const a: Arp = {
    kind: 'arp',
    hwType: u16(b, off),
    protoType: u16(b, off + 2),
    hwLen: b[off + 4]!,
    protoLen: b[off + 5]!,
    op: u16(b, off + 6),
  };
  d.net = a;
  const end = off + 8 + 2 * a.hwLen + 2 * a.protoLen;
  if (end > b.length) {
    d.truncated = 'arp';
    return -1;
  }
  if (a.hwLen === 6 && a.protoLen === 4 && a.protoType === 0x0800) {
    a.sha = macText(b, off + 8);
    a.spa = ipv4Text(b, off + 14);
    a.tha = macText(b, off + 18);
    a.tpa = ipv4Text(b, off + 24);
  }
  return end;
}
