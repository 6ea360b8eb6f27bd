/**
 * `wirelens doctor`: can wirelens work here, and what does it use? Each check
 * prints ok / missing / warn with a remedy. Exit status is non-zero only when
 * wirelens cannot work at all.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { UsageError, WlError } from '../errors';
import { ALL_HOOK_KINDS, Features, HOOK_PROBES, HookKind, Support } from '../kernel/features';
import { candidatesFor } from '../kernel/hooks';
import { orphanPrograms, progIdsHeldBy, removePins, wirelensPrograms } from '../kernel/leftovers';
import { removeTcLeftovers } from '../kernel/tc';
import { netnsInode } from '../kernel/netns';
import { bpfObjectPath, native } from '../kernel/native';
import { PRIVILEGE_REMEDY, readPrivileges } from '../kernel/privileges';
import { TRACEFS_REMEDY, ensureTracefs } from '../kernel/tracefs';
import { TCP_EVENT_KINDS } from '../events/tcp';
import { HookChoice, HookSlot } from '../kernel/hooks';
import { TcpLife } from '../probes/tcp-life';
import { startHttpCapture } from '../probes/http-capture';
import { TrafficCounters, trafficSlots } from '../probes/traffic';
import { startSockPayload } from '../probes/sock-payload';
import { KernelCapture } from '../probes/capture';
import { DEFAULT_SIZES, GuardCounters, guardSlots } from '../probes/guard';
import { Check, formatReport } from '../output/doctor-report';
import { atLeast, readKernelConfig } from '../kernel/kconfig';
import { writeOut } from '../output/stdout';
import { FlagSpec, flagHelp, parseArgs } from './args';
import { BTF_PATH, BTF_REMEDY, describeOrphans } from './preflight';

const DOCTOR_FLAGS: FlagSpec[] = [
  { name: 'json', type: 'bool', help: 'print the report as one JSON object' },
  {
    name: 'clean',
    type: 'bool',
    help: 'first remove what a killed wirelens left in this network namespace',
  },
  { name: 'help', short: 'h', type: 'bool', help: 'show this help' },
];

/** What is lost when a kind is missing, and what is used instead. */
const CONSEQUENCE: Partial<Record<HookKind, string>> = {
  kprobe: 'kernel lacks kprobes: tracepoint and syscall-tracepoint fallbacks are used instead',
  fentry: 'fentry/fexit unavailable (or refused): kprobes, else tracepoints are used instead',
  tp_btf: 'classic tracepoints are used instead (slightly more overhead)',
  raw_tp: 'classic tracepoints are used instead',
  tracepoint: 'TCP lifecycle needs tracepoints or tp_btf; check CONFIG_TRACEPOINTS',
  syscall_tracepoint: 'on kernels without kprobes/fentry, accepted connections are shown without their process',
  uprobe: 'HTTPS plaintext (SSL_read/SSL_write) cannot be captured',
  tc: 'per-packet counters on interfaces are unavailable',
  tcx: 'classic TC filters are used instead (removed at exit and at next start)',
  xdp: 'XDP-based counters are unavailable (TC is used)',
  ringbuf: 'wirelens needs BPF ring buffers (kernel 5.8+)',
};

/** Why a kind this kernel lacks is missing: its build options when the kernel is new enough, else its version. */
function whyMissing(spec: (typeof HOOK_PROBES)[HookKind]): string {
  if (!atLeast(spec.minKernel)) return `needs kernel ${spec.minKernel}+ (this is ${os.release()})`;
  if (!spec.configs) return `kernel ${os.release()} is new enough: a build option or policy leaves it out`;
  const cfg = readKernelConfig();
  if (!cfg) return `kernel ${os.release()} is new enough: likely built without ${spec.configs.join(' or ')}`;
  const unset = spec.configs.filter((c) => !cfg.values.has(c));
  if (unset.length === 0) return `${spec.configs.join(', ')} are set (${cfg.source}): a policy refuses it`;
  return `this kernel is built without ${unset.join(', ')} (${cfg.source})`;
}

