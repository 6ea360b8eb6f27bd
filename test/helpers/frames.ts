/**
 * Ethernet frames for filter tests: IPv4 and IPv6 with TCP (every flag
 * mix we care about), UDP, ICMP/ICMPv6, IPv4 fragments, IPv6 with a
 * hop-by-hop and a fragment header, VLAN tags, ARP, short and odd frames.
 * Deterministic: the same list every run, so verdict mismatches reproduce.
 */

export interface Frame {
  name: string;
  bytes: Buffer;
  /** Whether a socket hook (no link layer, no VLAN tag) could see it. */
  ip: boolean;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0xaa];
const MAC_B = [0x02, 0, 0, 0, 0, 0xbb];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function checksum(b: number[]): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export function ipv4(
  src: number[],
  dst: number[],
  proto: number,
  payload: number[],
  o: { id?: number; frag?: number; ttl?: number; tos?: number; options?: number[] } = {},
): number[] {
  const opts = o.options ?? [];
  const ihl = 5 + opts.length / 4;
  const h = [
    0x40 | ihl,
    o.tos ?? 0,
    ...u16(ihl * 4 + payload.length),
    ...u16(o.id ?? 0x1234),
    ...u16(o.frag ?? 0x4000),
    o.ttl ?? 64,
    proto,
    0,
    0,
    ...src,
    ...dst,
    ...opts,
  ];
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return [...h, ...payload];
}

export function ipv6(
  src: number[],
  dst: number[],
  next: number,
  payload: number[],
  o: { hlim?: number; tc?: number; flow?: number } = {},
): number[] {
  const tc = o.tc ?? 0;
  const flow = o.flow ?? 0x12345;
  return [
    0x60 | (tc >> 4),
    ((tc & 0xf) << 4) | ((flow >> 16) & 0xf),
    (flow >> 8) & 0xff,
    flow & 0xff,
    ...u16(payload.length),
    next,
    o.hlim ?? 64,
    ...src,
    ...dst,
    ...payload,
  ];
}

export function tcp(
  sport: number,
  dport: number,
  flags: number,
  data: number[] = [],
  o: { seq?: number; ack?: number; win?: number; options?: number[] } = {},
): number[] {
  const opts = o.options ?? [];
  const off = 5 + opts.length / 4;
  return [
    ...u16(sport),
    ...u16(dport),
    ...u32(o.seq ?? 1000),
    ...u32(o.ack ?? 0),
    off << 4,
    flags,
    ...u16(o.win ?? 65535),
    0,
    0,
    0,
    0,
    ...opts,
    ...data,
  ];
}

export function udp(sport: number, dport: number, data: number[] = []): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + data.length), 0, 0, ...data];
}

export function icmp(type: number, code: number, rest: number[] = [0, 1, 0, 1]): number[] {
  const b = [type, code, 0, 0, ...rest];
  const c = checksum(b);
  b[2] = c >> 8;
  b[3] = c & 0xff;
  return b;
}

export function ether(
  type: number,
  payload: number[],
  o: { src?: number[]; dst?: number[]; vlan?: number[] } = {},
): Buffer {
  const tags = (o.vlan ?? []).flatMap((v, i, all) => [...u16(i === 0 && all.length > 1 ? 0x88a8 : 0x8100), ...u16(v)]);
  // With tags, the first type field is the outer tag's TPID; the real type follows the tags.
  const head = [...(o.dst ?? MAC_B), ...(o.src ?? MAC_A)];
  return Buffer.from(tags.length ? [...head, ...tags, ...u16(type), ...payload] : [...head, ...u16(type), ...payload]);
}

const A4 = [10, 1, 0, 1];
const B4 = [10, 1, 0, 2];
const C4 = [192, 168, 7, 9];
const LO4 = [127, 0, 0, 1];
const A6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const LL6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
const MC6 = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;
const URG = 0x20;

const text = (s: string) => [...Buffer.from(s, 'latin1')];

