/**
 * Classic pcap files (libpcap's format): a 24-byte header whose magic gives
 * the byte order and the time unit (0xa1b2c3d4: µs, 0xa1b23c4d: ns), then
 * 16-byte record headers (seconds, fraction, captured length, wire length)
 * each followed by the captured bytes. One link type for the whole file.
 */
import type { CaptureInterface, Packet } from '../../model/packet';
import { ByteQueue } from './byte-queue';
import { BE, type Endian, type InterfaceStats, LE, MAX_BLOCK, type PacketReader } from './types';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** Whether four bytes start a pcap file (either magic, either byte order). */
export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const le = ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
  return be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
}

export class PcapReader implements PacketReader {
  readonly format = 'pcap' as const;
  readonly interfaces: CaptureInterface[] = [];
  readonly stats = new Map<number, InterfaceStats>();
  readonly notes: string[] = [];
  error: string | undefined;
  private readonly q = new ByteQueue();
  private e: Endian = LE;
  private nsPerUnit = 1000;
  private linkType = 0;
  private haveHeader = false;
  private records = 0;

  push(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    if (this.error !== undefined) return out;
    this.q.push(chunk);
    if (!this.haveHeader) {
      if (this.q.length < 24) return out;
      if (!this.header(this.q.peek(24))) {
        this.q.clear();
        return out;
      }
      this.q.skip(24);
    }
    while (this.q.length >= 16) {
      const h = this.q.peek(16);
      const caplen = this.e.u32(h, 8);
      if (caplen > MAX_BLOCK) {
        this.error =
          `pcap: absurd record length ${caplen} at offset ${this.q.consumed} (limit ${MAX_BLOCK}):` +
          ' the file is corrupt';
        this.q.clear();
        return out;
      }
      if (this.q.length < 16 + caplen) break;
      const r = this.q.peek(16 + caplen);
      let sec = this.e.u32(r, 0);
      let nsec = this.e.u32(r, 4) * this.nsPerUnit;
      if (nsec >= 1e9) {
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
      const wire = this.e.u32(r, 12);
      out.push({
        sec,
        nsec,
        iface: 0,
        linkType: this.linkType,
        data: r.subarray(16, 16 + caplen),
        wireLen: Math.max(wire, caplen),
        direction: 'unknown',
      });
      this.records++;
      this.q.skip(16 + caplen);
    }
    return out;
  }

  end(): void {
    if (this.error !== undefined) return;
    if (!this.haveHeader) {
      this.error =
        this.q.length === 0 ? 'pcap: empty file' : `pcap: truncated: file header cut after ${this.q.length} bytes`;
      return;
    }
    if (this.q.length > 0) {
      const left = this.q.length;
      const want = left >= 16 ? ` of ${16 + this.e.u32(this.q.peek(16), 8)}` : '';
      this.notes.push(`truncated: last record cut after ${left}${want} bytes (${this.records} packets read before it)`);
      this.q.clear();
    }
  }

  private header(h: Buffer): boolean {
    const le = h.readUInt32LE(0);
    const be = h.readUInt32BE(0);
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) this.e = LE;
    else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) this.e = BE;
    else {
      this.error = `pcap: not a pcap file (magic 0x${be.toString(16).padStart(8, '0')})`;
      return false;
    }
    this.nsPerUnit = this.e.u32(h, 0) === PCAP_MAGIC_NS ? 1 : 1000;
    const major = this.e.u16(h, 4);
    if (major !== 2) {
      this.error = `pcap: unsupported version ${major}.${this.e.u16(h, 6)} (only 2.x is known)`;
      return false;
    }
    const snaplen = this.e.u32(h, 16);
    this.linkType = this.e.u32(h, 20) & 0xffff;
    this.interfaces.push({ linkType: this.linkType, name: '', snaplen, tsUnitNs: this.nsPerUnit });
    this.haveHeader = true;
    return true;
  }
}