function supportCheck(kind: HookKind, s: Support): Check {
  const spec = HOOK_PROBES[kind];
  if (s.state === 'supported') return { name: `hook ${kind}`, status: 'ok', detail: `${spec.what} (${s.ms} ms)` };
  const conseq = CONSEQUENCE[kind] ?? '';
  if (s.state === 'unsupported' && s.errno === 1) {
    return {
      name: `hook ${kind}`,
      status: 'warn',
      detail: `${spec.what}: refused by this kernel's policy (${s.reason}: lockdown, an LSM or a sysctl)`,
      remedy: conseq,
    };
  }
  if (s.state === 'unsupported') {
    return {
      name: `hook ${kind}`,
      status: kind === 'ringbuf' ? 'missing' : 'warn',
      detail: `${spec.what}: not available here (${s.reason}); ${whyMissing(spec)}`,
      remedy: conseq,
      fatal: kind === 'ringbuf',
    };
  }
  return { name: `hook ${kind}`, status: 'warn', detail: `${spec.what}: could not tell (${s.reason})`, remedy: conseq };
}

/** What a command loads, started the way the command starts it, and closed again. */
interface CommandProbe {
  tool: string;
  /** Starts the command's own probe family (same object, slots and load path); returns its hook choices and a close. */
  start: (features: Features) => { choices: HookChoice[]; close(): void };
  /** A variant the command falls back from: its failure is a warning saying what the fallback costs. */
  fallback?: string;
}

const NO_FILTERS = { pids: [], ports: [] };
const noop = (): void => undefined;

/** capture's programs as the command loads them (blocks: as for -w FILE, where the kernel makes pcapng blocks). */
function startCapture(features: Features, blocks: boolean): { choices: HookChoice[]; close(): void } {
  const c = new KernelCapture({
    ifaces: [],
    expression: 'tcp port 80',
    snaplen: blocks ? 262144 : 96,
    directions: { in: true, out: true },
    filters: NO_FILTERS,
    hookMode: 'auto',
    features,
    ringBytes: 1 << 16,
    onPacket: noop,
    ...(blocks ? { blocks: { hostNetns: 0, seconds: false, onBlock: noop, onBatchEnd: noop } } : {}),
  });
  if (blocks && !c.blocks) {
    c.close();
    throw new Error('no pcapng blocks');
  }
  return { choices: c.choices, close: () => c.close() };
}

export const COMMAND_PROBES: CommandProbe[] = [
  {
    tool: 'tcp',
    start: (features) => {
      const life = new TcpLife({ filters: NO_FILTERS, hookMode: 'auto', features }, noop, noop);
      return { choices: life.family.choices, close: () => life.family.close() };
    },
  },
  {
    tool: 'tcp --events all',
    start: (features) => {
      const events = new Set(TCP_EVENT_KINDS);
      const life = new TcpLife({ filters: NO_FILTERS, hookMode: 'auto', features, events }, noop, noop);
      return { choices: life.family.choices, close: () => life.family.close() };
    },
  },
  {
    tool: 'http',
    start: (features) => {
      const f = startHttpCapture({ filters: NO_FILTERS, http: {}, hookMode: 'auto', features }, noop, noop);
      return { choices: f.choices, close: () => f.close() };
    },
  },
  {
    // Counted in the kernel: no process hooks unless --pid/--comm pick the exchanges.
    tool: 'http --stats-only',
    start: (features) => {
      const f = startHttpCapture(
        { filters: NO_FILTERS, http: {}, hookMode: 'auto', features, mode: 'stats' },
        noop,
        noop,
      );
      return { choices: f.choices, close: () => f.close() };
    },
  },
  {
    tool: 'top',
    start: (features) => {
      const t = new TrafficCounters({ ifaces: [], hookMode: 'auto', features });
      return { choices: t.choices, close: () => t.close() };
    },
  },
  {
    tool: 'dns/tls',
    start: (features) => {
      const opts = {
        dns: true,
        tls: true,
        filters: NO_FILTERS,
        hookMode: 'auto' as const,
        features,
        ringBytes: 1 << 16,
      };
      const f = startSockPayload(opts, noop, noop);
      return { choices: f.choices, close: () => f.close() };
    },
  },
  {
    // Its whole object loads (the TC programs through the verifier too); with no interface the TC
    // slot attaches nothing, so it is judged below by the kind probes, as guard attaches it to each -i.
    tool: 'guard',
    start: (features) => {
      const g = new GuardCounters({
        ifaces: [],
        hookMode: 'auto',
        features,
        sizes: DEFAULT_SIZES,
        block: false,
        bucketS: 60,
      });
      const tcSlot = guardSlots([])[0]!.slot;
      return { choices: g.choices.filter((c) => c.slot !== tcSlot), close: () => g.close() };
    },
  },
  {
    // With an expression: its compiled filter is loaded and reached by tail call as the command does.
    tool: 'capture',
    start: (features) => startCapture(features, false),
  },
  {
    // -w FILE: the variant whose emit programs make pcapng blocks (more code for the verifier).
    tool: 'capture -w',
    fallback: 'each packet is written from user space instead (several times the CPU per packet)',
    start: (features) => startCapture(features, true),
  },
];

