/**
 * One record's RDATA in presentation format, as dig prints it with
 * +nomultiline: addresses, target names with a trailing dot, quoted
 * character-strings, hex/base64 for key material. Rdata that does not fit
 * its type (wrong length, a string or name running past the rdata, a name
 * that does not end exactly at the rdata's end) and every type without a
 * decoder here print in the RFC 3597 generic form "\# len HEX", so a bad
 * record never fails the message. Pure; never throws.
 */
import { readName } from './names';
import { svcbText } from './svcb';
import { TYPE, typeName } from './types';
import { base32hex, base64, dnsTime, hexUpper, ipv4, ipv6, quoted, u16, u32 } from './text';

/** Reads the rdata of one type from msg[off, end); null when it does not fit. */
type Present = (msg: Uint8Array, off: number, end: number) => string | null;

export function genericRdata(msg: Uint8Array, off: number, len: number): string {
  return len === 0 ? '\\# 0' : `\\# ${len} ${hexUpper(msg, off, len)}`;
}

/** A name that must fill the rest of the rdata exactly. */
function lastName(msg: Uint8Array, off: number, end: number): string | null {
  const n = readName(msg, off, end);
  return n.ok && n.end === end ? n.name : null;
}

/** Character-strings from off to end, quoted; null if one overruns. */
function strings(msg: Uint8Array, off: number, end: number, out: string[]): number | null {
  let p = off;
  while (p < end) {
    const len = msg[p]!;
    if (p + 1 + len > end) return null;
    out.push(quoted(msg, p + 1, len));
    p += 1 + len;
  }
  return out.length;
}

/** One character-string at off: [text, next offset], or null. */
function string(msg: Uint8Array, off: number, end: number): [string, number] | null {
  if (off >= end || off + 1 + msg[off]! > end) return null;
  return [quoted(msg, off + 1, msg[off]!), off + 1 + msg[off]!];
}

/** NSEC-style type bitmap (RFC 4034 section 4.1.2): the types, space-separated. */
function typeBitmap(msg: Uint8Array, off: number, end: number): string | null {
  const types: string[] = [];
  let last = -1;
  let p = off;
  while (p < end) {
    if (p + 2 > end) return null;
    const window = msg[p]!;
    const n = msg[p + 1]!;
    if (window <= last || n < 1 || n > 32 || p + 2 + n > end) return null;
    for (let i = 0; i < n; i++) {
      const bits = msg[p + 2 + i]!;
      for (let bit = 0; bit < 8; bit++) if (bits & (0x80 >> bit)) types.push(typeName(window * 256 + i * 8 + bit));
    }
    last = window;
    p += 2 + n;
  }
  return types.join(' ');
}

const address4: Present = (m, o, e) => (e - o === 4 ? ipv4(m, o) : null);
const address6: Present = (m, o, e) => (e - o === 16 ? ipv6(m, o) : null);
const target: Present = lastName;

const soa: Present = (m, o, e) => {
  const mname = readName(m, o, e);
  if (!mname.ok) return null;
  const rname = readName(m, mname.end, e);
  if (!rname.ok || rname.end + 20 !== e) return null;
  const p = rname.end;
  const nums = [0, 4, 8, 12, 16].map((k) => u32(m, p + k)).join(' ');
  return `${mname.name} ${rname.name} ${nums}`;
};

/** MX, KX, AFSDB, RT: a 16-bit number and a name. */
const numberAndName: Present = (m, o, e) => {
  if (e - o < 3) return null;
  const name = lastName(m, o + 2, e);
  return name === null ? null : `${u16(m, o)} ${name}`;
};

/** MINFO, RP: two names. */
const twoNames: Present = (m, o, e) => {
  const first = readName(m, o, e);
  if (!first.ok) return null;
  const second = lastName(m, first.end, e);
  return second === null ? null : `${first.name} ${second}`;
};

const srv: Present = (m, o, e) => {
  if (e - o < 7) return null;
  const name = lastName(m, o + 6, e);
  return name === null ? null : `${u16(m, o)} ${u16(m, o + 2)} ${u16(m, o + 4)} ${name}`;
};

const txt: Present = (m, o, e) => {
  const out: string[] = [];
  return o < e && strings(m, o, e, out) !== null ? out.join(' ') : null;
};

const hinfo: Present = (m, o, e) => {
  const out: string[] = [];
  return strings(m, o, e, out) === 2 ? out.join(' ') : null;
};

const naptr: Present = (m, o, e) => {
  if (e - o < 4) return null;
  const parts = [String(u16(m, o)), String(u16(m, o + 2))];
  let p = o + 4;
  for (let i = 0; i < 3; i++) {
    const s = string(m, p, e);
    if (!s) return null;
    parts.push(s[0]);
    p = s[1];
  }
  const replacement = lastName(m, p, e);
  return replacement === null ? null : parts.join(' ') + ' ' + replacement;
};

const caa: Present = (m, o, e) => {
  if (e - o < 2) return null;
  const tagLen = m[o + 1]!;
  if (tagLen === 0 || o + 2 + tagLen > e) return null;
  let tag = '';
  for (let i = o + 2; i < o + 2 + tagLen; i++) {
    const c = m[i]!;
    const alnum = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
    if (!alnum) return null;
    tag += String.fromCharCode(c);
  }
  const v = o + 2 + tagLen;
  return `${m[o]} ${tag} ${quoted(m, v, e - v)}`;
};