export function frameCorpus(): Frame[] {
  const f: Frame[] = [];
  const add = (name: string, bytes: Buffer, ip = true) => f.push({ name, bytes, ip });
  const v4 = (name: string, src: number[], dst: number[], proto: number, payload: number[], o = {}) =>
    add(name, ether(0x0800, ipv4(src, dst, proto, payload, o)));
  const v6 = (name: string, src: number[], dst: number[], next: number, payload: number[], o = {}) =>
    add(name, ether(0x86dd, ipv6(src, dst, next, payload, o)));

  v4('v4 tcp syn 40000->80', A4, B4, TCP, tcp(40000, 80, SYN, [], { options: [2, 4, 5, 0xb4] }));
  v4('v4 tcp syn-ack 80->40000', B4, A4, TCP, tcp(80, 40000, SYN | ACK, [], { ack: 1001 }));
  v4('v4 tcp ack 40000->80', A4, B4, TCP, tcp(40000, 80, ACK));
  v4('v4 tcp http GET', A4, B4, TCP, tcp(40000, 80, PSH | ACK, text('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')));
  v4('v4 tcp http 200', B4, A4, TCP, tcp(80, 40000, PSH | ACK, text('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')));
  v4('v4 tcp fin 443', A4, B4, TCP, tcp(51000, 443, FIN | ACK));
  v4('v4 tcp rst 22', B4, A4, TCP, tcp(22, 51001, RST));
  v4('v4 tcp urg 8080', A4, C4, TCP, tcp(33000, 8080, URG | ACK, [1, 2, 3]));
  v4(
    'v4 tcp with options',
    A4,
    B4,
    TCP,
    tcp(1024, 6000, ACK, text('x'), { options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }),
  );
  v4('v4 tcp ip options', A4, B4, TCP, tcp(5000, 80, SYN), { options: [0x94, 4, 0, 0] });
  v4(
    'v4 udp dns query',
    A4,
    B4,
    UDP,
    udp(53000, 53, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1]),
  );
  v4('v4 udp dns answer', B4, A4, UDP, udp(53, 53000, [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]));
  v4('v4 udp 5353 multicast', A4, [224, 0, 0, 251], UDP, udp(5353, 5353, [0, 0]), { ttl: 255 });
  v4('v4 udp broadcast', A4, [255, 255, 255, 255], UDP, udp(68, 67, new Array(40).fill(0)));
  v4('v4 udp 123', C4, A4, UDP, udp(123, 123, new Array(48).fill(0x23)));
  v4('v4 icmp echo request', A4, B4, ICMP, icmp(8, 0));
  v4('v4 icmp echo reply', B4, A4, ICMP, icmp(0, 0));
  v4('v4 icmp unreachable port', B4, A4, ICMP, icmp(3, 3, [0, 0, 0, 0, ...ipv4(A4, B4, UDP, udp(1, 2)).slice(0, 28)]));
  v4('v4 icmp time exceeded', C4, A4, ICMP, icmp(11, 0, [0, 0, 0, 0]));
  v4('v4 loopback tcp', LO4, LO4, TCP, tcp(45000, 8080, ACK, text('hello')));
  v4('v4 first fragment udp', A4, B4, UDP, udp(4000, 4001, new Array(64).fill(1)), { frag: 0x2000, id: 77 });
  v4('v4 later fragment', A4, B4, UDP, new Array(64).fill(2), { frag: 0x0008, id: 77 });
  v4('v4 later fragment tcp', A4, B4, TCP, new Array(40).fill(0), { frag: 0x0010, id: 78 });
  v4('v4 gre', A4, B4, 47, [0, 0, 0x08, 0, 1, 2, 3, 4]);
  v4('v4 sctp', A4, B4, 132, [0, 80, 0, 81, 0, 0, 0, 0, 0, 0, 0, 0]);
  v4('v4 igmp', A4, [224, 0, 0, 1], 2, [0x11, 0, 0, 0, 0, 0, 0, 0], { ttl: 1 });
  v4('v4 tos 0x10 tcp', A4, B4, TCP, tcp(2000, 25, SYN), { tos: 0x10 });
  v4('v4 big payload', A4, B4, TCP, tcp(40000, 80, ACK, new Array(1400).fill(0x41)));
  v4('v4 truncated tcp header', A4, B4, TCP, [0, 80, 0]);
  v6('v6 tcp syn 40000->443', A6, B6, TCP, tcp(40000, 443, SYN));
  v6('v6 tcp data 443->40000', B6, A6, TCP, tcp(443, 40000, PSH | ACK, [0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]));
  v6('v6 tcp rst', B6, A6, TCP, tcp(22, 40001, RST | ACK));
  v6('v6 udp 53', A6, B6, UDP, udp(40000, 53, [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
  v6('v6 icmp6 echo', A6, B6, ICMP6, icmp(128, 0));
  v6('v6 icmp6 neighbour solicitation', LL6, MC6, ICMP6, icmp(135, 0, new Array(20).fill(0)), { hlim: 255 });
  v6('v6 hop-by-hop then udp', A6, B6, 0, [UDP, 0, 1, 4, 0, 0, 0, 0, ...udp(1000, 53, [1, 2, 3, 4])]);
  v6('v6 fragment header then tcp', A6, B6, 44, [TCP, 0, 0, 1, 0, 0, 0, 9, ...tcp(1000, 80, SYN)]);
  v6('v6 later fragment', A6, B6, 44, [UDP, 0, 0, 0x10, 0, 0, 0, 9, 1, 2, 3, 4]);
  v6('v6 link-local udp', LL6, B6, UDP, udp(546, 547, [1, 0, 0, 0]));
  v6('v6 tclass flow', A6, B6, TCP, tcp(5555, 80, ACK), { tc: 0xb8, flow: 0xabcde });
  v6('v6 no next header', A6, B6, 59, []);
  add(
    'arp request',
    ether(0x0806, [0, 1, 8, 0, 6, 4, 0, 1, ...MAC_A, ...A4, 0, 0, 0, 0, 0, 0, ...B4], { dst: BCAST }),
    false,
  );
  add('vlan 100 v4 tcp', ether(0x0800, ipv4(A4, B4, TCP, tcp(40000, 80, SYN)), { vlan: [100] }), false);
  add('vlan 200 v6 udp', ether(0x86dd, ipv6(A6, B6, UDP, udp(1, 53, [0])), { vlan: [200] }), false);
  add('qinq 10/20 v4 udp', ether(0x0800, ipv4(A4, B4, UDP, udp(1000, 53, [0])), { vlan: [10, 20] }), false);
  add('broadcast v4', ether(0x0800, ipv4(A4, [10, 1, 255, 255], UDP, udp(137, 137, [0, 0])), { dst: BCAST }));
  add('lldp-like', ether(0x88cc, [2, 7, 4, 0, 0, 0, 0, 0, 0]), false);
  add('ethernet, unknown type, one byte', ether(0x9000, [0]), false);
  return f;
}

/**
 * An Ethernet frame of the corpus as tcpdump -i any would have it
 * (LINUX_SLL2), as BPF_PROG_TEST_RUN presents it to the kernel: on the
 * loopback device of the test's namespace (ifindex 1, address all zero),
 * protocol and packet type from eth_type_trans. `l2Len` 14: the interface
 * is Ethernet (the header carries the source address); 0: a raw IP device
 * (ARPHRD `haType`), the same packet without its Ethernet header.
 */
export function sll2Of(frame: Buffer, o: { l2Len: 0 | 14; haType: number; egress: boolean }): Buffer {
  const h = Buffer.alloc(20);
  const type = frame.readUInt16BE(12);
  h.writeUInt16BE(type >= 0x600 ? type : 0x0001, 0); // ETH_P_802_3 below 0x600 (none in the corpus)
  h.writeUInt32BE(1, 4);
  h.writeUInt16BE(o.haType, 8);
  const dst = frame.subarray(0, 6);
  // eth_type_trans on lo, whose own and broadcast addresses are all zero: every group address is
  // PACKET_MULTICAST there (ff:ff:ff:ff:ff:ff too), every other one but zero PACKET_OTHERHOST.
  let pktType = 0; // PACKET_HOST
  if (dst[0]! & 1) pktType = 2;
  else if (!dst.every((b) => b === 0)) pktType = 3;
  h[10] = o.egress ? 4 : pktType;
  if (o.l2Len === 14) {
    h[11] = 6;
    frame.copy(h, 12, 6, 12);
  }
  return Buffer.concat([h, frame.subarray(14)]);
}
