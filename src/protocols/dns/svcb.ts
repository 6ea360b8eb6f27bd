/**
 * SVCB and HTTPS rdata (RFC 9460) in presentation format:
 * `priority target key=value ...`. Known keys: mandatory, alpn,
 * no-default-alpn, port, ipv4hint, ech (base64), ipv6hint, dohpath, ohttp;
 * any other key prints as keyNNN=HEX (bare keyNNN when empty). Keys out of
 * ascending order, or a known key whose value has the wrong shape, make the
 * rdata not fit (null), and the caller prints it generically. Pure.
 */
import { readName } from './names';
import { base64, escapedLatin1, escapedString, hexUpper, ipv4, ipv6, latin1, u16 } from './text';

const KEY_NAMES = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint', 'dohpath', 'ohttp'];

export function svcKeyName(key: number): string {
  return KEY_NAMES[key] ?? `key${key}`;
}

function list(
  m: Uint8Array,
  o: number,
  len: number,
  size: number,
  item: (m: Uint8Array, o: number) => string,
): string | null {
  if (len === 0 || len % size !== 0) return null;
  const out: string[] = [];
  for (let p = o; p < o + len; p += size) out.push(item(m, p));
  return out.join(',');
}

/** alpn ids: each escaped for a comma-separated list (RFC 9460 appendix A.1), then as a string. */
function alpn(m: Uint8Array, o: number, len: number): string | null {
  const ids: string[] = [];
  let p = o;
  while (p < o + len) {
    const n = m[p]!;
    if (n === 0 || p + 1 + n > o + len) return null;
    ids.push(latin1(m, p + 1, n).replace(/[\\,]/g, (c) => '\\' + c));
    p += 1 + n;
  }
  return ids.length === 0 ? null : '"' + escapedLatin1(ids.join(',')) + '"';
}

/** The value text of one param (without "key="), '' for a bare key, or null if malformed. */
function value(key: number, m: Uint8Array, o: number, len: number): string | null {
  switch (key) {
    case 0:
      return list(m, o, len, 2, (b, p) => svcKeyName(u16(b, p)));
    case 1:
      return alpn(m, o, len);
    case 2:
    case 8:
      return len === 0 ? '' : null;
    case 3:
      return len === 2 ? String(u16(m, o)) : null;
    case 4:
      return list(m, o, len, 4, ipv4);
    case 5:
      return len === 0 ? null : base64(m, o, len);
    case 6:
      return list(m, o, len, 16, ipv6);
    case 7:
      return '"' + escapedString(m, o, len) + '"';
    default:
      return len === 0 ? '' : hexUpper(m, o, len);
  }
}

export function svcbText(m: Uint8Array, o: number, e: number): string | null {
  if (e - o < 3) return null;
  const target = readName(m, o + 2, e);
  if (!target.ok) return null;
  let s = `${u16(m, o)} ${target.name}`;
  let last = -1;
  let p = target.end;
  while (p < e) {
    if (p + 4 > e) return null;
    const key = u16(m, p);
    const len = u16(m, p + 2);
    if (key <= last || p + 4 + len > e) return null;
    const v = value(key, m, p + 4, len);
    if (v === null) return null;
    s += ' ' + svcKeyName(key) + (v === '' ? '' : '=' + v);
    last = key;
    p += 4 + len;
  }
  return s;
}
