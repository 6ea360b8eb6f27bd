/**
 * A deterministic companion to the wrk runs, whose noise on a small VM is
 * several percent: the time one syscall costs with nothing attached, with
 * wirelens tcp's syscall-exit tracepoints attached (the fallback that finds
 * the accepting process on kernels without kprobes/fentry: enabling any
 * syscall tracepoint sends every syscall through the tracing slow path), and
 * with its TCP state hook alone. Measured as 2M one-byte dd copies (4M
 * syscalls), alternated, median of 5.
 */
import { execFileSync } from 'node:child_process';
import { BpfObject } from '../../src/kernel/object';
import { HookKind } from '../../src/kernel/features';
import { ensureTracefs } from '../../src/kernel/tracefs';
import { TCP_LIFE_SLOTS } from '../../src/probes/tcp-life';
import { median } from './stats';
import { fixed, formatTable } from './table';

const SYSCALLS = 4_000_000;

function ddMs(): number {
  const t = process.hrtime.bigint();
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${SYSCALLS / 2}`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The programs `wirelens tcp` attaches for one hook candidate (from its hook plan, not spelled out here). */
function programsOf(slot: string, kind: HookKind): string[] {
  const c = TCP_LIFE_SLOTS.find((s) => s.slot === slot)?.candidates.find((k) => k.kind === kind);
  if (!c) throw new Error(`wirelens tcp has no ${kind} candidate for "${slot}"`);
  return c.programs;
}

function withPrograms(programs: string[], fn: () => number): number {
  if (programs.length === 0) return fn();
  const obj = BpfObject.open('tcp_life');
  try {
    for (const p of obj.programs()) obj.setAutoload(p, programs.includes(p));
    obj.load();
    for (const p of programs) obj.attach(p);
    return fn();
  } finally {
    obj.close();
  }
}

export function syscallCostReport(rounds = 5): string {
  ensureTracefs();
  const configs: [string, string[]][] = [
    ['nothing attached', []],
    ['accept syscall tracepoints (fallback)', programsOf('accepting process', 'syscall_tracepoint')],
    ['TCP state hook (tp_btf) alone', programsOf('TCP state changes', 'tp_btf')],
    ['owner hook on socket I/O (tp_btf, 6.5+)', programsOf('accepting process', 'tp_btf')],
  ];
  const ms = new Map<string, number[]>(configs.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) for (const [name, progs] of configs) ms.get(name)!.push(withPrograms(progs, ddMs));
  const base = median(ms.get(configs[0]![0])!)!;
  const rows = configs.map(([name]) => {
    const m = median(ms.get(name)!)!;
    return [
      name,
      fixed((m * 1e6) / SYSCALLS, 0),
      name === configs[0]![0] ? '-' : fixed(((m - base) * 1e6) / SYSCALLS, 0),
    ];
  });
  return [
    `== cost per syscall (${SYSCALLS / 1e6}M syscalls of dd bs=1, median of ${rounds}; deterministic, unlike req/s on a busy 2-core VM)`,
    '',
    formatTable(['configuration', 'ns per syscall', 'added ns'], rows),
  ].join('\n');
}
