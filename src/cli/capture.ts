/**
 * wirelens capture: tcpdump's job, with the filter expression run in the
 * kernel and the process on every packet. Composes a source (the kernel
 * capture, or a pcap/pcapng file with -r) with sinks (text lines or JSON on
 * stdout, pcapng files with -w), and prints tcpdump's summary at the end.
 */
import * as fs from 'node:fs';
import { WlError } from '../errors';
import { Features } from '../kernel/features';
import { netnsInode } from '../kernel/netns';
import { resolveCgroup } from '../kernel/cgroup';
import { native } from '../kernel/native';
import { Iface, listIfaces, resolveIface, upIfaces } from '../kernel/tc';
import { CaptureInterface, LINKTYPE, Packet } from '../model/packet';
import { KernelCapture, headerKinds, hookLink, isLoopback, planFilter, sll2Frame } from '../probes/capture';
import { classicText, decodeClassic } from '../filter/cbpf';
import { ebpfText } from '../filter/ebpf';
import { PacketText, TimeFormat } from '../output/packet-text';
import { packetJson } from '../output/packet-json';
import { CaptureFiles, RangeWriter } from '../output/capture-files';
import { CaptureReader } from '../sources/pcap/capture-reader';
import { escapeTerminal } from '../text/sanitize';
import { LineBatch } from '../output/line-batch';
import { onStdoutClosed, stdoutBacklog, writeOut } from '../output/stdout';
import { CaptureOptions, captureHelp, parseCaptureArgs } from './capture-args';
import { reportChoices } from './live';
import { collectStartGarbage } from './heap';
import { preflight } from './preflight';
import { STOPPED, StopRequest, catchStopSignals } from './signals';
import { captureProblem, inputStream } from './offline';

const DEFAULT_RING_KIB = 8192;
/** Output waiting for a slow reader of stdout above this: packets are dropped and counted. */
const MAX_BACKLOG = 64 << 20;

/** libpcap's DLT for a file's LINKTYPE (they differ only for raw IP). */
function dltOf(linkType: number): number {
  return linkType === LINKTYPE.RAW ? 12 : linkType;
}

// -ttt prints its own delta in place of the time.
const TIME_STYLES: TimeFormat[] = ['default', 'none', 'epoch', 'none', 'date'];

function textOptions(o: CaptureOptions) {
  return {
    verbose: o.verbose > 0,
    link: o.linkHeader,
    quick: o.quick,
    time: TIME_STYLES[o.timeStyle]!,
    ascii: o.ascii,
    hex: o.hex,
    redact: o.redact,
  };
}

/** -t 3 (-ttt): the time since the previous packet, as tcpdump prints it. */
function deltaText(prev: { sec: number; nsec: number } | undefined, p: Packet): string {
  if (!prev) return '00:00:00.000000';
  let ns = (p.sec - prev.sec) * 1e9 + (p.nsec - prev.nsec);
  if (ns < 0) ns = 0;
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1e6);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(us % 1e6, 6)}`;
}

/** Every interface that is up (for -i any). */
function listInterfaces(): string {
  const lines = listIfaces().map((name, i) => {
    const flags: string[] = [];
    try {
      const f = Number.parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16);
      flags.push(f & 1 ? 'Up' : 'Down');
      const oper = fs.readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim();
      if (oper === 'up' || oper === 'unknown') flags.push('Running');
      if (f & 8) flags.push('Loopback');
    } catch {
      /* gone meanwhile */
    }
    return `${i + 1}.${escapeTerminal(name)} [${flags.join(', ')}]`;
  });
  lines.push(`${lines.length + 1}.any (every interface that is up, with TC)`);
  lines.push(
    `(without -i: every local socket's packets, from the IP header, with their process, in every network namespace)`,
  );
  return lines.join('\n');
}

/**
 * -d: libpcap's classic program and the eBPF the kernel runs, per hook; for
 * interfaces with different headers (SLL2), one eBPF program per header kind
 * (shown for arriving packets; the leaving ones' differ in the packet type).
 */
