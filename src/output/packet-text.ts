/**
 * One line per packet, in tcpdump's words (tcpdump 4.99 is the reference:
 * the whole line matches `tcpdump -n` for TCP, UDP, DNS over UDP port 53,
 * HTTP on ports 80/8080, ICMP, ICMPv6 echo and neighbour discovery, ARP, on
 * Ethernet, SLL, SLL2, NULL and raw IP), with the interface and direction
 * when known (as `tcpdump -i any` shows them) and the process appended as
 * ` [pid 1234 curl]`, then the network namespace as ` [netns 4026532290]`
 * when it is not the capture's own (`hostNetns`). Names are never resolved: addresses and ports are
 * always numeric (tcpdump -n).
 *
 * Options: -v (IP header fields, checksums of TCP, UDP over IPv6 and ICMPv6,
 * the packet an ICMP error quotes), -e (link-level header), -q (less
 * protocol information), -t/-tt/-tttt (time), -A (payload as ASCII), -X (hex
 * and ASCII). TCP sequence numbers are relative per connection after the
 * first ACK-bearing packet, as tcpdump prints them (without -S).
 *
 * Deliberate differences: other application protocols (DHCP, NTP, mDNS, DNS
 * over TCP, SCTP, GRE, IGMP, LLDP, ...) read "UDP, length N" or by protocol
 * number, as `tcpdump -q` prints them; IPv4 options and IPv6 hop-by-hop
 * options are not listed with -v (the headers are named, as without -v);
 * IPv6 routing headers read "srcrt"; ICMPv6 errors do not print the quoted
 * packet; unknown EtherTypes are shown by number.
 *
 * Every byte taken from the packet goes through wireText (or is printed as
 * hex, numbers, or '.' for -A/-X); -A keeps tabs and newlines, as tcpdump.
 */
import { type CaptureInterface, LINKTYPE, type Packet } from '../model/packet';
import { checksumShouldBe, segmentChecksum } from '../net/decode/checksum';
import { decodePacket } from '../net/decode/index';
import type { Decoded, Icmp, Ipv4, Ipv6, Tcp, TcpOption } from '../net/decode/types';
import { dnsSummary } from './dns-summary';
import { maskSecrets } from './redact';
import { escapeTerminal, wireText } from '../text/sanitize';

export type TimeFormat = 'default' | 'none' | 'epoch' | 'date';

export interface PacketTextOptions {
  /** -v: IP header fields (ttl, id, offset, flags, proto, length). */
  verbose?: boolean;
  /** -e: the link-level header. */
  link?: boolean;
  /** -q: less protocol information. */
  quick?: boolean;
  /** -t none, -tt epoch, -tttt date; default HH:MM:SS.uuuuuu. */
  time?: TimeFormat;
  /** Times in UTC instead of local time. */
  utc?: boolean;
  /** -A: the packet (after the link header) as ASCII. */
  ascii?: boolean;
  /** -X: the packet (after the link header) in hex and ASCII. */
  hex?: boolean;
  /** Shows the process and network namespace (default true). */
  proc?: boolean;
  /** The capture's own network namespace inode: a packet's is shown only when it differs (` [netns N]`). */
  hostNetns?: number;
  /** Name of an interface index (for SLL2 headers); the index is shown as `ifN` without it. */
  ifName?: (ifindex: number) => string | undefined;
  /** TCP conversations remembered for relative sequence numbers (default 65536). */
  maxConversations?: number;
  /**
   * Masks secrets in what is shown of a payload (HTTP's lines, -A, -X) with
   * '*', byte for byte (default true; --no-redact turns it off). Checksums
   * are still verified on the real bytes.
   */
  redact?: boolean;
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** The time as tcpdump prints it (µs, local time unless utc). */
export function timeText(sec: number, nsec: number, fmt: TimeFormat, utc = false): string {
  const us = Math.floor(nsec / 1000);
  const frac = String(us).padStart(6, '0');
  if (fmt === 'none') return '';
  if (fmt === 'epoch') return `${sec}.${frac}`;
  const d = new Date(sec * 1000);
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const hms = `${pad2(h)}:${pad2(m)}:${pad2(s)}.${frac}`;
  if (fmt !== 'date') return hms;
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const mo = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const day = utc ? d.getUTCDate() : d.getDate();
  return `${y}-${pad2(mo)}-${pad2(day)} ${hms}`;
}

const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4',
  0x86dd: 'IPv6',
  0x0806: 'ARP',
  0x8035: 'Reverse ARP',
  0x8100: '802.1Q',
  0x88a8: '802.1Q-QinQ',
  0x9100: '802.1Q-9100',
  0x88cc: 'LLDP',
  0x8847: 'MPLS unicast',
  0x8863: 'PPPoE D',
  0x8864: 'PPPoE S',
};