/** DS, CDS, DLV: key tag, algorithm, digest type, digest. */
const ds: Present = (m, o, e) =>
  e - o < 5 ? null : `${u16(m, o)} ${m[o + 2]} ${m[o + 3]} ${hexUpper(m, o + 4, e - o - 4)}`;

/** DNSKEY, CDNSKEY, KEY: flags, protocol, algorithm, public key. */
const dnskey: Present = (m, o, e) => {
  if (e - o < 4) return null;
  const head = `${u16(m, o)} ${m[o + 2]} ${m[o + 3]}`;
  return e - o === 4 ? head : `${head} ${base64(m, o + 4, e - o - 4)}`;
};

/** RRSIG, SIG (RFC 4034 section 3.2). */
const rrsig: Present = (m, o, e) => {
  if (e - o < 19) return null;
  const signer = readName(m, o + 18, e);
  if (!signer.ok) return null;
  const head = [
    typeName(u16(m, o)),
    m[o + 2],
    m[o + 3],
    u32(m, o + 4),
    dnsTime(u32(m, o + 8)),
    dnsTime(u32(m, o + 12)),
    u16(m, o + 16),
    signer.name,
  ].join(' ');
  return signer.end === e ? head : `${head} ${base64(m, signer.end, e - signer.end)}`;
};

const nsec: Present = (m, o, e) => {
  const next = readName(m, o, e);
  if (!next.ok) return null;
  const types = typeBitmap(m, next.end, e);
  return types === null ? null : types === '' ? next.name : `${next.name} ${types}`;
};

/** Algorithm, flags, iterations, salt (hex, "-" when empty): [text, next offset]. */
function nsec3Head(m: Uint8Array, o: number, e: number): [string, number] | null {
  if (e - o < 5) return null;
  const saltLen = m[o + 4]!;
  if (o + 5 + saltLen > e) return null;
  const salt = saltLen === 0 ? '-' : hexUpper(m, o + 5, saltLen);
  return [`${m[o]} ${m[o + 1]} ${u16(m, o + 2)} ${salt}`, o + 5 + saltLen];
}

const nsec3: Present = (m, o, e) => {
  const head = nsec3Head(m, o, e);
  if (!head) return null;
  const p = head[1];
  if (p >= e || p + 1 + m[p]! > e) return null;
  const hash = base32hex(m, p + 1, m[p]!);
  const types = typeBitmap(m, p + 1 + m[p]!, e);
  return types === null ? null : types === '' ? `${head[0]} ${hash}` : `${head[0]} ${hash} ${types}`;
};

const nsec3param: Present = (m, o, e) => {
  const head = nsec3Head(m, o, e);
  return head && head[1] === e ? head[0] : null;
};

/** TLSA, SMIMEA: usage, selector, matching type, data. */
const tlsa: Present = (m, o, e) =>
  e - o < 4 ? null : `${m[o]} ${m[o + 1]} ${m[o + 2]} ${hexUpper(m, o + 3, e - o - 3)}`;

const sshfp: Present = (m, o, e) => (e - o < 3 ? null : `${m[o]} ${m[o + 1]} ${hexUpper(m, o + 2, e - o - 2)}`);

const uri: Present = (m, o, e) => (e - o < 5 ? null : `${u16(m, o)} ${u16(m, o + 2)} ${quoted(m, o + 4, e - o - 4)}`);

const PRESENT = new Map<number, Present>([
  [TYPE.A, address4],
  [TYPE.AAAA, address6],
  [TYPE.NS, target],
  [TYPE.CNAME, target],
  [TYPE.PTR, target],
  [TYPE.DNAME, target],
  [TYPE.MD, target],
  [TYPE.MF, target],
  [TYPE.MB, target],
  [TYPE.MG, target],
  [TYPE.MR, target],
  [TYPE.SOA, soa],
  [TYPE.MX, numberAndName],
  [TYPE.KX, numberAndName],
  [TYPE.AFSDB, numberAndName],
  [TYPE.RT, numberAndName],
  [TYPE.MINFO, twoNames],
  [TYPE.RP, twoNames],
  [TYPE.SRV, srv],
  [TYPE.TXT, txt],
  [TYPE.SPF, txt],
  [TYPE.HINFO, hinfo],
  [TYPE.NAPTR, naptr],
  [TYPE.CAA, caa],
  [TYPE.DS, ds],
  [TYPE.CDS, ds],
  [TYPE.DLV, ds],
  [TYPE.DNSKEY, dnskey],
  [TYPE.CDNSKEY, dnskey],
  [TYPE.KEY, dnskey],
  [TYPE.RRSIG, rrsig],
  [TYPE.SIG, rrsig],
  [TYPE.NSEC, nsec],
  [TYPE.NSEC3, nsec3],
  [TYPE.NSEC3PARAM, nsec3param],
  [TYPE.TLSA, tlsa],
  [TYPE.SMIMEA, tlsa],
  [TYPE.SSHFP, sshfp],
  [TYPE.URI, uri],
  [TYPE.SVCB, svcbText],
  [TYPE.HTTPS, svcbText],
]);

/** The rdata msg[off, off + len) of an RR of `type`, in presentation format. */
export function rdataText(msg: Uint8Array, type: number, off: number, len: number): string {
  const present = PRESENT.get(type);
  return (present && present(msg, off, off + len)) ?? genericRdata(msg, off, len);
}