function dumpPrograms(o: CaptureOptions, ifaces: Iface[]): string {
  const { dlt, sll2 } = hookLink(ifaces);
  const names = (l: Iface[]) => l.map((i) => escapeTerminal(i.name)).join(', ');
  const kinds = sll2 ? headerKinds(ifaces) : [];
  const plan = planFilter(o.expression, dlt, o.snaplen, kinds[0] && sll2Frame(kinds[0], false));
  const out = [`# ${ifaces.length ? 'TC on ' + names(ifaces) : 'socket packets (raw IP)'}`];
  if (sll2) out.push('# link-layer headers differ: packets are LINUX_SLL2, as tcpdump -i any writes them');
  out.push('# classic BPF (libpcap, as tcpdump -d prints it)');
  decodeClassic(plan.classic).forEach((i, pc) => out.push(classicText(i, pc)));
  if (!plan.translated) {
    out.push(`# not run in the kernel: ${plan.userSpaceReason}; libpcap filters in user space`);
    return out.join('\n');
  }
  if (!sll2) {
    out.push('# eBPF run in the kernel (a match tail-calls the emit program)');
    plan.translated.forEach((i, pc) => out.push(ebpfText(i, pc)));
    return out.join('\n');
  }
  for (const k of kinds) {
    const header = k.l2Len ? `${k.l2Len}-byte link-layer header` : 'no link-layer header';
    out.push(
      `# eBPF run in the kernel on ${names(k.ifaces)} (ARPHRD ${k.haType}, ${header}; the SLL2 header made from the packet)`,
    );
    const p = planFilter(o.expression, dlt, o.snaplen, sll2Frame(k, false));
    p.translated?.forEach((i, pc) => out.push(ebpfText(i, pc)));
  }
  return out.join('\n');
}

/** Where packets go: text or JSON lines on stdout, and/or pcapng files. */
class Sinks {
  private readonly text: PacketText;
  private readonly files: CaptureFiles | undefined = undefined;
  private readonly pending: LineBatch;
  private prev: { sec: number; nsec: number } | undefined;
  /** Interface ids in the files, by the source's interface index. */
  private readonly fileIds = new Map<number, number>();
  captured = 0;

  /** `hostNetns`: live capture's own network namespace (packets of others say theirs). */
  constructor(
    private readonly o: CaptureOptions,
    private readonly interfaces: () => readonly CaptureInterface[],
    out: (s: string) => void,
    hostNetns?: number,
  ) {
    const own = hostNetns !== undefined ? { hostNetns } : {};
    this.text = new PacketText({ ...textOptions(o), ...own });
    this.pending = new LineBatch(out);
    if (o.write !== undefined) {
      const files = new CaptureFiles({
        ...own,
        path: o.write,
        ...(o.fileSizeMB !== undefined ? { sizeMB: o.fileSizeMB } : {}),
        ...(o.fileCount !== undefined ? { files: o.fileCount } : {}),
        ...(o.rotateSeconds !== undefined ? { rotateSeconds: o.rotateSeconds } : {}),
      });
      const bad = files.open();
      if (bad)
        throw new WlError('WL_ERR_USAGE', `-w: ${escapeTerminal(bad)}`, {
          remedy: 'check the path and its permissions',
        });
      this.files = files;
    }
  }

  /** A file that failed (the capture stops), or -G -W's last file done. */
  fileProblem: string | undefined;

  get filesDone(): boolean {
    return this.files?.done === true;
  }

  /** Text goes to stdout unless -w - takes it. */
  private get printing(): boolean {
    return this.o.write === undefined;
  }

  /** Packets not written because stdout's reader fell behind by more than MAX_BACKLOG (counted, said at exit). */
  tooSlow = 0;

  packet(p: Packet): void {
    if (this.o.write === '-' || this.printing) {
      if (stdoutBacklog() > MAX_BACKLOG) {
        this.tooSlow++;
        return;
      }
    }
    if (this.files) {
      if (this.files.done) return;
      let id = this.fileIds.get(p.iface);
      if (id === undefined) {
        id = this.files.addInterface(this.interfaces()[p.iface]!);
        this.fileIds.set(p.iface, id);
      }
      // A copy names the file's interface id; `data` is read explicitly (a source may give it as a getter).
      const bad = this.files.packet(p.iface === id ? p : { ...p, data: p.data, iface: id });
      // -G -W: this packet would open one file too many; it is not written, so not captured.
      if (this.files.done) return;
      if (bad) this.fileProblem ??= bad;
      else if (this.o.packetBuffered) this.files.flush();
    }
    this.captured++;
    if (!this.printing) return;
    const iface = this.interfaces()[p.iface];
    let line: string;
    if (this.o.json) line = packetJson(p, iface);
    else {
      line = this.text.format(p, iface);
      if (this.o.timeStyle === 3) line = `${deltaText(this.prev, p)} ${line}`;
    }
    this.prev = { sec: p.sec, nsec: p.nsec };
    this.pending.push(line + '\n');
    if (this.o.lineBuffered) this.flush();
  }