const ethertypeText = (t: number) =>
  `ethertype ${ETHERTYPE_NAMES[t] ?? 'Unknown'} (0x${t.toString(16).padStart(4, '0')})`;

const IP_PROTO_NAMES: Record<number, string> = {
  0: 'Options',
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'Routing',
  44: 'Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  60: 'DSTOPTS',
  89: 'OSPF',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
};

const SLL_DIR: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

function tcpFlags(f: number): string {
  let s = '';
  if (f & 0x01) s += 'F';
  if (f & 0x02) s += 'S';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x10) s += '.';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  return s || 'none';
}

const HTTP_METHODS = new Set([
  'GET',
  'PUT',
  'POST',
  'HEAD',
  'OPTIONS',
  'DELETE',
  'TRACE',
  'CONNECT',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
]);

/** The first line of an HTTP request or response, as tcpdump's "HTTP: ..." shows it; undefined otherwise. */
function httpFirstLine(b: Uint8Array, off: number, end: number): string | undefined {
  let e = off;
  while (e < end && e - off < 1024 && b[e] !== 0x0a) e++;
  if (e >= end || b[e] !== 0x0a) return undefined;
  const lineEnd = e > off && b[e - 1] === 0x0d ? e - 1 : e;
  const line = Buffer.from(b.buffer, b.byteOffset + off, lineEnd - off).toString('latin1');
  const sp = line.indexOf(' ');
  if (sp <= 0) return undefined;
  const first = line.slice(0, sp);
  const second = line.slice(sp + 1).split(' ')[0] ?? '';
  if (!HTTP_METHODS.has(first) && !/^\d{3}$/.test(second)) return undefined;
  return wireText(b, off, lineEnd);
}

/** tcpdump -v on HTTP: every complete line of the captured payload on a line of its own ("\n\t" + line). */
function httpLines(b: Uint8Array, off: number, end: number): string {
  let s = '';
  let start = off;
  for (let i = off; i < end && s.length < 65536; i++) {
    if (b[i] !== 0x0a) continue;
    const lineEnd = i > start && b[i - 1] === 0x0d ? i - 1 : i;
    s += '\n\t' + wireText(b, start, lineEnd);
    start = i + 1;
  }
  return s;
}

interface Conv {
  seq: number;
  ack: number;
}

export class PacketText {
  private readonly conv = new Map<string, Conv>();
  private readonly maxConv: number;
  private data: Uint8Array = EMPTY;
  /** this.data with its payload's secrets masked, made when first shown (per packet). */
  private masked: Uint8Array | undefined;
  private quoteDepth = 0;

  constructor(private readonly o: PacketTextOptions = {}) {
    this.maxConv = o.maxConversations ?? 65536;
  }

  /**
   * A packet as text: the summary line (two with -v over IPv4, as tcpdump),
   * then for -A/-X the dump. No trailing newline. `d` is the decoded packet
   * when the caller has it already.
   */
  format(p: Packet, iface?: CaptureInterface, d: Decoded = decodePacket(p.data, p.linkType)): string {
    const o = this.o;
    this.data = p.data;
    this.masked = undefined;
    let s = timeText(p.sec, p.nsec, o.time ?? 'default', o.utc);
    if (s) s += ' ';
    s += this.ifacePrefix(p, iface, d);
    s += this.body(p, d, iface);
    if (o.proc !== false) {
      if (p.proc) s += ` [pid ${p.proc.pid} ${escapeTerminal(p.proc.comm)}]`;
      if (p.netns && p.netns !== o.hostNetns) s += ` [netns ${p.netns}]`;
    }
    const from = d.link.kind === 'unknown' ? 0 : Math.min(d.link.headerLength, p.data.length);
    if (o.hex) s += hexDump(this.shown(d), from);
    else if (o.ascii) s += asciiDump(this.shown(d), from);
    this.data = EMPTY;
    this.masked = undefined;
    return s;
  }

