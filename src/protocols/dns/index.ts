/**
 * DNS: message parsing with dig-style presentation, the port-free
 * heuristic, and DNS-over-TCP framing.
 */
export type { DnsEdns, DnsMessage, DnsParse, DnsQuestion, DnsRecord } from './message';
export { MAX_ENTRIES, parseDnsMessage } from './message';
export { dnsHeaderPlausible, looksLikeDns, startsDnsOverTcp } from './heuristic';
export type { DnsTcpPush } from './tcp-framing';
export { DnsTcpFramer } from './tcp-framing';
export { className, opcodeName, rcodeName, typeName, typeNumber, CLASS, OPCODE, RCODE, TYPE } from './types';
