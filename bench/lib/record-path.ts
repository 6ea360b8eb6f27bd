/**
 * What user space spends per kernel record, without the kernel: a ring
 * batch laid out as the addon delivers it (u32 length, u32 zero, record,
 * padding to 8), split and handled as the command does, many times over.
 * The figure is CPU time per record on this machine (one core), so a
 * change on the record path shows here without the noise of a loaded
 * transfer.
 */
import { forEachRecord, RecordHandler } from '../../src/kernel/ringbuf';
import {
  EV,
  HTTP,
  SP,
  WL_CAP_EVENT,
  WL_HTTP_EX,
  WL_HDR,
  WL_PROC,
  WL_SOCK_ID,
  WL_SP_EVENT,
  WL_TCP_EVENT,
} from '../../src/events/layout';
import { decodeTcpEvent } from '../../src/events/tcp';
import { Clock } from '../../src/output/clock';
import { tcpJson, tcpTable } from '../../src/output/tcp-text';
import { KernelPackets } from '../../src/sources/kernel/capture-packets';
import { CaptureFiles } from '../../src/output/capture-files';
import { PacketText } from '../../src/output/packet-text';
import { LINKTYPE } from '../../src/model/packet';
import { fixed, formatTable } from './table';
import { decodeSockPayload, PayloadChunk } from '../../src/events/sock-payload';
import { dnsTool } from '../../src/cli/dns';
import { PayloadDeps } from '../../src/cli/payload-kernel';
import { RunningFamily } from '../../src/probes/family';
import { DnsTransaction } from '../../src/analysis/dns/transactions';
import { dnsJson, dnsTable } from '../../src/output/dns-text';
import { decodeHttpRecord } from '../../src/events/http';
import { exchangeOf } from '../../src/analysis/http/exchanges';
import { HttpStats } from '../../src/analysis/http/stats';
import { HttpView, httpView } from '../../src/output/http-view';
import { httpLine, httpTextLayout } from '../../src/output/http-text';
import { httpJson } from '../../src/output/http-json';

/** A record path's report: its title, then µs per record decoded, printed as a line and as JSON, and lines/s per core. */
function perRecordTable(title: string, heads: string[], decode: number, human: number, json: number): string {
  return [
    title,
    formatTable(
      [...heads, 'records/s per core (line)'],
      [[fixed(decode, 3), fixed(human, 3), fixed(json, 3), fixed(1e6 / human, 0)]],
    ),
  ].join('\n');
}

/** A batch of `n` capture records of `caplen` bytes each (a TCP/IPv4 frame on Ethernet), three processes taking turns. */
export function captureBatch(n: number, caplen: number): { batch: Buffer; bytes: number } {
  const size = WL_CAP_EVENT.size + caplen;
  const slot = 8 + ((size + 7) & ~7);
  const batch = Buffer.alloc(n * slot);
  const f = WL_CAP_EVENT.fields;
  const frame = Buffer.alloc(caplen);
  // Ethernet, IPv4 (20 bytes), TCP (20 bytes) 127.0.0.1:5201 -> 127.0.0.1:40000, ACK.
  frame.writeUInt16BE(0x0800, 12);
  Buffer.from([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]).copy(frame, 14);
  frame.writeUInt16BE(caplen - 14, 16);
  frame.writeUInt16BE(5201, 34);
  frame.writeUInt16BE(40000, 36);
  frame[46] = 0x50;
  frame[47] = 0x10;
  for (let i = 0; i < n; i++) {
    const o = i * slot;
    batch.writeUInt32LE(size, o);
    const r = o + 8;
    batch.writeBigUInt64LE(BigInt(1e12 + i * 1000), r + f.hdr + WL_HDR.fields.ts_ns);
    batch.writeUInt16LE(EV.CAPTURE, r + f.hdr + WL_HDR.fields.type);
    batch.writeUInt32LE(1000 + (i % 3), r + f.pid);
    batch.write(['iperf3', 'curl', 'nginx'][i % 3]!, r + f.comm);
    batch.writeUInt32LE(1, r + f.ifindex);
    batch.writeUInt32LE(65000, r + f.len);
    batch.writeUInt32LE(caplen, r + f.caplen);
    batch.writeUInt16LE(0x0008, r + f.protocol);
    batch[r + f.hook] = 2;
    batch[r + f.egress] = i & 1;
    frame.copy(batch, r + WL_CAP_EVENT.size);
  }
  return { batch, bytes: batch.length };
}