  /**
   * Packets come as kernel-made blocks too (capture -w FILE): every
   * interface goes into the files now, in the capture's order, so the ids
   * the kernel writes are the files' ids; false when the output cannot take
   * blocks (stdout).
   */
  acceptBlocks(ifaces: readonly CaptureInterface[], write: RangeWriter): boolean {
    if (!this.files?.acceptRanges(write)) return false;
    ifaces.forEach((i, k) => {
      if (!this.fileIds.has(k)) this.fileIds.set(k, this.files!.addInterface(i));
    });
    return true;
  }

  /** A kernel-made block (acceptBlocks): `length` bytes at `offset` of the ring, of second `sec`. */
  block(offset: number, length: number, sec: number): void {
    const files = this.files!;
    if (files.done) return;
    const bad = files.block(offset, length, sec);
    if (files.done) return;
    if (bad) this.fileProblem ??= bad;
    else this.captured++;
  }

  /** The end of a batch of the ring: its blocks are written now. */
  batchEnd(): void {
    const bad = this.files?.flushRanges();
    if (bad) this.fileProblem ??= bad;
  }

  flush(): void {
    this.pending.flush();
    const bad = this.files?.flush();
    if (bad) this.fileProblem ??= bad;
  }

  /**
   * Flushes and closes. `stats` (live capture) become the last file's
   * statistics block, the summary's figures: isb_filteraccept = captured,
   * isb_ifrecv = received by filter, isb_ifdrop = dropped by kernel (the
   * fields dumpcap writes ps_recv and ps_drop to). The kernel counts per
   * capture, not per interface: one block, on the first interface.
   */
  close(stats?: { received: number; dropped: number }): void {
    this.flush();
    if (this.files) {
      const first = this.fileIds.values().next();
      const isb =
        stats && !first.done
          ? [
              {
                iface: first.value,
                stats: { captured: this.captured, received: stats.received, dropped: stats.dropped },
              },
            ]
          : [];
      const bad = this.files.close(isb);
      if (bad) this.fileProblem ??= bad;
    }
  }
}

function summary(err: (m: string) => void, captured: number, received: number, dropped: number): void {
  const n = (x: number, what: string) => `${x} ${what}${x === 1 ? '' : 's'}`;
  err(`${n(captured, 'packet')} captured`);
  err(`${n(received, 'packet')} received by filter`);
  err(`${n(dropped, 'packet')} dropped by kernel`);
}

const plainErr = (m: string): void => void process.stderr.write(`${m}\n`);
const wlErr = (m: string): void => void process.stderr.write(`wirelens: ${m}\n`);

