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