/** CPU µs per record for `handle` over the batch: the median of `rounds` timed passes after a warm-up. */
export function perRecordUs(batch: Buffer, handle: RecordHandler, after: () => void, rounds = 15): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let n = 0;
  forEachRecord(view, () => void n++);
  if (n === 0) throw new Error('record path bench: an empty batch');
  for (let i = 0; i < 5; i++) {
    forEachRecord(view, handle);
    after();
  }
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.cpuUsage();
    forEachRecord(view, handle);
    after();
    const t = process.cpuUsage(t0);
    times.push((t.user + t.system) / n);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** `wirelens capture`'s record path: kernel record -> Packet -> pcapng block, or -> text line. */
export function captureRecordPath(): string {
  const rows: string[][] = [];
  for (const caplen of [96, 1514]) {
    const { batch } = captureBatch(20_000, caplen);
    const packets = new KernelPackets({
      linkType: LINKTYPE.ETHERNET,
      snaplen: caplen,
      expression: '',
      ifaceNames: new Map([[1, 'lo']]),
      wallMinusMonoNs: 1_700_000_000_000_000_000n,
    });
    const decode = perRecordUs(
      batch,
      (v, off, len) => void packets.decode(v, off, len),
      () => undefined,
    );
    let written = 0;
    const files = new CaptureFiles({
      path: 'bench',
      open: () => ({ write: (b) => void (written += b.length), close: () => undefined, synchronous: true }),
    });
    files.open();
    const pcapng = perRecordUs(
      batch,
      (v, off, len) => {
        const p = packets.decode(v, off, len);
        if (!p) return;
        if (p.iface >= files.interfaces.length) files.addInterface(packets.interfaces[p.iface]!);
        files.packet(p);
      },
      () => files.flush(),
    );
    const text = new PacketText({ time: 'default' });
    let chars = 0;
    const lines = perRecordUs(
      batch,
      (v, off, len) => {
        const p = packets.decode(v, off, len);
        if (p) chars += text.format(p, packets.interfaces[p.iface]).length;
      },
      () => undefined,
    );
    if (written === 0 || chars === 0) throw new Error('record path bench wrote nothing');
    rows.push([String(caplen), fixed(decode, 3), fixed(pcapng, 3), fixed(lines, 3)]);
  }
  return [
    'capture record path in user space (a recorded-layout ring batch of 20,000 records, CPU µs per record, median of 15 passes)',
    formatTable(['bytes copied', 'decode', 'decode + pcapng (-w)', 'decode + text line'], rows),
  ].join('\n');
}

/** A record's wl_proc at `p` and wl_sock_id (IPv4, this host's end first) at `k`. */
function writeProcSock(
  b: Buffer,
  p: number,
  k: number,
  proc: { pid: number; comm: string },
  sock: { protocol: number; sport: number; dport: number; saddr: number[]; daddr: number[] },
): void {
  b.writeUInt32LE(proc.pid, p + WL_PROC.fields.pid);
  b.writeUInt32LE(proc.pid, p + WL_PROC.fields.tid);
  b.write(proc.comm, p + WL_PROC.fields.comm);
  b.writeUInt32LE(4026531840, k + WL_SOCK_ID.fields.netns);
  b.writeUInt16LE(2, k + WL_SOCK_ID.fields.family);
  b.writeUInt16LE(sock.protocol, k + WL_SOCK_ID.fields.protocol);
  b.writeUInt16LE(sock.sport, k + WL_SOCK_ID.fields.sport);
  b.writeUInt16LE(sock.dport, k + WL_SOCK_ID.fields.dport);
  Buffer.from(sock.saddr).copy(b, k + WL_SOCK_ID.fields.saddr);
  Buffer.from(sock.daddr).copy(b, k + WL_SOCK_ID.fields.daddr);
}

/** A batch of `n` wl_tcp_event close records (IPv4 connections to 127.0.0.1:80), three processes taking turns. */
export function tcpBatch(n: number): Buffer {
  const size = WL_TCP_EVENT.size;
  const slot = 8 + ((size + 7) & ~7);
  const batch = Buffer.alloc(n * slot);
  const f = WL_TCP_EVENT.fields;
  for (let i = 0; i < n; i++) {
    const o = i * slot;
    batch.writeUInt32LE(size, o);
    const r = o + 8;
    batch.writeBigUInt64LE(BigInt(1e12 + i * 50_000), r + f.hdr + WL_HDR.fields.ts_ns);
    batch.writeUInt16LE(EV.TCP_CLOSE, r + f.hdr + WL_HDR.fields.type);
    writeProcSock(
      batch,
      r + f.proc,
      r + f.sock,
      { pid: 2000 + (i % 3), comm: ['wrk', 'nginx', 'curl'][i % 3]! },
      { protocol: 6, sport: 40000 + (i % 20000), dport: 80, saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 1] },
    );
    batch.writeBigUInt64LE(123_456n, r + f.duration_ns);
    batch.writeBigUInt64LE(180n, r + f.tx_bytes);
    batch.writeBigUInt64LE(850n, r + f.rx_bytes);
    batch[r + f.direction] = 1;
    batch[r + f.oldstate] = 1;
    batch[r + f.newstate] = 7;
  }
  return batch;
}

