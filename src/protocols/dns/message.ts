/**
 * A whole DNS message (RFC 1035 section 4.1) from its bytes: header,
 * questions and the three record sections, with EDNS0 (RFC 6891) taken out
 * of the additional section and its extended RCODE bits folded into
 * `rcode`. A fault gives a short stable error and what was read before it
 * (id, QR bit, questions); nothing throws. Work is bounded: counts are
 * checked against the bytes before a section is read, at most MAX_ENTRIES
 * questions and records are decoded, and the rest are only stepped over
 * (still checked, and an OPT among them still read) and counted in
 * `omitted`. Bytes after the last record are ignored.
 */
import { readName, skipName } from './names';
import { genericRdata, rdataText } from './rdata';
import { className, opcodeName, rcodeName, TYPE, typeName } from './types';
import { u16, u32 } from './text';

export interface DnsQuestion {
  name: string;
  type: string;
  qtype: number;
  class: string;
}

export interface DnsRecord {
  name: string;
  type: string;
  rtype: number;
  class: string;
  ttl: number;
  /** Presentation format, as dig prints it; "\# len HEX" when the rdata does not fit its type. */
  data: string;
}

export interface DnsEdns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  options: { code: number; length: number }[];
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: string;
  authoritative: boolean;
  /** The TC flag (the answer did not fit), not a parse fault. */
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  authenticData: boolean;
  checkingDisabled: boolean;
  /** Name of the RCODE, extended bits from OPT included (BADVERS = 16). */
  rcode: string;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  /** Without the OPT record, which is `edns`. */
  additional: DnsRecord[];
  edns?: DnsEdns;
  /** Questions and records past MAX_ENTRIES, stepped over and not decoded. */
  omitted?: number;
}

export type DnsParse =
  | { ok: true; msg: DnsMessage }
  | { ok: false; error: string; id?: number; response?: boolean; questions: DnsQuestion[] };

export const HEADER_BYTES = 12;
/** Questions plus records decoded per message; a 64 KB AXFR chunk holds more. */
export const MAX_ENTRIES = 512;
const MIN_QUESTION = 5; // root name, type, class
const MIN_RECORD = 11; // root name, type, class, ttl, rdlength

interface Cursor {
  msg: Uint8Array;
  pos: number;
  /** Entries still to decode before the cap. */
  budget: number;
  omitted: number;
  edns: DnsEdns | undefined;
  extendedRcode: number;
  questions: DnsQuestion[];
}

function readQuestion(c: Cursor): DnsQuestion | string | null {
  const m = c.msg;
  if (c.budget <= 0) {
    const end = skipName(m, c.pos);
    if (typeof end === 'string') return end;
    if (end + 4 > m.length) return 'truncated';
    c.pos = end + 4;
    c.omitted++;
    return null;
  }
  const n = readName(m, c.pos, m.length);
  if (!n.ok) return n.error;
  if (n.end + 4 > m.length) return 'truncated';
  const qtype = u16(m, n.end);
  c.pos = n.end + 4;
  c.budget--;
  return { name: n.name, type: typeName(qtype), qtype, class: className(u16(m, n.end + 2)) };
}

/** EDNS from an OPT record whose fixed fields start at `f` (RFC 6891 section 6.1.3). */
function readOpt(c: Cursor, f: number, rdOff: number, rdEnd: number): string | undefined {
  if (c.edns) return 'multiple OPT';
  const m = c.msg;
  const options: { code: number; length: number }[] = [];
  for (let p = rdOff; p < rdEnd;) {
    if (p + 4 > rdEnd) return 'bad OPT';
    const length = u16(m, p + 2);
    if (p + 4 + length > rdEnd) return 'bad OPT';
    options.push({ code: u16(m, p), length });
    p += 4 + length;
  }
  c.extendedRcode = m[f + 4]!;
  c.edns = { udpSize: u16(m, f + 2), version: m[f + 5]!, dnssecOk: (m[f + 6]! & 0x80) !== 0, options };
  return undefined;
}

/** One record into `out` (or stepped over past the cap); an error string on a fault. */
function readRecord(c: Cursor, out: DnsRecord[], mayBeOpt: boolean): string | undefined {
  const m = c.msg;
  const decode = c.budget > 0;
  let name = '';
  let f: number;
  if (decode) {
    const n = readName(m, c.pos, m.length);
    if (!n.ok) return n.error;
    name = n.name;
    f = n.end;
  } else {
    const end = skipName(m, c.pos);
    if (typeof end === 'string') return end;
    f = end;
  }
  if (f + 10 > m.length) return 'truncated';
  const rtype = u16(m, f);
  const rdOff = f + 10;
  const rdLen = u16(m, f + 8);
  if (rdOff + rdLen > m.length) return 'rdata overrun';
  c.pos = rdOff + rdLen;
  if (mayBeOpt && rtype === TYPE.OPT) return readOpt(c, f, rdOff, rdOff + rdLen);
  if (!decode) {
    c.omitted++;
    return undefined;
  }
  c.budget--;
  const data = rtype === TYPE.OPT ? genericRdata(m, rdOff, rdLen) : rdataText(m, rtype, rdOff, rdLen);
  out.push({ name, type: typeName(rtype), rtype, class: className(u16(m, f + 2)), ttl: u32(m, f + 4), data });
  return undefined;
}

export function parseDnsMessage(b: Uint8Array): DnsParse {
  if (b.length < HEADER_BYTES) {
    const partial: DnsParse = { ok: false, error: 'truncated', questions: [] };
    if (b.length >= 2) partial.id = u16(b, 0);
    if (b.length >= 3) partial.response = (b[2]! & 0x80) !== 0;
    return partial;
  }
  const id = u16(b, 0);
  const f1 = b[2]!;
  const f2 = b[3]!;
  const qd = u16(b, 4);
  const counts = [u16(b, 6), u16(b, 8), u16(b, 10)] as const;
  const c: Cursor = {
    msg: b,
    pos: HEADER_BYTES,
    budget: MAX_ENTRIES,
    omitted: 0,
    edns: undefined,
    extendedRcode: 0,
    questions: [],
  };
  const response = (f1 & 0x80) !== 0;
  const fault = (error: string): DnsParse => ({ ok: false, error, id, response, questions: c.questions });

  if (qd * MIN_QUESTION > b.length - c.pos) return fault('bad counts');
  for (let i = 0; i < qd; i++) {
    const q = readQuestion(c);
    if (typeof q === 'string') return fault(q);
    if (q) c.questions.push(q);
  }
  if ((counts[0] + counts[1] + counts[2]) * MIN_RECORD > b.length - c.pos) return fault('bad counts');
  const sections: DnsRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const err = readRecord(c, sections[s]!, s === 2);
      if (err) return fault(err);
    }
  }
  const msg: DnsMessage = {
    id,
    response,
    opcode: opcodeName((f1 >> 3) & 0x0f),
    authoritative: (f1 & 0x04) !== 0,
    truncated: (f1 & 0x02) !== 0,
    recursionDesired: (f1 & 0x01) !== 0,
    recursionAvailable: (f2 & 0x80) !== 0,
    authenticData: (f2 & 0x20) !== 0,
    checkingDisabled: (f2 & 0x10) !== 0,
    rcode: rcodeName((c.extendedRcode << 4) | (f2 & 0x0f)),
    questions: c.questions,
    answers: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
  };
  if (c.edns) msg.edns = c.edns;
  if (c.omitted > 0) msg.omitted = c.omitted;
  return { ok: true, msg };
}
