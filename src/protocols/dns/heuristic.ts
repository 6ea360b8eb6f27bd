/**
 * A cheap guess whether bytes are a DNS message (UDP payload, or a TCP
 * message without its length prefix), for traffic off the usual ports.
 * Looks at the header and the first question's name and type only, so the
 * bytes may be the first part of a longer message. Never throws.
 */
import { HEADER_BYTES } from './message';
import { u16 } from './text';

const OPCODE_DSO = 6;
const MAX_QUESTIONS = 4;
/** Class codes a question may carry; mDNS sets the top bit for a unicast reply. */
const QCLASSES = new Set([1, 3, 4, 254, 255]);

/** The first question, as far as the bytes go: false when it cannot be DNS. */
function firstQuestionFits(b: Uint8Array): boolean {
  let p = HEADER_BYTES;
  let wire = 1;
  for (;;) {
    if (p >= b.length) return true; // cut short: nothing wrong so far
    const len = b[p]!;
    if (len === 0) break;
    if (len > 63) return false; // nothing before the first name to point at
    wire += len + 1;
    if (wire > 255) return false;
    p += 1 + len;
  }
  if (p + 5 > b.length) return true;
  return u16(b, p + 1) !== 0 && QCLASSES.has(u16(b, p + 3) & 0x7fff);
}

export function looksLikeDns(b: Uint8Array): boolean {
  if (b.length < HEADER_BYTES) return false;
  const f1 = b[2]!;
  const f2 = b[3]!;
  const response = (f1 & 0x80) !== 0;
  const opcode = (f1 >> 3) & 0x0f;
  const rcode = f2 & 0x0f;
  if (opcode > OPCODE_DSO || opcode === 3) return false;
  if ((f2 & 0x40) !== 0) return false; // Z
  if (!response && rcode !== 0) return false;
  const qd = u16(b, 4);
  const records = u16(b, 6) + u16(b, 8) + u16(b, 10);
  if (qd > MAX_QUESTIONS) return false;
  if (qd === 0 && opcode !== OPCODE_DSO && !(response && rcode !== 0)) return false;
  if (qd * 5 + records * 11 > 0xffff - HEADER_BYTES) return false;
  return qd === 0 || firstQuestionFits(b);
}

/**
 * The kernel's cheaper test (sock_payload.bpf.c, dns_header_ok), for
 * sources that did not run it (capture files): the header's flags and
 * question count, and that the first label of the first question is not a
 * pointer. `b` starts at the header; `len` is the message's length.
 */
export function dnsHeaderPlausible(b: Uint8Array, len: number): boolean {
  if (len < HEADER_BYTES || b.length < HEADER_BYTES) return false;
  const f1 = b[2]!;
  const f2 = b[3]!;
  const response = (f1 & 0x80) !== 0;
  const opcode = (f1 >> 3) & 0x0f;
  const rcode = f2 & 0x0f;
  if (opcode > OPCODE_DSO || opcode === 3) return false;
  if ((f2 & 0x40) !== 0) return false;
  if (!response && rcode !== 0) return false;
  if (b[4] !== 0 || b[5]! > MAX_QUESTIONS) return false;
  if (b[5] === 0) return opcode === OPCODE_DSO || (response && rcode !== 0);
  return len <= HEADER_BYTES || b.length <= HEADER_BYTES || b[HEADER_BYTES]! <= 63;
}

/**
 * Whether a TCP connection's first payload starts DNS, as the kernel judges
 * it: port 53 at either end, or a two-byte length of at least a header
 * followed by a header that passes dnsHeaderPlausible.
 */
export function startsDnsOverTcp(first: Uint8Array, port1: number, port2: number): boolean {
  if (first.length === 0) return false;
  if (port1 === 53 || port2 === 53) return true;
  if (first.length < 2 + HEADER_BYTES) return false;
  if (u16(first, 0) < HEADER_BYTES) return false;
  return dnsHeaderPlausible(first.subarray(2), first.length - 2);
}
