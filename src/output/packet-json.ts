/**
 * A packet as one JSON object (capture --json): time, interface, direction,
 * lengths, the process, and the decoded headers' main fields. Stable
 * snake_case names; every string from the packet is already safe text
 * (addresses are formatted numbers, the task name went through wireText).
 */
import type { CaptureInterface, Packet } from '../model/packet';
import { decodePacket } from '../net/decode/index';
import type { Decoded } from '../net/decode/types';
import { isoFromWall } from './clock';

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

export function packetJson(p: Packet, iface?: CaptureInterface, d: Decoded = decodePacket(p.data, p.linkType)): string {
  const o: Record<string, unknown> = {
    ts: isoFromWall(p.sec, p.nsec),
    iface: iface?.name ?? null,
    direction: p.direction,
    len: p.wireLen,
    caplen: p.data.length,
    pid: p.proc?.pid ?? null,
    comm: p.proc?.comm ?? null,
    uid: p.proc?.uid ?? null,
    netns: p.netns ?? null,
  };
  const n = d.net;
  if (n && n.kind !== 'arp') {
    o.family = n.kind === 'ipv4' ? 'ipv4' : 'ipv6';
    o.src = n.src;
    o.dst = n.dst;
    o.proto = PROTO_NAMES[n.proto] ?? n.proto;
    o.ttl = n.kind === 'ipv4' ? n.ttl : n.hopLimit;
  } else if (n) {
    o.family = 'arp';
    o.arp_op = n.op;
  }
  const t = d.transport;
  if (t && (t.kind === 'tcp' || t.kind === 'udp')) {
    o.sport = t.sport;
    o.dport = t.dport;
  }
  if (t && t.kind === 'tcp') {
    o.tcp_flags = t.flags;
    o.seq = t.seq;
    o.ack = t.ack;
    o.window = t.window;
  }
  if (t && (t.kind === 'icmp' || t.kind === 'icmp6')) {
    o.icmp_type = t.type;
    o.icmp_code = t.code;
  }
  o.payload_len = d.payloadWireLength;
  if (d.truncated) o.truncated = d.truncated;
  if (d.malformed) o.malformed = d.malformed;
  return JSON.stringify(o);
}
