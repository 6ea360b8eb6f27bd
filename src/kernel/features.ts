/**
 * Which hook kinds work on this kernel, learned by loading and attaching a
 * trivial program of each kind (bpf/features.bpf.c), never from the version.
 * Three outcomes: supported, unsupported (conclusive, with the minimum
 * kernel), probeFailed (could not tell: not cached, callers may still try).
 * Conclusive answers are cached for this boot in /run/wirelens.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { AttachTarget, bpfObjectPath, native } from './native';
import { BpfObject } from './object';
import { cgroup2Root } from './cgroup';

export type HookKind =
  | 'kprobe'
  | 'fentry'
  | 'tp_btf'
  | 'raw_tp'
  | 'tracepoint'
  | 'syscall_tracepoint'
  | 'uprobe'
  | 'cgroup'
  | 'iter'
  | 'tc'
  | 'tcx'
  | 'xdp'
  | 'ringbuf';

export type Support =
  | { state: 'supported'; ms: number }
  | { state: 'unsupported'; reason: string; minKernel: string; ms: number; errno?: number }
  | { state: 'probeFailed'; reason: string; ms: number };

interface ProbeSpec {
  program?: string;
  /** Attach target; undefined: load only (attaching has side effects). */
  target?: () => AttachTarget;
  minKernel: string;
  what: string;
  /** Kernel build options it needs, named when a kernel new enough lacks it. */
  configs?: string[];
}

function libcPath(): string {
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const m = /\s(\/\S*libc[.-][^\s]*\.so[^\s]*)$/m.exec(maps) ?? /\s(\/\S*libc\.so\.6)$/m.exec(maps);
  if (!m) throw new Error('libc not found in /proc/self/maps');
  return m[1]!;
}

export const HOOK_PROBES: Record<HookKind, ProbeSpec> = {
  kprobe: {
    program: 'wl_probe_kprobe',
    minKernel: '4.1',
    what: 'kprobes',
    configs: ['CONFIG_KPROBES', 'CONFIG_KPROBE_EVENTS'],
  },
  fentry: {
    program: 'wl_probe_fentry',
    minKernel: '5.5',
    what: 'fentry/fexit BPF trampolines',
    configs: ['CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS'],
  },
  tp_btf: { program: 'wl_probe_tp_btf', minKernel: '5.5', what: 'BTF-typed raw tracepoints (tp_btf)' },
  raw_tp: { program: 'wl_probe_raw_tp', minKernel: '4.17', what: 'raw tracepoints' },
  tracepoint: { program: 'wl_probe_tracepoint', minKernel: '4.7', what: 'tracepoints (sock, tcp, skb)' },
  syscall_tracepoint: {
    program: 'wl_probe_syscall_tp',
    minKernel: '4.7',
    what: 'syscall tracepoints',
    configs: ['CONFIG_FTRACE_SYSCALLS'],
  },
  uprobe: {
    program: 'wl_probe_uprobe',
    target: () => ({ kind: 'uprobe', path: libcPath(), func: 'getpid' }),
    minKernel: '4.3',
    what: 'uprobes',
    configs: ['CONFIG_UPROBES', 'CONFIG_UPROBE_EVENTS'],
  },
  cgroup: {
    program: 'wl_probe_cgroup',
    target: () => ({ kind: 'cgroup', path: cgroup2Root() }),
    minKernel: '5.7',
    what: 'cgroup socket and packet programs through bpf_link (root cgroup v2)',
  },
  iter: { program: 'wl_probe_iter', minKernel: '5.9', what: 'BPF iterators (probed over maps)' },
  tc: {
    program: 'wl_probe_tc',
    minKernel: '4.1',
    what: 'TC classifier programs (attach checked when used)',
    configs: ['CONFIG_NET_CLS_BPF', 'CONFIG_NET_SCH_INGRESS'],
  },
  tcx: {
    program: 'wl_probe_tc',
    target: () => ({ kind: 'tcx', ifindex: 1, ingress: true }),
    minKernel: '6.6',
    what: 'TC attached through bpf_link (tcx)',
  },
  xdp: {
    program: 'wl_probe_xdp',
    target: () => ({ kind: 'xdp', ifindex: 1 }),
    minKernel: '5.9',
    what: 'XDP through bpf_link',
  },
  ringbuf: { minKernel: '5.8', what: 'BPF ring buffer maps' },
};

export const ALL_HOOK_KINDS = Object.keys(HOOK_PROBES) as HookKind[];

// errno values that conclusively mean "this kernel does not do that" (now).
// EPERM is policy (lockdown, LSM, sysctl) rather than capability: it is
// reported like the others but never cached, since policy can change.
const CONCLUSIVE = new Set([
  1 /*EPERM*/, 2 /*ENOENT*/, 3 /*ESRCH*/, 22 /*EINVAL*/, 95 /*EOPNOTSUPP*/, 524 /*ENOTSUPP*/,
]);

