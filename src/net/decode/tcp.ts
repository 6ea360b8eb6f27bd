/** TCP header and options (mss, wscale, sackOK, sack blocks, timestamps, TFO; others kept as hex). */
import { hexText } from '../../text/address';
import { u16, u32 } from './bytes';
import type { Decoded, Tcp, TcpOption } from './types';

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PUSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;
export const TH_ECE = 0x40;
export const TH_CWR = 0x80;
export const TH_AE = 0x100;

/** Options between off and end (the header's end): bounded by the header length (at most 40 bytes). */
export function tcpOptions(b: Uint8Array, off: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  while (off < end) {
    const code = b[off]!;
    if (code === 0) {
      out.push({ kind: 'eol' });
      break;
    }
    if (code === 1) {
      out.push({ kind: 'nop' });
      off++;
      continue;
    }
    if (off + 2 > end) {
      out.push({ kind: 'bad', code });
      break;
    }
    const len = b[off + 1]!;
    if (len < 2 || off + len > end) {
      out.push({ kind: 'bad', code });
      break;
    }
    const v = off + 2;
    const n = len - 2;
    if (code === 2 && n === 2) out.push({ kind: 'mss', value: u16(b, v) });
    else if (code === 3 && n === 1) out.push({ kind: 'wscale', value: b[v]! });
    else if (code === 4 && n === 0) out.push({ kind: 'sackOK' });
    else if (code === 5 && n % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let i = 0; i < n; i += 8) blocks.push([u32(b, v + i), u32(b, v + i + 4)]);
      out.push({ kind: 'sack', blocks });
    } else if (code === 8 && n === 8) out.push({ kind: 'ts', val: u32(b, v), ecr: u32(b, v + 4) });
    else if (code === 34) out.push({ kind: 'tfo', cookie: hexText(b, v, n) });
    else out.push({ kind: 'other', code, data: hexText(b, v, n) });
    off += len;
  }
  return out;
}

/** Decodes the TCP header at off (end: end of the IP datagram in the data). Returns the payload offset or -1. */
export function decodeTcp(b: Uint8Array, off: number, end: number, d: Decoded): number {
  if (off + 20 > end) {
    d.truncated = 'tcp';
    return -1;
  }
  const hl = (b[off + 12]! >> 4) * 4;
  const t: Tcp = {
    kind: 'tcp',
    sport: u16(b, off),
    dport: u16(b, off + 2),
    seq: u32(b, off + 4),
    ack: u32(b, off + 8),
    headerLength: hl,
    flags: b[off + 13]! | ((b[off + 12]! & 1) << 8),
    window: u16(b, off + 14),
    checksum: u16(b, off + 16),
    urgent: u16(b, off + 18),
    options: [],
  };
  d.transport = t;
  if (hl < 20) {
    d.malformed = `tcp header length ${hl} < 20`;
    return -1;
  }
  if (off + hl > end) {
    d.truncated = 'tcp';
    t.options = tcpOptions(b, off + 20, end);
    return -1;
  }
  t.options = tcpOptions(b, off + 20, off + hl);
  return off + hl;
}
