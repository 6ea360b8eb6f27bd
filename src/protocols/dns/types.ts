/**
 * DNS code points and their mnemonics: RR types, classes, RCODEs and
 * opcodes, both ways. Numbers without a name print as RFC 3597 does
 * (TYPE1234, CLASS7) or as RCODE23 / OPCODE9. Pure tables.
 */

/** RR types (IANA "Resource Record (RR) TYPEs"), the ones worth a name. */
export const TYPE = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  RT: 21,
  SIG: 24,
  KEY: 25,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
  DLV: 32769,
} as const;

export const CLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  DSOTYPENI: 11,
  BADVERS: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
  BADCOOKIE: 23,
} as const;

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

function invert(table: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, n]) => [n, name]));
}

const TYPE_NAMES = invert(TYPE);
const CLASS_NAMES = invert(CLASS);
const RCODE_NAMES = invert(RCODE);
const OPCODE_NAMES = invert(OPCODE);

export function typeName(n: number): string {
  return TYPE_NAMES.get(n) ?? `TYPE${n}`;
}

export function className(n: number): string {
  return CLASS_NAMES.get(n) ?? `CLASS${n}`;
}

/** The 12-bit RCODE with EDNS bits folded in (ext << 4 | header rcode). */
export function rcodeName(n: number): string {
  return RCODE_NAMES.get(n) ?? `RCODE${n}`;
}

export function opcodeName(n: number): string {
  return OPCODE_NAMES.get(n) ?? `OPCODE${n}`;
}

const TYPE_NUMBERS = new Map<string, number>(Object.entries(TYPE));

function lookup(table: Map<string, number>, numbered: RegExp, name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = table.get(upper);
  if (known !== undefined) return known;
  const m = numbered.exec(upper);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}

/** A type's number from its mnemonic or TYPEnnn form (any case); undefined if neither. */
export function typeNumber(name: string): number | undefined {
  return lookup(TYPE_NUMBERS, /^TYPE(\d{1,5})$/, name);
}