async function readFile(o: CaptureOptions, out: (s: string) => void): Promise<number> {
  const path = o.read!;
  const reader = new CaptureReader();
  const filters = new Map<number, Buffer | null>();
  const sinks = new Sinks(o, () => reader.interfaces, out);
  let announced = false;
  let done = false;
  const filterFor = (linkType: number): Buffer | null => {
    let f = filters.get(linkType);
    if (f === undefined) {
      f = o.expression.trim() === '' ? null : planFilter(o.expression, dltOf(linkType), o.snaplen).classic;
      filters.set(linkType, f);
    }
    return f;
  };
  const take = (packets: Packet[]): void => {
    for (const p of packets) {
      if (done) return;
      if (!announced) {
        const i = reader.interfaces[p.iface];
        const name = native().pcapLinkTypeName(dltOf(p.linkType)) ?? `${p.linkType}`;
        plainErr(
          `reading from file ${path === '-' ? '-' : escapeTerminal(path)}, link-type ${name}, snapshot length ${i?.snaplen ?? 0}`,
        );
        announced = true;
      }
      const f = filterFor(p.linkType);
      if (
        f &&
        native().pcapFilter(f, Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), p.wireLen) === 0
      )
        continue;
      sinks.packet(p);
      if ((o.count !== undefined && sinks.captured >= o.count) || sinks.filesDone) done = true;
    }
  };

  if (o.expression.trim() !== '') planFilter(o.expression, 1, o.snaplen); // a syntax error before any packet
  let fd: number | undefined;
  if (path !== '-') {
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      const streamError = `cannot open it (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
      const p = captureProblem(escapeTerminal(path), { streamError }, reader.format, 0, 'packets')!;
      throw new WlError('WL_ERR_USAGE', p.message, { remedy: p.remedy });
    }
  }
  // Ctrl-C or SIGTERM (a pipe or FIFO that stays open): stop reading, write what was read, as at the end.
  const stopper = new StopRequest();
  const unlisten = catchStopSignals((sig) => stopper.stop(sig));
  const stream = fd === undefined ? process.stdin : inputStream(fd);
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = chunks.next();
      next.catch(() => undefined); // left waiting at a stop, it settles when the stream is destroyed
      const got = await Promise.race([next, stopper.stopped]);
      if (got === STOPPED || got.done === true) break;
      take(reader.push(got.value));
      sinks.flush();
      if (reader.error !== undefined || done) break;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const streamError = `cannot read it (${code ?? (e as Error).message})`;
    const p = captureProblem(escapeTerminal(path), { streamError }, reader.format, sinks.captured, 'packets')!;
    throw new WlError('WL_ERR_USAGE', p.message, { remedy: p.remedy });
  } finally {
    unlisten();
    stream.destroy();
  }
  if (stopper.why !== undefined) wlErr(`stopped (${stopper.why})`);
  else if (!done) reader.end();
  sinks.close();
  for (const n of reader.notes) wlErr(`note: ${escapeTerminal(n)}`);
  const problem = captureProblem(
    path === '-' ? 'standard input' : escapeTerminal(path),
    { readerError: reader.error },
    reader.format,
    sinks.captured,
    'packets',
  );
  if (problem !== undefined) {
    wlErr(`error: ${problem.message}`);
    wlErr(`remedy: ${problem.remedy}`);
    return 2;
  }
  if (!announced && reader.interfaces.length === 0) wlErr(`-r ${escapeTerminal(path)}: no packets in it`);
  return 0;
}

async function live(o: CaptureOptions, out: (s: string) => void): Promise<number> {
  const verbose = (m: string): void => {
    if (o.verbose > 0) wlErr(m);
  };
  const names = o.ifaces.includes('any') ? upIfaces() : [...new Set(o.ifaces)];
  // Interfaces with and without an Ethernet header: one LINUX_SLL2 capture (hookLink), as tcpdump -i any.
  const used = names.map((n) => resolveIface(n));
  if (o.dump) {
    out(dumpPrograms(o, used) + '\n');
    return 0;
  }
  const cgroup = o.cgroup !== undefined ? resolveCgroup(o.cgroup) : undefined;

  let stop: (why: string) => void = () => undefined;
  const unlisten = catchStopSignals((sig) => stop(sig));

  const tc = used.length > 0;
  const { linkType } = hookLink(used);
  // The capture numbers its interfaces as packets name them (cap exists before the first packet).
  let cap: KernelCapture | undefined;
  const sinks = new Sinks(o, () => cap?.interfaces ?? [], out, netnsInode());
  let stopping = false;
  const enough = (): boolean => stopping && o.count !== undefined && sinks.captured >= o.count;
  const after = (): void => {
    if (o.count !== undefined && sinks.captured >= o.count) stop(`${o.count} packets`);
    else if (sinks.fileProblem) stop('a capture file failed');
    else if (sinks.filesDone) stop(`${o.fileCount} files written`);
  };
  const onPacket = (p: Packet): void => {
    if (enough()) return;
    sinks.packet(p);
    after();
  };
  // -w FILE: the kernel makes each packet's pcapng block, written from the ring as it is.
  let blocksOn = false;
  const blocks =
    o.write !== undefined && o.write !== '-'
      ? {
          hostNetns: netnsInode(),
          seconds: o.rotateSeconds !== undefined,
          onBlock: (offset: number, length: number, sec: number): void => {
            if (!blocksOn || enough()) return;
            sinks.block(offset, length, sec);
            after();
          },
          onBatchEnd: () => sinks.batchEnd(),
        }
      : undefined;

  // A file is not watched as it grows, and each wake-up costs CPU: writing one, the kernel wakes us once
  // a quarter of the ring waits or 200 ms passed while packets come, and the ring is drained once a
  // second when nothing did (the last packets). Lines on a terminal, and -U, come within 50 ms.
  const toFile = o.write !== undefined && o.write !== '-' && !o.packetBuffered;
  const ringBytes = (o.bufferKiB ?? DEFAULT_RING_KIB) * 1024;
  const latency = o.immediate
    ? { wakeMs: 1, drainMs: 10 }
    : toFile
      ? { wakeMs: 200, drainMs: 1000, wakeupBytes: ringBytes / 4 }
      : { wakeMs: 50, drainMs: 50 };
  const t0 = performance.now();
  let kc: KernelCapture;
  try {
    preflight(wlErr, verbose);
    const spec = {
      ifaces: used,
      expression: o.expression,
      snaplen: o.snaplen,
      directions: { in: o.direction !== 'out', out: o.direction !== 'in' },
      filters: { pids: o.pids, comm: o.comm, ports: [] },
      uid: o.uid,
      cgroup,
      hookMode: o.hookMode,
      features: new Features(),
      ringBytes,
      onPacket,
      latency,
    };
    try {
      kc = cap = new KernelCapture(blocks ? { ...spec, blocks } : spec);
    } catch (e) {
      if (!blocks) throw e;
      // The programs that make pcapng blocks refused (an older verifier): user space writes every packet.
      kc = cap = new KernelCapture(spec);
      verbose(
        `pcapng blocks are not made in the kernel here (${(e as Error).message}): packets are written from user space`,
      );
    }
    // Files opened by path take blocks (o.write is one): `blocksOn` turns true before the first batch.
    if (kc.blocks) blocksOn = sinks.acceptBlocks(kc.interfaces, (fd, r, n) => kc.writeRanges(fd, r, n));
  } catch (e) {
    unlisten();
    cap?.close();
    sinks.close();
    throw e;
  }
  collectStartGarbage();
  verbose(`attached in ${(performance.now() - t0).toFixed(1)} ms`);
  reportChoices(cap.choices, wlErr, verbose);
  const old = cap.existingOwners;
  if (old) verbose(`${old.owned} sockets older than the capture given their process (${old.ms.toFixed(0)} ms)`);
  if (cap.userSpaceFilter) {
    wlErr(`warning: the expression runs in user space (${cap.userSpaceFilter}): every packet is copied to be judged`);
  }
  if (tc && used.some(isLoopback) && o.direction === 'out') {
    wlErr('note: on a loopback interface wirelens sees each packet once, as it arrives (-Q out shows none of it)');
  }
  const where = tc ? used.map((i) => i.name).join(', ') : 'every local socket (with processes)';
  const linkName = native().pcapLinkTypeName(dltOf(linkType)) ?? String(linkType);
  plainErr(`listening on ${escapeTerminal(where)}, link-type ${linkName}, snapshot length ${o.snaplen} bytes`);

  const flusher = setInterval(() => sinks.flush(), o.immediate ? 10 : toFile ? 1000 : 100);
  let lastLost = 0;
  const watch = setInterval(() => {
    const lost = cap.counts().lost;
    if (lost > lastLost) {
      wlErr(`warning: ${lost - lastLost} packets dropped by the kernel (ring buffer full); total ${lost}`);
      lastLost = lost;
    }
  }, 1000);

  return new Promise<number>((resolve) => {
    let durationTimer: NodeJS.Timeout | undefined;
    stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      setImmediate(() => {
        if (durationTimer) clearTimeout(durationTimer);
        clearInterval(flusher);
        clearInterval(watch);
        unlisten();
        unsubscribe();
        let counts;
        try {
          cap.detach();
          cap.drain();
          counts = cap.counts();
        } finally {
          cap.close();
        }
        // Received by filter: what the filter (process filters and expression) let through, whether
        // or not the ring had room, as tcpdump counts on Linux (its packet socket's tp_packets).
        const received = counts.matched - counts.userRejected;
        sinks.close({ received, dropped: counts.lost });
        verbose(`stopped (${why})`);
        verbose(`${counts.seen} packets seen by the hooks; ${counts.procFiltered} left out by the process filters`);
        summary(plainErr, sinks.captured, received, counts.lost);
        if (kc.badRecords) wlErr(`${kc.badRecords} records undecodable`);
        if (sinks.tooSlow) wlErr(`${sinks.tooSlow} packets dropped: the reader of standard output fell behind`);
        if (sinks.fileProblem) wlErr(`error: -w: ${escapeTerminal(sinks.fileProblem)}`);
        if (counts.userRejected) verbose(`${counts.userRejected} packets rejected by the filter in user space`);
        resolve(sinks.fileProblem ? 1 : 0);
      });
    };
    const unsubscribe = onStdoutClosed((why) => stop(why));
    if (o.durationS !== undefined)
      durationTimer = setTimeout(() => stop(`${o.durationS}s elapsed`), o.durationS * 1000);
  });
}

export async function captureCommand(argv: string[]): Promise<number> {
  const o = parseCaptureArgs(argv);
  const out = writeOut;
  if (o.help) {
    out(captureHelp() + '\n');
    return 0;
  }
  if (o.listIfaces) {
    out(listInterfaces() + '\n');
    return 0;
  }
  if (o.read !== undefined) {
    if (o.dump) {
      out(dumpPrograms(o, []) + '\n');
      return 0;
    }
    return readFile(o, out);
  }
  return live(o, out);
}
