/**
 * The one place that loads the native addon (native/). Everything else in
 * src/ goes through src/kernel's typed wrappers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WlError } from '../errors';

export interface NativeProgramInfo {
  name: string;
  section: string;
  type: string;
  autoload: boolean;
}

export interface NativeMapInfo {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  internal: boolean;
}

export type AttachTarget =
  | { kind: 'auto' }
  | { kind: 'kprobe'; func: string; retprobe?: boolean }
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'uprobe'; path: string; func?: string; offset?: number; retprobe?: boolean; pid?: number }
  | { kind: 'cgroup'; path: string }
  | { kind: 'iter'; map?: string }
  | { kind: 'xdp'; ifindex: number }
  | { kind: 'tcx'; ifindex: number; ingress: boolean }
  | { kind: 'tc'; ifindex: number; ingress: boolean; handle?: number; priority?: number };

export interface NativeLink {
  readonly kind: string;
  /** Classic TC: whether attaching created the clsact qdisc, and the filter's place. */
  readonly createdHook?: boolean;
  readonly handle?: number;
  readonly priority?: number;
  /** Classic TC: the id of the program the filter runs. */
  readonly progId?: number;
  close(): void;
  fd(): number;
}

export interface NativeBpfObject {
  programs(): NativeProgramInfo[];
  maps(): NativeMapInfo[];
  setAutoload(program: string, on: boolean): void;
  setMaxEntries(map: string, n: number): void;
  setGlobal(variable: string, value: Buffer): void;
  load(): void;
  attach(program: string, target?: AttachTarget): NativeLink;
  mapFd(map: string): number;
  progFd(program: string): number;
  close(): void;
}

export interface NativeRingBuffer {
  /** Hands what the ring holds now to onBatch, synchronously; returns its bytes (0: none). */
  consume(): number;
  /** The ring's data pages, mapped twice in a row, read-only (detached at close). */
  memory(): ArrayBuffer;
  /**
   * From inside a batch handler: writes `count` (offset, length) ranges of
   * memory() to fd in order (writev); the bytes written, or -errno.
   */
  writeRanges(fd: number, ranges: Uint32Array, count: number): number;
  close(): void;
}

export interface NativeTcFilter {
  handle: number;
  priority: number;
  kind: string;
  /** bpf filters: the program's id (0 otherwise). */
  progId: number;
  name: string;
}

export interface BtfMember {
  name: string;
  offset: number;
  size: number;
}

export interface NativeBinding {
  BpfObject: new (path: string) => NativeBpfObject;
  /** onBatch reads memory() from start towards end and returns the bytes it read: the kernel reuses them after. */
  RingBuffer: new (mapFd: number, onBatch: (start: number, end: number) => number, pollMs?: number) => NativeRingBuffer;
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapDump(fd: number, keySize: number, valueSize: number, max: number): { count: number; keys: Buffer; values: Buffer };
  numPossibleCpus(): number;
  btfStruct(name: string, objectPath?: string): { size: number; members: BtfMember[] } | null;
  btfEnum(name: string, objectPath?: string): { name: string; value: number }[] | null;
  probeMapType(name: string): number;
  listPrograms(): { id: number; name: string; type: string }[];
  listLinks(): { id: number; progId: number; type: string }[];
  takeLibbpfLog(): string;
  /** Runs a BPF iterator once over all its elements; returns the bytes it wrote. */
  iterRun(linkFd: number): number;
  /** Runs an iterator over a namespace's objects (iter/tcp) once in each network namespace given; returns how many it ran in. */
  iterRunIn(linkFd: number, netnsPaths: string[]): number;
  /** As iterRunIn, with what the iterator wrote (bpf_seq_write) in each namespace, at most maxBytes; null where it did not run. */
  iterReadIn(linkFd: number, netnsPaths: string[], maxBytes: number): (Buffer | null)[];
  /** A pidfd of process pid, or -errno. */
  pidfdOpen(pid: number): number;
  /** Gives an inet socket of another process (its fd targetFd) `value` in a socket-storage map: 1 done, 0 not inet or already set, -errno. */
  ownSocket(mapFd: number, pidfd: number, targetFd: number, value: Buffer): number;
  tcFilters(ifindex: number, ingress: boolean): NativeTcFilter[];
  tcDetach(ifindex: number, ingress: boolean, handle: number, priority: number): boolean;
  tcRemoveClsact(ifindex: number): boolean;
  setLibbpfDebug(on: boolean): void;
  libbpfVersion(): string;
  /** libpcap: a pcap-filter expression compiled to classic BPF (8-byte instructions). */
  pcapCompile(expression: string, linkType: number, snaplen: number, optimize: boolean): Buffer;
  /** libpcap's own interpreter: 0 rejects, else the snap length. */
  pcapFilter(insns: Buffer, packet: Buffer, wireLength: number): number;
  pcapLinkTypeName(linkType: number): string | null;
  pcapVersion(): string;
  /** Loads raw eBPF instructions as a program of the named type (libbpf's names); returns its fd. */
  progLoad(type: string, insns: Buffer, name: string, attachType?: string): number;
  progTestRun(fd: number, data: Buffer, repeat?: number): { retval: number; durationNs: number };
  closeFd(fd: number): void;
}

/** Repository root (holds build/ and native/), found from this file's place in dist/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bpf'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', '..');
}

let binding: NativeBinding | undefined;

export function native(): NativeBinding {
  if (binding) return binding;
  const file = path.join(repoRoot(), 'native', 'build', 'Release', 'wirelens_native.node');
  if (!fs.existsSync(file)) {
    throw new WlError('WL_ERR_NOT_BUILT', `native addon not built (${file} is missing)`, {
      remedy: 'run `bash scripts/setup.sh`, or `npm run build:native` after installing libbpf-dev, g++ and make',
    });
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require(file) as NativeBinding;
  } catch (e) {
    throw new WlError('WL_ERR_NOT_BUILT', `cannot load native addon ${file}: ${(e as Error).message}`, {
      remedy: 'rebuild it with `npm run build:native` (is libbpf1 installed?)',
      cause: e,
    });
  }
  return binding;
}

/** Path of a compiled BPF object, e.g. bpfObjectPath('tcp_life'). */
export function bpfObjectPath(name: string): string {
  const file = path.join(repoRoot(), 'build', 'bpf', `${name}.bpf.o`);
  if (!fs.existsSync(file)) {
    throw new WlError('WL_ERR_NOT_BUILT', `BPF object ${file} is missing`, {
      remedy: 'run `npm run build:bpf` (needs clang, bpftool and the kernel BTF at /sys/kernel/btf/vmlinux)',
    });
  }
  return file;
}
