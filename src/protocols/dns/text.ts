/**
 * Presentation-format pieces shared by names and rdata, in dig's spelling:
 * escaped label bytes, quoted character-strings, hex, base64, base32hex,
 * IPv4/IPv6 addresses and DNSSEC timestamps. Every byte that is not
 * printable ASCII comes out as \DDD, so no output holds a raw control byte.
 * Callers check bounds first; these read exactly the bytes they are given.
 */
import { formatAddress } from '../../text/address';

function decimalEscape(c: number): string {
  return '\\' + String(c).padStart(3, '0');
}

/* Per byte, its spelling inside a label: printable ASCII as itself, the
 * characters special in master files backslash-quoted, the rest \DDD. */
const LABEL_CHAR: string[] = [];
/* Per byte, its spelling inside a quoted character-string: only '"' and
 * '\' are quoted; space is kept. */
const STRING_CHAR: string[] = [];
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  const printable = c > 0x20 && c < 0x7f;
  LABEL_CHAR.push(!printable ? decimalEscape(c) : '.\\"();@$'.includes(ch) ? '\\' + ch : ch);
  STRING_CHAR.push(c === 0x20 || printable ? (ch === '"' || ch === '\\' ? '\\' + ch : ch) : decimalEscape(c));
}

/* Bytes that stand for themselves, per context: a long run of them becomes
 * one String.fromCharCode instead of a string per byte (short ones are
 * quicker byte by byte). */
const LABEL_PLAIN = new Uint8Array(256).map((_, c) => (LABEL_CHAR[c]!.length === 1 ? 1 : 0));
const STRING_PLAIN = new Uint8Array(256).map((_, c) => (STRING_CHAR[c]!.length === 1 ? 1 : 0));

const SHORT = 24;
/* Arguments per String.fromCharCode call: rdata strings reach 64 KB. */
const RUN = 4096;

function escape(b: Uint8Array, off: number, len: number, plain: Uint8Array, spelled: string[]): string {
  const end = off + len;
  let i = off;
  let s = '';
  while (i < end) {
    const from = i;
    const stop = Math.min(end, from + RUN);
    while (i < stop && plain[b[i]!]) i++;
    if (i - from > SHORT) s += String.fromCharCode.apply(null, b.subarray(from, i) as unknown as number[]);
    else for (let k = from; k < i; k++) s += spelled[b[k]!]!;
    if (i < stop) s += spelled[b[i++]!]!;
  }
  return s;
}

export function labelText(b: Uint8Array, off: number, len: number): string {
  return escape(b, off, len, LABEL_PLAIN, LABEL_CHAR);
}

/** The bytes escaped as inside a quoted string, without the quotes. */
export function escapedString(b: Uint8Array, off: number, len: number): string {
  return escape(b, off, len, STRING_PLAIN, STRING_CHAR);
}

/** Escapes a JS string of byte values (code points 0..255) as inside quotes. */
export function escapedLatin1(text: string): string {
  let s = '';
  for (let i = 0; i < text.length; i++) s += STRING_CHAR[text.charCodeAt(i) & 0xff]!;
  return s;
}

export function quoted(b: Uint8Array, off: number, len: number): string {
  return '"' + escapedString(b, off, len) + '"';
}

function view(b: Uint8Array, off: number, len: number): Buffer {
  return Buffer.from(b.buffer, b.byteOffset + off, len);
}

export function hexUpper(b: Uint8Array, off: number, len: number): string {
  return view(b, off, len).toString('hex').toUpperCase();
}

export function base64(b: Uint8Array, off: number, len: number): string {
  return view(b, off, len).toString('base64');
}

export function latin1(b: Uint8Array, off: number, len: number): string {
  return view(b, off, len).toString('latin1');
}

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** RFC 4648 base32hex without padding, as NSEC3 owner hashes are written. */
export function base32hex(b: Uint8Array, off: number, len: number): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = off; i < off + len; i++) {
    acc = ((acc << 8) | b[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32HEX[(acc >> bits) & 31];
    }
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31];
  return s;
}

export function ipv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text (the one formatter wirelens prints addresses with). */
export function ipv6(b: Uint8Array, off: number): string {
  return formatAddress(b.subarray(off, off + 16));
}

/** RRSIG times as YYYYMMDDHHmmSS (UTC), from seconds since the epoch. */
export function dnsTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds())
  );
}

export function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