  /** "lo    In  " as tcpdump -i any prints it, when the interface or direction is known. */
  private ifacePrefix(p: Packet, iface: CaptureInterface | undefined, d: Decoded): string {
    if (this.o.link && d.link.kind === 'sll2') return '';
    let name = iface?.name ?? '';
    let dir = p.direction === 'in' ? 'In' : p.direction === 'out' ? 'Out' : '';
    if (d.link.kind === 'sll2') {
      const byIndex = d.link.ifindex !== undefined ? this.o.ifName?.(d.link.ifindex) : undefined;
      name = byIndex ?? (name || `if${d.link.ifindex}`);
      dir = SLL_DIR[d.link.pktType] ?? `${d.link.pktType}`;
    }
    if (!dir) return '';
    return `${escapeTerminal(name || '?').padEnd(5)} ${dir.padEnd(3)} `;
  }

  private linkText(p: Packet, d: Decoded, iface: CaptureInterface | undefined): string {
    const l = d.link;
    if (l.kind === 'ethernet') {
      let s = `${l.src} > ${l.dst}, ${ethertypeText(l.outerType)}, length ${p.wireLen}: `;
      for (let i = 0; i < l.vlans.length; i++) {
        const v = l.vlans[i]!;
        const next = i + 1 < l.vlans.length ? l.vlans[i + 1]!.tpid : l.type;
        s += `vlan ${v.id}, p ${v.pcp}${v.dei ? ', DEI' : ''}, ${ethertypeText(next)}, `;
      }
      return s;
    }
    if (l.kind === 'sll2') {
      const name =
        (l.ifindex !== undefined ? this.o.ifName?.(l.ifindex) : undefined) ?? (iface?.name || `if${l.ifindex}`);
      const dir = SLL_DIR[l.pktType] ?? `${l.pktType}`;
      const addr = l.addr ? `${l.addr} ` : ''; // tcpdump prints nothing for an empty address (tun)
      return `${escapeTerminal(name).padEnd(5)} ${dir.padEnd(3)} ifindex ${l.ifindex} ${addr}${ethertypeText(l.protocol)}, length ${p.wireLen}: `;
    }
    if (l.kind === 'sll') {
      const dir = SLL_DIR[l.pktType] ?? `${l.pktType}`;
      return `${dir.padEnd(3)} ${l.addr} ${ethertypeText(l.protocol)}, length ${p.wireLen}: `;
    }
    if (l.kind === 'null') return `AF ${l.family}, length ${p.wireLen}: `;
    // Raw IP has no link header: tcpdump -e says "ip: " where it would say IP or IP6.
    if (l.kind === 'raw') return 'ip: ';
    return '';
  }