/**
 * Each command's hooks as the command gets them: its own object loaded and
 * attached through the same path (a program the kernel refuses is dropped,
 * the next candidate tried), then closed. What doctor calls ok is what the
 * command attaches.
 */
function commandChecks(features: Features, closed: Set<number>): Check[] {
  const checks: Check[] = [];
  for (const probe of COMMAND_PROBES) {
    let got: { choices: HookChoice[]; close(): void };
    try {
      got = probe.start(features);
    } catch (e) {
      const w = e as WlError;
      if (probe.fallback) {
        checks.push({ name: probe.tool, status: 'warn', detail: `refused here (${w.message}): ${probe.fallback}` });
        continue;
      }
      checks.push({
        name: probe.tool,
        status: 'missing',
        detail: `\`wirelens ${probe.tool}\` cannot run here: ${w.message}`,
        ...(w.remedy ? { remedy: w.remedy } : {}),
        fatal: probe.tool === 'tcp',
      });
      continue;
    }
    try {
      for (const c of got.choices) checks.push(choiceCheck(probe.tool, c));
    } finally {
      for (const id of progIdsHeldBy(process.pid)) closed.add(id);
      got.close();
    }
  }
  // top -i and capture -i attach to the interfaces given: their hook kinds are judged by the kind probes (tcx on lo).
  const tcSlot = trafficSlots([{ name: 'IFACE', ifindex: 1, l2Len: 14 }], undefined, undefined, '(cgroup v2 root)').at(
    -1,
  )!;
  checks.push(kindCheck('top -i, capture -i', tcSlot, features));
  checks.push(kindCheck('guard', guardSlots([{ name: 'IFACE', ifindex: 1, l2Len: 14 }])[0]!, features));
  return checks;
}

function choiceCheck(tool: string, c: HookChoice): Check {
  const name = `${tool}: ${c.slot}`;
  if (c.kind !== 'none') {
    const passed = [...new Set(c.skipped.map((s) => s.kind))];
    // A preferred program of the same kind refused: name the ones in use.
    if (passed.includes(c.kind))
      return { name, status: 'ok', detail: `via ${c.kind} ${c.programs.join(', ')} (a preferred one is refused here)` };
    return {
      name,
      status: 'ok',
      detail: `via ${c.kind}${passed.length ? ` (${passed.join(', ')} refused here)` : ''}`,
    };
  }
  return {
    name,
    status: 'warn',
    detail: `not hooked here: ${c.skipped.map((s) => `${s.kind}: ${s.reason}`).join('; ')}`,
    ...(c.degraded ? { remedy: `without it: ${c.degraded}` } : {}),
  };
}

function kindCheck(tool: string, slot: HookSlot, features: Features): Check {
  const pick = candidatesFor(slot, 'auto').find((c) => features.get(c.kind).state === 'supported');
  return pick
    ? { name: `${tool}: ${slot.slot}`, status: 'ok', detail: `via ${pick.kind}` }
    : {
        name: `${tool}: ${slot.slot}`,
        status: slot.required ? 'missing' : 'warn',
        detail: slot.required ? `no hook available: \`wirelens ${tool}\` cannot run` : `no hook available`,
      };
}

