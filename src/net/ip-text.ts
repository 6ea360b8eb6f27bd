/**
 * Addresses and prefixes from text (the reverse of src/text/address.ts):
 * IPv4 dotted quads, IPv6 in any RFC 4291 spelling (with :: and a dotted
 * tail), and CIDR prefixes of either. Pure; null on anything malformed.
 */

export interface IpBytes {
  family: 4 | 6;
  bytes: Uint8Array;
}

export function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

export function parseIpv6(s: string): Uint8Array | null {
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): string[] | null => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const words: number[] = [];
  const all = [...head, ...(halves.length === 2 ? ['::'] : []), ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g === '::') {
      words.push(-1); // placeholder for the run of zeros
      continue;
    }
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (!v4) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    words.push(parseInt(g, 16));
  }
  const fixed = words.filter((w) => w >= 0).length;
  const gap = words.indexOf(-1);
  if (gap < 0 ? fixed !== 8 : fixed > 7) return null;
  const full: number[] = [];
  for (const w of words) {
    if (w >= 0) full.push(w);
    else for (let k = 0; k < 8 - fixed; k++) full.push(0);
  }
  const out = new Uint8Array(16);
  full.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function parseIp(s: string): IpBytes | null {
  const v4 = parseIpv4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(s);
  return v6 ? { family: 6, bytes: v6 } : null;
}

export interface Prefix {
  family: 4 | 6;
  bytes: Uint8Array;
  bits: number;
  text: string;
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b) || Number(b) > max) return null;
    bits = Number(b);
  }
  return { family: ip.family, bytes: ip.bytes, bits, text: s };
}

export function prefixContains(p: Prefix, ip: IpBytes): boolean {
  if (p.family !== ip.family) return false;
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((p.bytes[i]! & mask) !== (ip.bytes[i]! & mask)) return false;
  }
  return true;
}