  private body(p: Packet, d: Decoded, iface: CaptureInterface | undefined): string {
    const e = !!this.o.link;
    const lt = e ? this.linkText(p, d, iface) : '';
    if (d.link.kind === 'unknown') return `link-type ${d.link.linkType}, length ${p.wireLen}`;
    if (d.truncated && !d.net && d.netOffset === 0 && d.link.kind !== 'raw') return `[|${d.truncated}]`;
    if (d.truncated === 'ip' && d.link.kind === 'raw') return '[|ip]';
    const net = d.net;
    if (!net) {
      // A cut IP header, in tcpdump's words: "IP  [|ip]", " [|ip6]" (after the link header with -e).
      if (d.truncated === 'ipv4') return `${lt}${e ? '' : 'IP '} [|ip]`;
      if (d.truncated === 'ipv6') return `${lt} [|ip6]`;
      if (d.truncated) return `${lt}${e ? '' : 'IP '}[|${d.truncated}]`;
      if (d.malformed) return `${lt}${d.malformed}`;
      const l = d.link;
      if (l.kind === 'raw' && d.netType === 0 && p.data.length > 0) return `${lt}unknown ip ${p.data[0]! >> 4}`;
      const len = Math.max(0, p.wireLen - l.headerLength);
      if (l.kind === 'ethernet' && l.type < 0x600) return `${lt}802.3, length ${l.type}`;
      if (d.netType === 0x0800 || d.netType === 0x86dd) return `${lt}IP${d.netType === 0x86dd ? '6' : ''} [|ip]`;
      return `${lt}${e ? '' : `${ethertypeText(d.netType)}, `}length ${len}`;
    }
    if (net.kind === 'arp') {
      const len = Math.max(0, p.wireLen - d.netOffset);
      const prefix = e ? lt : 'ARP, ';
      const hw =
        this.o.verbose && net.hwType === 1 && net.protoType === 0x800
          ? `Ethernet (len ${net.hwLen}), IPv4 (len ${net.protoLen}), `
          : '';
      if (!net.spa) return `${prefix}${hw}op ${net.op}, length ${len}`;
      if (net.op === 1) return `${prefix}${hw}Request who-has ${net.tpa} tell ${net.spa}, length ${len}`;
      if (net.op === 2) return `${prefix}${hw}Reply ${net.spa} is-at ${net.sha}, length ${len}`;
      return `${prefix}${hw}op ${net.op} ${net.spa} > ${net.tpa}, length ${len}`;
    }
    const v6 = net.kind === 'ipv6';
    let s = e ? lt : v6 ? 'IP6 ' : 'IP ';
    if (this.o.verbose) s += v6 ? this.ipv6Verbose(net) + ' ' : this.ipv4Verbose(net) + '\n    ';
    return s + this.transportText(d, net);
  }

  private ipv4Verbose(ip: Ipv4): string {
    const ecn = ['', ', ECT(1)', ', ECT(0)', ', CE'][ip.tos & 3]!;
    const flags: string[] = [];
    if (ip.mf) flags.push('+');
    if (ip.df) flags.push('DF');
    const proto = IP_PROTO_NAMES[ip.proto] ?? 'unknown';
    return (
      `(tos 0x${(ip.tos & ~3).toString(16)}${ecn}, ttl ${ip.ttl}, id ${ip.id}, offset ${ip.fragOffset}, ` +
      `flags [${flags.join(', ') || 'none'}], proto ${proto} (${ip.proto}), length ${ip.totalLength})`
    );
  }

  private ipv6Verbose(ip: Ipv6): string {
    const cls = ip.tclass ? `class 0x${ip.tclass.toString(16)}, ` : '';
    const flow = ip.flow ? `flowlabel 0x${ip.flow.toString(16).padStart(5, '0')}, ` : '';
    const nh = IP_PROTO_NAMES[ip.next] ?? 'unknown';
    return `(${cls}${flow}hlim ${ip.hopLimit}, next-header ${nh} (${ip.next}) payload length: ${ip.payloadLength})`;
  }

  /**
   * tcpdump's words for IPv6 extension headers ("HBH ", "DSTOPT ", "frag (0|20) "); after them it
   * prints TCP and UDP ports without the addresses.
   */
  private extText(ip: Ipv6): string {
    let s = '';
    for (const h of ip.ext) {
      if (h === 0) s += 'HBH ';
      else if (h === 60) s += 'DSTOPT ';
      else if (h === 44 && ip.frag) {
        const id = this.o.verbose ? `0x${ip.frag.id.toString(16).padStart(8, '0')}:` : '';
        s += `frag (${id}${ip.frag.offset}|${ip.frag.length}) `;
      } else if (h === 43) s += 'srcrt ';
      else if (h === 51) s += 'AH ';
    }
    return s;
  }