/** `freed`: program ids just let go of (filters removed by --clean), waited for rather than reported. */
export function runChecks(freed: ReadonlySet<number> = new Set()): {
  checks: Check[];
  hooks: Partial<Record<HookKind, Support>>;
} {
  const checks: Check[] = [];
  const hooks: Partial<Record<HookKind, Support>> = {};
  checks.push({ name: 'kernel', status: 'info', detail: `${os.type()} ${os.release()} ${os.arch()}` });

  const priv = readPrivileges();
  checks.push(
    priv.sufficient
      ? {
          name: 'privileges',
          status: 'ok',
          detail: priv.uid === 0 ? 'root' : 'capabilities CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN',
        }
      : {
          name: 'privileges',
          status: 'missing',
          detail: `uid ${priv.uid} lacks ${priv.missing.join(', ')}: BPF programs cannot be loaded`,
          remedy: PRIVILEGE_REMEDY,
          fatal: true,
        },
  );

  const btf = fs.existsSync(BTF_PATH);
  checks.push(
    btf
      ? { name: 'BTF', status: 'ok', detail: `${BTF_PATH} (${fs.statSync(BTF_PATH).size} bytes)` }
      : { name: 'BTF', status: 'missing', detail: `${BTF_PATH} not found`, remedy: BTF_REMEDY, fatal: true },
  );

  let built = true;
  try {
    native();
    checks.push({ name: 'native addon', status: 'ok', detail: `libbpf ${native().libbpfVersion()}` });
  } catch (e) {
    built = false;
    const w = e as WlError;
    checks.push({ name: 'native addon', status: 'missing', detail: w.message, remedy: w.remedy ?? '', fatal: true });
  }
  try {
    bpfObjectPath('tcp_life');
    bpfObjectPath('http');
    bpfObjectPath('sock_payload');
    bpfObjectPath('features');
    checks.push({ name: 'BPF objects', status: 'ok', detail: 'build/bpf/*.bpf.o present' });
  } catch (e) {
    built = false;
    const w = e as WlError;
    checks.push({ name: 'BPF objects', status: 'missing', detail: w.message, remedy: w.remedy ?? '', fatal: true });
  }

  if (!priv.sufficient) {
    const t = ensureTracefs(false);
    checks.push({
      name: 'tracefs',
      status: t.state === 'mounted' ? 'ok' : 'info',
      detail: t.state === 'mounted' ? t.path : 'not mounted (wirelens mounts it when run as root)',
    });
    checks.push({
      name: 'hooks',
      status: 'info',
      detail: 'not probed: loading test programs needs root',
      remedy: PRIVILEGE_REMEDY,
    });
    return { checks, hooks };
  }

  const t = ensureTracefs(true);
  checks.push(
    t.state === 'mounted'
      ? { name: 'tracefs', status: 'ok', detail: t.mountedNow ? `mounted now at ${t.path}` : t.path }
      : { name: 'tracefs', status: 'missing', detail: t.reason, remedy: TRACEFS_REMEDY, fatal: true },
  );
  checks.push({
    name: 'bpffs',
    status: 'info',
    detail:
      fs.existsSync('/sys/fs/bpf') && fs.readFileSync('/proc/mounts', 'utf8').includes(' /sys/fs/bpf bpf ')
        ? 'mounted at /sys/fs/bpf'
        : 'not mounted (wirelens pins nothing by default)',
  });
  if (!built || !btf) return { checks, hooks };

  const features = new Features({ useCache: false });
  for (const kind of ALL_HOOK_KINDS) {
    const s = features.get(kind);
    hooks[kind] = s;
    checks.push(supportCheck(kind, s));
  }

  // Programs doctor loaded and closed itself: freed a moment later, not leftovers.
  const closed = new Set<number>(freed);
  checks.push(...commandChecks(features, closed));

  try {
    const mine = wirelensPrograms();
    const said = describeOrphans(orphanPrograms(closed));
    if (said.length === 0) {
      checks.push({
        name: 'leftovers',
        status: 'ok',
        detail: `${mine.length} wl_ program(s) loaded, all held by running processes`,
      });
    }
    for (const o of said) checks.push({ name: 'leftovers', status: 'warn', detail: o.what, remedy: o.remedy });
  } catch (e) {
    checks.push({ name: 'leftovers', status: 'warn', detail: `could not list BPF programs: ${(e as Error).message}` });
  }
  return { checks, hooks };
}

export function doctorCommand(argv: string[]): number {
  const { flags, positionals } = parseArgs(argv, DOCTOR_FLAGS);
  if (flags.help) {
    writeOut(
      `wirelens doctor: check this machine and show which hooks wirelens uses\n\noptions:\n${flagHelp(DOCTOR_FLAGS)}\n`,
    );
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const freed = new Set<number>();
  let cleaned: string[] | undefined;
  if (flags.clean) {
    const priv = readPrivileges();
    if (!priv.sufficient) {
      throw new WlError('WL_ERR_PRIVILEGE', `--clean needs root (missing ${priv.missing.join(', ')})`, {
        remedy: PRIVILEGE_REMEDY,
      });
    }
    cleaned = [...removePins().map((p) => `removed leftover pin ${p}`), ...removeTcLeftovers(freed)];
    if (cleaned.length === 0)
      cleaned.push(`nothing left by wirelens in this network namespace (inode ${netnsInode()})`);
  }
  const { checks, hooks } = runChecks(freed);
  const ok = !checks.some((c) => c.fatal && c.status === 'missing');
  if (flags.json) writeOut(JSON.stringify({ ok, ...(cleaned ? { cleaned } : {}), checks, hooks }) + '\n');
  else writeOut((cleaned ? cleaned.map((l) => `clean   ${l}\n`).join('') + '\n' : '') + formatReport(checks) + '\n');
  return ok ? 0 : 1;
}
