/**
 * Addresses as text, numeric only, never resolved: one spelling for every
 * layer (packet decoding, records, DNS rdata, tables). IPv6 is written as
 * inet_ntop writes it (so as tcpdump, ss and dig do), which is RFC 5952's
 * form. A leaf: it imports nothing of ours.
 */

const HEX2: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Bytes as lower-case hex pairs joined by ':' (MAC addresses). */
export function macText(b: Uint8Array, off: number, n = 6): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ':' : '') + HEX2[b[off + i]!];
  return s;
}

export function hexText(b: Uint8Array, off: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX2[b[off + i]!];
  return s;
}

export function ipv4Text(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** IPv6 as inet_ntop writes it: the longest run of two or more zero groups as '::', IPv4-mapped tails dotted. */
export function ipv6Text(b: Uint8Array, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) s += '::';
      continue;
    }
    if (i > 0 && !s.endsWith(':')) s += ':';
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return s + ipv4Text(b, off + 12);
    }
    s += w[i]!.toString(16);
  }
  return s;
}

/** An address of 4 bytes (IPv4) or 16 (IPv6) as text. */
export function formatAddress(b: Uint8Array): string {
  return b.length === 4 ? ipv4Text(b, 0) : ipv6Text(b, 0);
}

/** addr:port, with brackets for IPv6. */
export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