  private transportText(d: Decoded, ip: Ipv4 | Ipv6): string {
    const t = d.transport;
    const ext = ip.kind === 'ipv6' && ip.ext.length > 0 ? this.extText(ip) : '';
    if (ext && ip.kind === 'ipv6') {
      if (ip.frag && ip.frag.offset !== 0) return `${ip.src} > ${ip.dst}: ${ext.trimEnd()}`;
      if (t && (t.kind === 'tcp' || t.kind === 'udp')) {
        const inner = this.transportText(d, { ...ip, ext: [] });
        // "a.1000 > b.53: ..." becomes "a > b: HBH 1000 > 53: ...".
        const ports = `${t.sport} > ${t.dport}:`;
        const rest = inner.slice(inner.indexOf(`.${t.dport}:`) + `.${t.dport}:`.length);
        return `${ip.src} > ${ip.dst}: ${ext}${ports}${rest}`;
      }
    }
    const addrs = `${ip.src} > ${ip.dst}:${ext ? ' ' + ext.trimEnd() : ''}`;
    const proto = ip.proto;
    const later = ip.kind === 'ipv4' ? ip.fragOffset !== 0 : ip.frag !== undefined && ip.frag.offset !== 0;
    if (later) return `${addrs} ip-proto-${proto}`;
    if (d.malformed && !t) return `${addrs} [${d.malformed}]`;
    if (!t) {
      if (d.truncated) return `${addrs}${proto === 1 || proto === 58 ? ' ' : ''} [|${d.truncated}]`;
      if (ip.kind === 'ipv6' && proto === 59) return `${addrs} no next header`;
      return `${addrs} ip-proto-${proto} ${d.payloadWireLength}`;
    }
    if (t.kind === 'tcp') {
      const a = `${ip.src}.${t.sport} > ${ip.dst}.${t.dport}:`;
      if (this.o.quick) return `${a} tcp ${d.payloadWireLength}`;
      return `${a} ${this.tcpText(t, d, ip)}`;
    }
    if (t.kind === 'udp') {
      let a = `${ip.src}.${t.sport} > ${ip.dst}.${t.dport}:`;
      if (d.truncated) return `${a} [|udp]`;
      const len = Math.max(0, t.length - 8);
      let sum = '';
      if (this.o.verbose && ip.kind === 'ipv6') {
        // tcpdump -v checks UDP over IPv6 (mandatory there); over IPv4 only with -vv.
        const v = this.verify(d, ip, 17, d.payloadOffset - 8, t.length);
        if (v !== undefined)
          sum =
            v === 0
              ? '[udp sum ok] '
              : `[bad udp cksum 0x${hex4(t.checksum)} -> 0x${hex4(checksumShouldBe(t.checksum, v))}!] `;
      }
      a += ' ' + sum;
      if (!this.o.quick && (t.sport === 53 || t.dport === 53)) {
        return `${a}${dnsSummary(this.data, d.payloadOffset, d.payloadOffset + d.payloadLength, len, !!this.o.verbose)}`;
      }
      return `${a}UDP, length ${len}`;
    }
    let sum = '';
    if (this.o.verbose && t.kind === 'icmp6') {
      const v = this.verify(d, ip, 58, d.payloadOffset - 8, d.payloadWireLength + 8);
      if (v !== undefined)
        sum =
          v === 0
            ? '[icmp6 sum ok] '
            : `[bad icmp6 cksum 0x${hex4(t.checksum)} -> 0x${hex4(checksumShouldBe(t.checksum, v))}!] `;
    }
    let quoted = '';
    if (this.o.verbose && t.kind === 'icmp' && t.quote && this.quoteDepth === 0) quoted = this.quotedText(d);
    return `${addrs} ${sum}${icmpText(t, d, !!this.o.verbose)}${quoted}`;
  }

  /** tcpdump -v prints the IPv4 packet an ICMP error quotes, on lines of its own. */
  private quotedText(d: Decoded): string {
    const outer = this.data;
    const inner = outer.subarray(d.payloadOffset, d.payloadOffset + d.payloadLength);
    const q = decodePacket(inner, LINKTYPE.RAW);
    if (q.net?.kind !== 'ipv4') return '';
    const masked = this.masked;
    this.data = inner;
    this.masked = undefined;
    this.quoteDepth++;
    try {
      return `\n\tIP ${this.ipv4Verbose(q.net)}\n    ${this.transportText(q, q.net)}`;
    } finally {
      this.quoteDepth--;
      this.data = outer;
      this.masked = masked;
    }
  }

  /** The checksum verification value of a whole captured, unfragmented segment; undefined when it cannot be checked. */
  private verify(d: Decoded, ip: Ipv4 | Ipv6, proto: number, start: number, len: number): number | undefined {
    const fragmented = ip.kind === 'ipv4' ? ip.mf || ip.fragOffset !== 0 : ip.frag !== undefined;
    if (fragmented || start < 0 || len < 0 || start + len > this.data.length) return undefined;
    return segmentChecksum(this.data, d.netOffset, ip.kind === 'ipv6', proto, start, len);
  }

