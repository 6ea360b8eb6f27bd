/**
 * Checks before any live command touches the kernel, each failure with its
 * remedy: privileges, BTF, tracefs (mounted here if missing), leftovers of an
 * earlier run (pins and classic TC filters: removed, and said so).
 */
import * as fs from 'node:fs';
import { WlError } from '../errors';
import { LoadedProgram, orphanPrograms, removePins } from '../kernel/leftovers';
import { describePlace, leftoverPlaces, removeTcLeftovers } from '../kernel/tc';
import { PRIVILEGE_REMEDY, readPrivileges } from '../kernel/privileges';
import { TRACEFS_REMEDY, ensureTracefs } from '../kernel/tracefs';

export const BTF_PATH = '/sys/kernel/btf/vmlinux';
export const BTF_REMEDY =
  'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+ kernels are)';

export type Log = (msg: string) => void;

export function preflight(log: Log, verbose: Log): void {
  const priv = readPrivileges();
  if (!priv.sufficient) {
    throw new WlError(
      'WL_ERR_PRIVILEGE',
      `wirelens needs root to load BPF programs (missing ${priv.missing.join(', ')})`,
      {
        remedy: PRIVILEGE_REMEDY,
      },
    );
  }
  if (!fs.existsSync(BTF_PATH)) {
    throw new WlError('WL_ERR_NO_BTF', `this kernel has no BTF (${BTF_PATH} is missing)`, { remedy: BTF_REMEDY });
  }
  const t = ensureTracefs();
  if (t.state === 'missing') throw new WlError('WL_ERR_TRACEFS', t.reason, { remedy: TRACEFS_REMEDY });
  if (t.mountedNow) verbose(`mounted tracefs at ${t.path}`);
  for (const p of removePins()) log(`removed leftover pin ${p} from an earlier run`);
  const freed = new Set<number>();
  for (const line of removeTcLeftovers(freed)) log(line);
  // The filters just removed free their programs a moment later: not leftovers.
  for (const o of describeOrphans(orphanPrograms(freed))) log(`warning: ${o.what}; ${o.remedy}`);
}

const progList = (ps: LoadedProgram[]): string => ps.map((o) => `${o.name}#${o.id}`).join(', ');

/**
 * What leftover programs are and what removes them: classic TC filters a
 * killed wirelens left in another network namespace are named with that
 * namespace and the command that cleans it there; the rest as they are.
 */
export function describeOrphans(orphans: LoadedProgram[]): { what: string; remedy: string }[] {
  if (orphans.length === 0) return [];
  const out: { what: string; remedy: string }[] = [];
  const placed = new Set<number>();
  for (const p of leftoverPlaces(orphans.map((o) => o.id))) {
    const progs = orphans.filter((o) => p.progIds.includes(o.id));
    progs.forEach((o) => placed.add(o.id));
    out.push({
      what: `${progs.length} wirelens BPF program(s) (${progList(progs)}) are TC filters a killed wirelens left in ${describePlace(p)}`,
      remedy: `\`${p.clean}\` removes them`,
    });
  }
  const rest = orphans.filter((o) => !placed.has(o.id));
  if (rest.length > 0) {
    out.push({
      what: `${rest.length} wirelens BPF program(s) from an earlier run are still loaded and held by no process (${progList(rest)})`,
      remedy:
        'they are pinned or attached as classic TC filters: `bpftool net` (in each network namespace) and `bpftool prog show` find them; a wirelens run in their namespace removes its own',
    });
  }
  return out;
}