/** `wirelens tcp`'s record path: kernel record -> TcpRecord, -> human line, -> JSON line. */
export function tcpRecordPath(): string {
  const batch = tcpBatch(20_000);
  const reason = (n: number): string => `reason_${n}`;
  const clock = new Clock();
  const table = tcpTable(120);
  let chars = 0;
  const decode = perRecordUs(
    batch,
    (v, off, len) => void decodeTcpEvent(v, off, len, reason),
    () => undefined,
  );
  const human = perRecordUs(
    batch,
    (v, off, len) => {
      const r = decodeTcpEvent(v, off, len, reason);
      if (r) chars += table.line(r, clock).length;
    },
    () => undefined,
  );
  const json = perRecordUs(
    batch,
    (v, off, len) => {
      const r = decodeTcpEvent(v, off, len, reason);
      if (r) chars += tcpJson(r, clock).length;
    },
    () => undefined,
  );
  if (chars === 0) throw new Error('tcp record path bench printed nothing');
  return perRecordTable(
    'tcp record path in user space (20,000 close records in the ring layout, CPU µs per record, median of 15 passes)',
    ['decode', 'decode + line', 'decode + JSON'],
    decode,
    human,
    json,
  );
}

/** A DNS message: `name` A, a query or (with `answer`) its response with one address. */
function dnsMessage(id: number, name: string, answer?: number[]): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const question = Buffer.concat([...labels, Buffer.from([0, 0, 1, 0, 1])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer ? 0x8180 : 0x0100, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer ? 1 : 0, 6);
  if (!answer) return Buffer.concat([head, question]);
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...answer]);
  return Buffer.concat([head, question, rr]);
}

/**
 * A batch of `n` wl_sp_event records: UDP DNS queries from three processes
 * to 127.0.0.53:53 and, 200 µs later, their responses, each exchange on its
 * own socket (as dig makes one per query).
 */
export function dnsBatch(n: number): Buffer {
  const records: Buffer[] = [];
  const f = WL_SP_EVENT.fields;
  for (let i = 0; i < n; i++) {
    const exchange = i >> 1;
    const response = (i & 1) === 1;
    const msg = dnsMessage(
      exchange & 0xffff,
      `host${exchange % 500}.example.com`,
      response ? [10, 0, 0, 1] : undefined,
    );
    const size = WL_SP_EVENT.size + msg.length;
    const rec = Buffer.alloc(8 + ((size + 7) & ~7));
    rec.writeUInt32LE(size, 0);
    const r = 8;
    rec.writeBigUInt64LE(
      BigInt(1e12 + exchange * 1_000_000 + (response ? 200_000 : 0)),
      r + f.hdr + WL_HDR.fields.ts_ns,
    );
    rec.writeUInt16LE(EV.SOCK_PAYLOAD, r + f.hdr + WL_HDR.fields.type);
    writeProcSock(
      rec,
      r + f.proc,
      r + f.sock,
      { pid: 3000 + (exchange % 3), comm: ['dig', 'curl', 'resolved'][exchange % 3]! },
      { protocol: 17, sport: 30000 + (exchange % 30000), dport: 53, saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 53] },
    );
    rec.writeBigUInt64LE(BigInt(100_000 + exchange), r + f.conn);
    rec.writeUInt32LE(msg.length, r + f.len);
    rec.writeUInt16LE(msg.length, r + f.cap);
    rec[r + f.kind] = SP.DNS;
    rec[r + f.dir] = response ? SP.INGRESS : SP.EGRESS;
    msg.copy(rec, r + WL_SP_EVENT.size);
    records.push(rec);
  }
  return Buffer.concat(records);
}

/** `wirelens dns`'s record path: payload record -> Segment -> transaction, -> human line, -> JSON line. */
export function dnsRecordPath(): string {
  const batch = dnsBatch(20_000);
  const clock = new Clock();
  let chunk: ((c: PayloadChunk) => void) | undefined;
  const deps: PayloadDeps = {
    start: (_opts, onChunk) => {
      chunk = onChunk;
      return { drain: () => undefined } as unknown as RunningFamily;
    },
    kernelStats: () => {
      throw new Error('no kernel in the bench');
    },
  };
  let chars = 0;
  const pass = (out: (t: DnsTransaction) => number): number => {
    // A fresh tool for each pass over the batch (every query new to its tracker), made after the pass.
    const fresh = (): RecordHandler => {
      const tool = dnsTool([], 5, deps, 120);
      tool.start(
        { filters: {}, hookMode: 'auto' } as never,
        {} as never,
        (t) => void (chars += out(t)),
        () => undefined,
      );
      const deliver = chunk!;
      return (v, off, len) => {
        const c = decodeSockPayload(v, off, len);
        if (c) deliver(c);
      };
    };
    let handle = fresh();
    return perRecordUs(
      batch,
      (v, off, len) => handle(v, off, len),
      () => void (handle = fresh()),
    );
  };
  const table = dnsTable(120);
  const decode = pass(() => 1);
  const human = pass((t) => table.line(t, clock).length);
  const json = pass((t) => dnsJson(t, clock).length);
  if (chars === 0) throw new Error('dns record path bench printed nothing');
  return perRecordTable(
    'dns record path in user space (10,000 UDP queries and their responses in the ring layout, CPU µs per record, median of 15 passes)',
    ['decode + pair', 'decode + pair + line', 'decode + pair + JSON'],
    decode,
    human,
    json,
  );
}

