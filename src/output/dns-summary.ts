/**
 * A DNS message over UDP port 53 in tcpdump's default words:
 *   query:    `866+ [1au] A? a.test. (47)`
 *   response: `19286* 2/0/1 CNAME a.test., A 10.0.0.1 (71)`, `11687 NXDomain 0/0/1 (36)`
 * Flags and counts come from the header bytes, names and records from the
 * shared DNS parser (src/protocols/dns). Answers are listed (A, AAAA, CNAME,
 * NS, PTR, MX as tcpdump orders it, TXT); other types by name only. A
 * message the parser refuses ends in "[|domain]" after its header, a
 * payload under 12 bytes reads "domain [length N < 12] (invalid)", as tcpdump.
 * With -v (verbose) each answer starts with its owner name, as tcpdump -v.
 */
import { parseDnsMessage } from '../protocols/dns/index';
import type { DnsRecord } from '../protocols/dns/index';
import { escapeTerminal } from '../text/sanitize';

const OPCODES = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7'];
const RCODES = [
  '',
  ' FormErr',
  ' ServFail',
  ' NXDomain',
  ' NotImp',
  ' Refused',
  ' YXDomain',
  ' YXRRSet',
  ' NXRRSet',
  ' NotAuth',
  ' NotZone',
];

function recordText(r: DnsRecord, verbose: boolean): string {
  const owner = verbose ? `${escapeTerminal(r.name)} ` : '';
  return owner + rdataText(r);
}

function rdataText(r: DnsRecord): string {
  const data = escapeTerminal(r.data);
  switch (r.type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'TXT':
      return `${r.type} ${data}`;
    case 'MX': {
      const sp = data.indexOf(' ');
      return sp > 0 ? `MX ${data.slice(sp + 1)} ${data.slice(0, sp)}` : `MX ${data}`;
    }
    default:
      return r.type;
  }
}

/** The summary of the DNS message in b[off, end) whose UDP payload length is `len`. */
export function dnsSummary(b: Uint8Array, off: number, end: number, len: number, verbose = false): string {
  if (len < 12) return `domain [length ${len} < 12] (invalid)`;
  if (end - off < 12) return '[|domain]';
  const m = parseDnsMessage(b.subarray(off, end));
  const f1 = b[off + 2]!;
  const f2 = b[off + 3]!;
  const cnt = (i: number) => (b[off + i]! << 8) | b[off + i + 1]!;
  const [qd, an, ns, ar] = [cnt(4), cnt(6), cnt(8), cnt(10)];
  const id = cnt(0);
  const opcode = OPCODES[(f1 >> 3) & 0xf] ?? ` op${(f1 >> 3) & 0xf}`;
  if (!(f1 & 0x80)) {
    let s = `${id}${opcode}${f1 & 0x01 ? '+' : ''}${f2 & 0x10 ? '%' : ''}`;
    if (qd !== 1) s += ` [${qd}q]`;
    if (an) s += ` [${an}a]`;
    if (ns) s += ` [${ns}n]`;
    if (ar) s += ` [${ar}au]`;
    const q = m.ok ? m.msg.questions[0] : undefined;
    if (!m.ok || (qd > 0 && !q)) return `${s} [|domain]`;
    return `${s}${q ? ` ${escapeTerminal(q.type)}? ${escapeTerminal(q.name)}` : ''} (${len})`;
  }
  const rcode = f2 & 0xf;
  let s = `${id}${opcode}${RCODES[rcode] ?? ` Resp${rcode}`}${f1 & 0x04 ? '*' : ''}${f2 & 0x80 ? '' : '-'}${f1 & 0x02 ? '|' : ''}`;
  if (qd !== 1) s += ` [${qd}q]`;
  if (!m.ok) return `${s} [|domain]`;
  s += ` ${an}/${ns}/${ar}`;
  if (m.msg.answers.length) s += ' ' + m.msg.answers.map((r) => recordText(r, verbose)).join(', ');
  return `${s} (${len})`;
}