  private tcpText(t: Tcp, d: Decoded, ip: Ipv4 | Ipv6): string {
    let seq = t.seq;
    let ack = t.ack;
    let rev = false;
    let thSeq = 0;
    let thAck = 0;
    if (t.flags & 0x10) {
      // tcpdump's conversation key: the lower port first (addresses break a tie).
      rev = t.sport > t.dport || (t.sport === t.dport && compareAddr(ip.src, ip.dst) > 0);
      const key = rev ? `${ip.dst}|${ip.src}|${t.dport}|${t.sport}` : `${ip.src}|${ip.dst}|${t.sport}|${t.dport}`;
      let c = this.conv.get(key);
      if (!c || t.flags & 0x02) {
        c = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
        if (this.conv.size >= this.maxConv && !this.conv.has(key)) {
          const oldest = this.conv.keys().next().value;
          if (oldest !== undefined) this.conv.delete(oldest);
        }
        this.conv.set(key, c);
      } else if (rev) {
        seq = (seq - c.ack) >>> 0;
        ack = (ack - c.seq) >>> 0;
      } else {
        seq = (seq - c.seq) >>> 0;
        ack = (ack - c.ack) >>> 0;
      }
      thSeq = c.seq;
      thAck = c.ack;
    }
    let s = `Flags [${tcpFlags(t.flags)}]`;
    if (d.truncated) return `${s} [|tcp]`;
    if (this.o.verbose) {
      const start = d.payloadOffset - t.headerLength;
      const v = this.verify(d, ip, 6, start, t.headerLength + d.payloadWireLength);
      if (v !== undefined) {
        s += `, cksum 0x${hex4(t.checksum)}`;
        s += v === 0 ? ' (correct)' : ` (incorrect -> 0x${hex4(checksumShouldBe(t.checksum, v))})`;
      }
    }
    const len = d.payloadWireLength;
    if (len > 0 || t.flags & 0x07) {
      s += `, seq ${seq}`;
      if (len > 0) s += `:${(seq + len) >>> 0}`;
    }
    if (t.flags & 0x10) s += `, ack ${ack}`;
    s += `, win ${t.window}`;
    if (t.flags & 0x20) s += `, urg ${t.urgent}`;
    if (t.options.length > 0) s += `, options [${t.options.map((x) => tcpOptionText(x, rev, thSeq, thAck)).join(',')}]`;
    s += `, length ${len}`;
    if (len > 0 && (t.sport === 80 || t.dport === 80 || t.sport === 8080 || t.dport === 8080)) {
      const shown = this.shown(d);
      const first = httpFirstLine(shown, d.payloadOffset, d.payloadOffset + d.payloadLength);
      if (first === undefined) s += ': HTTP';
      else if (!this.o.verbose) s += `: HTTP: ${first}`;
      else s += `: HTTP, length: ${len}${httpLines(shown, d.payloadOffset, d.payloadOffset + d.payloadLength)}`;
    }
    return s;
  }

  /** The packet's bytes as shown: its payload's secrets masked unless redaction is off. */
  private shown(d: Decoded): Uint8Array {
    if (this.o.redact === false || d.payloadLength <= 0) return this.data;
    // To the end of what was captured: -A and -X show any bytes after the IP datagram too.
    return (this.masked ??= maskSecrets(this.data, d.payloadOffset, this.data.length));
  }
}