/**
 * A batch of `n` wl_http_ex records as `wirelens http` (lines mode) gets
 * them: a server's exchanges, request and status line copied, host kept,
 * a few paths and three processes taking turns.
 */
export function httpBatch(n: number): Buffer {
  const f = WL_HTTP_EX.fields;
  const records: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const req = Buffer.from(`GET /api/items/${i % 50}?page=${i % 7} HTTP/1.1\r\n`);
    const resp = Buffer.from('HTTP/1.1 200 OK\r\n');
    const size = WL_HTTP_EX.size + req.length + resp.length;
    const rec = Buffer.alloc(8 + ((size + 7) & ~7));
    rec.writeUInt32LE(size, 0);
    const r = 8;
    rec.writeBigUInt64LE(BigInt(1e12 + i * 20_000), r + f.hdr + WL_HDR.fields.ts_ns);
    rec.writeUInt16LE(EV.HTTP_EXCHANGE, r + f.hdr + WL_HDR.fields.type);
    writeProcSock(
      rec,
      r + f.proc,
      r + f.sock,
      { pid: 4000 + ((i % 100) % 3), comm: 'nginx' }, // one worker per connection, as nginx has
      { protocol: 6, sport: 80, dport: 40000 + (i % 100), saddr: [127, 0, 0, 1], daddr: [127, 0, 0, 1] },
    );
    rec.writeBigUInt64LE(BigInt(500 + (i % 100)), r + f.conn);
    rec.writeBigUInt64LE(BigInt(80_000 + (i % 1000)), r + f.latency_ns);
    rec.writeBigUInt64LE(BigInt(req.length + 60), r + f.req_bytes);
    rec.writeBigUInt64LE(615n, r + f.resp_bytes);
    rec.writeUInt32LE(1 + Math.floor(i / 100), r + f.no);
    rec.writeUInt16LE(200, r + f.status);
    rec.writeUInt16LE(req.length, r + f.req_cap);
    rec.writeUInt16LE(resp.length, r + f.resp_cap);
    rec.writeUInt16LE(req.length, r + f.resp_off);
    rec[r + f.side] = HTTP.SERVER;
    rec[r + f.end] = HTTP.END_RESPONSE;
    rec[r + f.flags] = HTTP.F_LINES;
    rec.write('GET', r + f.method);
    rec[r + f.host_len] = 9;
    rec.write('localhost', r + f.host);
    rec[r + f.ctype_len] = 9;
    rec.write('text/html', r + f.ctype);
    req.copy(rec, r + WL_HTTP_EX.size);
    resp.copy(rec, r + WL_HTTP_EX.size + req.length);
    records.push(rec);
  }
  return Buffer.concat(records);
}

/** `wirelens http`'s record path: exchange record -> exchange -> shown form and endpoint table, -> line/JSON. */
export function httpRecordPath(): string {
  const batch = httpBatch(20_000);
  const clock = new Clock();
  const layout = httpTextLayout(120);
  let chars = 0;
  const pass = (out: (v: HttpView) => string | undefined): number => {
    const stats = new HttpStats();
    return perRecordUs(
      batch,
      (v, off, len) => {
        const r = decodeHttpRecord(v, off, len);
        if (!r) return;
        const view = httpView(exchangeOf(r, false), true);
        stats.add(view);
        chars += out(view)?.length ?? 1;
      },
      () => undefined,
    );
  };
  const decode = pass(() => undefined);
  const human = pass((v) => httpLine(v, clock, layout, false));
  const json = pass((v) => httpJson(v, clock, false));
  if (chars === 0) throw new Error('http record path bench printed nothing');
  return perRecordTable(
    'http record path in user space (20,000 server exchange records with request and status lines in the ring layout, CPU µs per record, median of 15 passes)',
    ['decode + view + table', '+ line', '+ JSON'],
    decode,
    human,
    json,
  );
}
