/**
 * What the decoder gives for a packet: plain objects, one per layer, no
 * classes and no copies of the bytes (offsets into Packet.data instead).
 * `truncated` names the first header the capture cut (snap length);
 * `malformed` says what was wrong with a header that was all there.
 */

export interface Vlan {
  tpid: number;
  id: number;
  pcp: number;
  dei: boolean;
}

export interface EthernetLink {
  kind: 'ethernet';
  src: string;
  dst: string;
  /** The EtherType after any VLAN tags (or the 802.3 length when below 0x600). */
  type: number;
  /** The first type field (a TPID when tagged). */
  outerType: number;
  vlans: Vlan[];
  headerLength: number;
}

export interface SllLink {
  kind: 'sll' | 'sll2';
  /** PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4. */
  pktType: number;
  haType: number;
  /** Link-layer address (hex bytes joined by ':'), up to 8 bytes. */
  addr: string;
  protocol: number;
  ifindex?: number;
  headerLength: number;
}

export interface NullLink {
  kind: 'null';
  /** Address family as the writing host numbered it (2 = IPv4; 10, 24, 28, 30 = IPv6). */
  family: number;
  headerLength: number;
}

export interface RawLink {
  kind: 'raw';
  headerLength: 0;
}

export interface UnknownLink {
  kind: 'unknown';
  linkType: number;
  headerLength: 0;
}

export type Link = EthernetLink | SllLink | NullLink | RawLink | UnknownLink;

export interface Ipv4 {
  kind: 'ipv4';
  src: string;
  dst: string;
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in bytes. */
  fragOffset: number;
  ttl: number;
  proto: number;
  checksum: number;
  optionsLength: number;
}

export interface Ipv6Fragment {
  offset: number;
  more: boolean;
  id: number;
  /** Bytes of the datagram after the fragment header (from the payload length). */
  length: number;
}

export interface Ipv6 {
  kind: 'ipv6';
  src: string;
  dst: string;
  tclass: number;
  flow: number;
  payloadLength: number;
  hopLimit: number;
  /** The fixed header's next header. */
  next: number;
  /** The upper-layer protocol after the extension headers (or where the walk stopped). */
  proto: number;
  /** Extension headers walked, in order. */
  ext: number[];
  frag?: Ipv6Fragment;
  /** Bytes of the fixed header plus the extension headers. */
  headerLength: number;
}

export interface Arp {
  kind: 'arp';
  hwType: number;
  protoType: number;
  hwLen: number;
  protoLen: number;
  op: number;
  /** Set for Ethernet/IPv4 ARP. */
  sha?: string;
  spa?: string;
  tha?: string;
  tpa?: string;
}

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; value: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'tfo'; cookie: string }
  | { kind: 'other'; code: number; data: string }
  /** An option whose length is wrong or runs past the header: the walk stops there. */
  | { kind: 'bad'; code: number };

export interface Tcp {
  kind: 'tcp';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  headerLength: number;
  /** FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 (AE 0x100). */
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOption[];
}

export interface Udp {
  kind: 'udp';
  sport: number;
  dport: number;
  length: number;
  checksum: number;
}

/** The start of the packet an ICMP error quotes. */
export interface IcmpQuote {
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
}

export interface Icmp {
  kind: 'icmp' | 'icmp6';
  type: number;
  code: number;
  checksum: number;
  /** Echo request/reply. */
  id?: number;
  seq?: number;
  /** ICMPv6 neighbour solicitation/advertisement target. */
  target?: string;
  /** Fragmentation needed / packet too big. */
  mtu?: number;
  /** IPv4 redirect gateway. */
  gateway?: string;
  quote?: IcmpQuote;
}

export type Net = Ipv4 | Ipv6 | Arp;
export type Transport = Tcp | Udp | Icmp;

export interface Decoded {
  link: Link;
  /** Offset in the data of the network header (after the link header). */
  netOffset: number;
  /** EtherType (or equivalent) of the network layer, 0 when unknown. */
  netType: number;
  net?: Net;
  transport?: Transport;
  /** Offset and captured length of what follows the last decoded header. */
  payloadOffset: number;
  payloadLength: number;
  /** Length of that payload on the wire (from the IP/UDP lengths), when known. */
  payloadWireLength: number;
  /** The first header the capture cut short. */
  truncated?: string;
  /** A header that is wrong (bad version, lengths that contradict each other). */
  malformed?: string;
}