function classify(e: unknown, spec: ProbeSpec, step: string, ms: number): Support {
  const errno = (e as { errno?: number }).errno;
  const msg = e instanceof Error ? e.message : String(e);
  const reason = `${step} failed: ${msg.replace(/^.*?: (?=[^:]+$)/, '')}`;
  if (errno !== undefined && CONCLUSIVE.has(errno))
    return { state: 'unsupported', reason, minKernel: spec.minKernel, ms, errno };
  return { state: 'probeFailed', reason: `${step} failed: ${msg}`, ms };
}

/** Probes one kind now (no cache). Needs root; without it the answer is probeFailed. */
export function probeHook(kind: HookKind): Support {
  const spec = HOOK_PROBES[kind];
  const t0 = performance.now();
  const ms = (): number => Math.round((performance.now() - t0) * 10) / 10;
  if (kind === 'ringbuf') {
    const r = native().probeMapType('ringbuf');
    if (r === 1) return { state: 'supported', ms: ms() };
    if (r === 0) return { state: 'unsupported', reason: 'map type rejected', minKernel: spec.minKernel, ms: ms() };
    return { state: 'probeFailed', reason: `probe returned ${r}`, ms: ms() };
  }
  let obj: BpfObject | undefined;
  try {
    obj = BpfObject.open('features');
    obj.setAutoload(spec.program!, true);
    try {
      obj.load();
    } catch (e) {
      return classify((e as { cause?: unknown }).cause ?? e, spec, 'load', ms());
    }
    if (spec.target || kind !== 'tc') {
      try {
        const link = obj.attach(spec.program!, spec.target ? spec.target() : { kind: 'auto' });
        link.close();
      } catch (e) {
        return classify(e, spec, 'attach', ms());
      }
    }
    return { state: 'supported', ms: ms() };
  } catch (e) {
    return { state: 'probeFailed', reason: e instanceof Error ? e.message : String(e), ms: ms() };
  } finally {
    obj?.close();
  }
}

const CACHE_DIR = '/run/wirelens';
const CACHE_FILE = `${CACHE_DIR}/features.json`;

let cachedKey: string | undefined;

/** What the cache is valid for (this boot, libbpf, the probe object); read once per process. */
function cacheKey(): string {
  cachedKey ??= computeCacheKey();
  return cachedKey;
}

function computeCacheKey(): string {
  let boot = '';
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    /* no boot id: key on release only */
  }
  let probes = '';
  try {
    const st = fs.statSync(bpfObjectPath('features'));
    probes = `${st.size}:${st.mtimeMs}`;
  } catch {
    /* not built: nothing will be probed anyway */
  }
  return `${os.release()}|${boot}|${native().libbpfVersion()}|${probes}`;
}

function readCache(): Partial<Record<HookKind, Support>> {
  try {
    const data = JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8')) as { key?: string; results?: Record<string, Support> };
    if (data.key === cacheKey() && data.results) return data.results as Partial<Record<HookKind, Support>>;
  } catch {
    /* absent or unreadable: probe again */
  }
  return {};
}

function writeCache(results: Partial<Record<HookKind, Support>>): void {
  const conclusive: Record<string, Support> = {};
  for (const [k, v] of Object.entries(results)) {
    if (v && v.state === 'supported') conclusive[k] = v;
    else if (v && v.state === 'unsupported' && v.errno !== 1 && v.errno !== 13) conclusive[k] = v;
  }
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
    const tmp = `${CACHE_FILE}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ key: cacheKey(), results: conclusive }));
    fs.renameSync(tmp, CACHE_FILE);
  } catch {
    /* read-only /run: fine, we probe next time */
  }
}

export class Features {
  private readonly results: Partial<Record<HookKind, Support>>;
  readonly fromCache = new Set<HookKind>();

  /** useCache false: probe everything afresh (doctor), still writing the cache. */
  constructor(opts: { useCache?: boolean; preset?: Partial<Record<HookKind, Support>> } = {}) {
    this.results = opts.preset ? { ...opts.preset } : (opts.useCache ?? true) ? readCache() : {};
    for (const k of Object.keys(this.results)) this.fromCache.add(k as HookKind);
    this.writes = !opts.preset;
  }

  private readonly writes: boolean;

  get(kind: HookKind): Support {
    let r = this.results[kind];
    if (!r) {
      r = probeHook(kind);
      this.results[kind] = r;
      if (this.writes && r.state !== 'probeFailed') writeCache(this.results);
    }
    return r;
  }

  /** Supported or could-not-tell: worth loading. */
  usable(kind: HookKind): boolean {
    return this.get(kind).state !== 'unsupported';
  }

  all(kinds: HookKind[] = ALL_HOOK_KINDS): Record<HookKind, Support> {
    const out = {} as Record<HookKind, Support>;
    for (const k of kinds) out[k] = this.get(k);
    return out;
  }
}