const EMPTY = new Uint8Array(0);
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function compareAddr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tcpOptionText(o: TcpOption, rev: boolean, thSeq: number, thAck: number): string {
  switch (o.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.value}`;
    case 'sackOK':
      return 'sackOK';
    case 'sack': {
      const base = rev ? thSeq : thAck;
      return `sack ${o.blocks.length} ${o.blocks.map(([a, b]) => `{${(a - base) >>> 0}:${(b - base) >>> 0}}`).join('')}`;
    }
    case 'ts':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'tfo':
      return o.cookie ? `tfo cookie ${o.cookie}` : 'tfo cookiereq';
    case 'other':
      return `unknown-${o.code} 0x${o.data}`;
    case 'bad':
      return 'bad opt';
  }
}

function icmpText(m: Icmp, d: Decoded, verbose: boolean): string {
  const len = d.payloadWireLength + 8;
  if (m.kind === 'icmp6') {
    const names: Record<number, string> = {
      1: 'destination unreachable',
      2: 'packet too big',
      3: 'time exceeded in-transit',
      4: 'parameter problem',
      128: 'echo request',
      129: 'echo reply',
      130: 'multicast listener query',
      131: 'multicast listener report',
      132: 'multicast listener done',
      133: 'router solicitation',
      134: 'router advertisement',
      135: 'neighbor solicitation',
      136: 'neighbor advertisement',
      137: 'redirect',
      143: 'multicast listener report v2',
    };
    const name = names[m.type] ?? `type ${m.type}`;
    // tcpdump -v drops the length of echoes and moves it before the target of neighbour discovery.
    if (m.id !== undefined) return `ICMP6, ${name}, id ${m.id}, seq ${m.seq}${verbose ? '' : `, length ${len}`}`;
    if ((m.type === 135 || m.type === 136) && m.target) {
      const what = m.type === 135 ? `who has ${m.target}` : `tgt is ${m.target}`;
      return verbose ? `ICMP6, ${name}, length ${len}, ${what}` : `ICMP6, ${name}, ${what}, length ${len}`;
    }
    return `ICMP6, ${name}, length ${len}`;
  }
  const q = m.quote;
  let s: string;
  switch (m.type) {
    case 0:
      s = `echo reply, id ${m.id}, seq ${m.seq}`;
      break;
    case 8:
      s = `echo request, id ${m.id}, seq ${m.seq}`;
      break;
    case 3: {
      const dst = q?.dst ?? '?';
      if (m.code === 0) s = `net ${dst} unreachable`;
      else if (m.code === 1) s = `host ${dst} unreachable`;
      else if (m.code === 2) s = `${dst} protocol ${q?.proto ?? '?'} unreachable`;
      else if (m.code === 3 && q && q.dport !== undefined) {
        s = `${dst} ${q.proto === 6 ? 'tcp' : 'udp'} port ${q.dport} unreachable`;
      } else if (m.code === 4) s = `${dst} unreachable - need to frag (mtu ${m.mtu ?? 0})`;
      else s = `${dst} unreachable - code ${m.code}`;
      break;
    }
    case 11:
      s = m.code === 0 ? 'time exceeded in-transit' : 'ip reassembly time exceeded';
      break;
    case 5:
      s = `redirect ${q?.dst ?? '?'} to ${m.gateway ?? '?'}`;
      break;
    default:
      s = `type-#${m.type}`;
  }
  return `ICMP ${s}, length ${len}`;
}

function isGraph(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

/** tcpdump -X: "\n\t0x0000:  4500 0034 ...  E..4" per 16 bytes. */
export function hexDump(b: Uint8Array, from: number): string {
  let s = '';
  for (let off = from; off < b.length; off += 16) {
    let hex = '';
    let asc = '';
    const end = Math.min(b.length, off + 16);
    for (let i = off; i < end; i += 2) {
      if (i + 1 < end) hex += ' ' + hx(b[i]!) + hx(b[i + 1]!);
      else hex += ' ' + hx(b[i]!);
      asc += isGraph(b[i]!) ? String.fromCharCode(b[i]!) : '.';
      if (i + 1 < end) asc += isGraph(b[i + 1]!) ? String.fromCharCode(b[i + 1]!) : '.';
    }
    s += `\n\t0x${(off - from).toString(16).padStart(4, '0')}: ${hex.padEnd(40)}  ${asc}`;
  }
  return s;
}

const hx = (c: number) => (c < 16 ? '0' : '') + c.toString(16);

/** tcpdump -A: printable bytes, tabs and newlines as they are, a CR dropped before a LF or at the end, the rest as '.'. */
export function asciiDump(b: Uint8Array, from: number): string {
  let s = '\n';
  for (let i = from; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x0d) {
      // tcpdump 4.99: a CR is dropped before a LF and among the last two bytes, a '.' elsewhere.
      if (b.length - i - 1 > 1 && b[i + 1] !== 0x0a) s += '.';
      continue;
    }
    s += (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a ? String.fromCharCode(c) : '.';
  }
  return s;
}
