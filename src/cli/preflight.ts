/**
 * Checks before any live command touches the kernel, each failure with its
 * remedy: privileges, BTF, tracefs (mounted here if missing), leftovers of an
 * earlier run (pins and classic TC filters: removed, and said so).
 */
import * as fs from 'node:fs';
import { WlError } from '../errors';
import { orphanPrograms, removePins } from '../kernel/leftovers';
import { removeTcLeftovers } from '../kernel/tc';
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
  for (const line of removeTcLeftovers()) log(line);
  const orphans = orphanPrograms();
  if (orphans.length > 0) {
    log(
      `warning: ${orphans.length} wirelens BPF program(s) from an earlier run are still loaded and held by no process ` +
        `(${orphans.map((o) => `${o.name}#${o.id}`).join(', ')}); run \`wirelens doctor\` for details`,
    );
  }
}
