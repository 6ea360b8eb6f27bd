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
import { orphanPrograms, wirelensPrograms } from '../kernel/leftovers';
import { bpfObjectPath, native } from '../kernel/native';
import { PRIVILEGE_REMEDY, readPrivileges } from '../kernel/privileges';
import { TRACEFS_REMEDY, ensureTracefs } from '../kernel/tracefs';
import { HEALTH_SLOTS, TCP_LIFE_SLOTS } from '../probes/tcp-life';
import { HTTP_SLOTS } from '../probes/http-capture';
import { trafficSlots } from '../probes/traffic';
import { sockPayloadSlots } from '../probes/sock-payload';
import { escapeTerminal } from '../output/sanitize';
import { writeOut } from '../output/stdout';
import { FlagSpec, flagHelp, parseArgs } from './args';
import { BTF_PATH, BTF_REMEDY } from './preflight';

export type CheckStatus = 'ok' | 'missing' | 'warn' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
  /** wirelens cannot work at all without it */
  fatal?: boolean;
}

const DOCTOR_FLAGS: FlagSpec[] = [
  { name: 'json', type: 'bool', help: 'print the report as one JSON object' },
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
      detail: `${spec.what}: not available here (${s.reason}); needs kernel ${spec.minKernel}+`,
      remedy: conseq,
      fatal: kind === 'ringbuf',
    };
  }
  return { name: `hook ${kind}`, status: 'warn', detail: `${spec.what}: could not tell (${s.reason})`, remedy: conseq };
}

export function runChecks(): { checks: Check[]; hooks: Partial<Record<HookKind, Support>> } {
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

  const healthSlots = Object.values(HEALTH_SLOTS).flat();
  // Only the kinds matter here: no cgroup path is looked up (or mounted) for it.
  const stand = [{ name: 'IFACE', ifindex: 1, l2Len: 14 }];
  const topSlots = trafficSlots(stand, undefined, undefined, '(the cgroup v2 root)');
  const payloadSlots = sockPayloadSlots({ kind: 'cgroup', path: 'CGROUP2_ROOT' }); // only the kinds are read here
  for (const [tool, slots] of [
    ['tcp', TCP_LIFE_SLOTS],
    ['tcp --events', healthSlots],
    ['http', HTTP_SLOTS],
    ['top', topSlots],
    ['dns/tls', payloadSlots],
  ] as const) {
    for (const slot of slots) {
      const pick = candidatesFor(slot, 'auto').find((c) => features.get(c.kind).state === 'supported');
      checks.push(
        pick
          ? { name: `${tool}: ${slot.slot}`, status: 'ok', detail: `via ${pick.kind}` }
          : {
              name: `${tool}: ${slot.slot}`,
              status: slot.required ? 'missing' : 'warn',
              detail: slot.required
                ? `no hook available: \`wirelens ${tool}\` cannot run`
                : `no hook available: ${slot.degraded}`,
              // Only what every command needs makes wirelens unusable.
              fatal: slot.required && tool === 'tcp',
            },
      );
    }
  }

  try {
    const mine = wirelensPrograms();
    const orphans = orphanPrograms();
    checks.push(
      orphans.length === 0
        ? {
            name: 'leftovers',
            status: 'ok',
            detail: `${mine.length} wl_ program(s) loaded, all held by running processes`,
          }
        : {
            name: 'leftovers',
            status: 'warn',
            detail: `${orphans.length} wl_ program(s) held by no process: ${orphans.map((o) => `${o.name}#${o.id} (${o.type})`).join(', ')}`,
            remedy:
              'they are pinned or attached as classic TC filters; `bpftool prog show` and `tc filter show dev IFACE ingress` find them, and the next `wirelens` run removes its own',
          },
    );
  } catch (e) {
    checks.push({ name: 'leftovers', status: 'warn', detail: `could not list BPF programs: ${(e as Error).message}` });
  }
  return { checks, hooks };
}

export function formatReport(checks: Check[]): string {
  const lines: string[] = [];
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    const mark =
      c.status === 'ok' ? 'ok     ' : c.status === 'missing' ? 'MISSING' : c.status === 'warn' ? 'warn   ' : 'info   ';
    lines.push(`${mark} ${c.name.padEnd(width)}  ${escapeTerminal(c.detail)}`);
    if (c.remedy && c.status !== 'ok') lines.push(`${' '.repeat(8 + width)}  -> ${c.remedy}`);
  }
  const fatal = checks.filter((c) => c.fatal && c.status === 'missing');
  lines.push('');
  lines.push(
    fatal.length === 0 ? 'wirelens can run here.' : `wirelens cannot run here: ${fatal.map((c) => c.name).join(', ')}.`,
  );
  return lines.join('\n');
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
  const { checks, hooks } = runChecks();
  const ok = !checks.some((c) => c.fatal && c.status === 'missing');
  if (flags.json) writeOut(JSON.stringify({ ok, checks, hooks }) + '\n');
  else writeOut(formatReport(checks) + '\n');
  return ok ? 0 : 1;
}
