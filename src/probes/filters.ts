/**
 * The common kernel-side filters (--pid, --comm, --port), written into the
 * .rodata globals every object shares (bpf/include/common.bpf.h).
 */
import { UsageError } from '../errors';
import { WL_COMM_LEN, WL_MAX_FILTER } from '../events/layout';
import { fixedText, u32le } from '../kernel/encode';
import { BpfObject } from '../kernel/object';

export interface KernelFilters {
  pids: number[];
  comm?: string | undefined;
  ports: number[];
}

export function validateFilters(f: KernelFilters): void {
  if (f.pids.length > WL_MAX_FILTER) throw new UsageError(`at most ${WL_MAX_FILTER} --pid values`);
  if (f.ports.length > WL_MAX_FILTER) throw new UsageError(`at most ${WL_MAX_FILTER} --port values`);
  if (f.comm !== undefined && Buffer.byteLength(f.comm) >= WL_COMM_LEN) {
    throw new UsageError(
      `--comm is matched against the kernel's ${WL_COMM_LEN - 1}-byte task name; "${f.comm}" is longer`,
    );
  }
}

/** Whether --pid or --comm picks processes (the kernel's wl_proc_filter_active). */
export function procFilterActive(f: KernelFilters): boolean {
  return f.pids.length > 0 || f.comm !== undefined;
}

export function applyKernelFilters(obj: BpfObject, f: KernelFilters): void {
  validateFilters(f);
  const pids = Buffer.alloc(4 * WL_MAX_FILTER);
  f.pids.forEach((p, i) => pids.writeUInt32LE(p, i * 4));
  obj.setGlobal('wl_filter_pids', pids);
  obj.setGlobal('wl_filter_pid_n', u32le(f.pids.length));
  const ports = Buffer.alloc(2 * WL_MAX_FILTER);
  f.ports.forEach((p, i) => ports.writeUInt16LE(p, i * 2));
  obj.setGlobal('wl_filter_ports', ports);
  obj.setGlobal('wl_filter_port_n', u32le(f.ports.length));
  obj.setGlobal('wl_filter_comm', fixedText(f.comm, WL_COMM_LEN));
  obj.setGlobal('wl_filter_comm_set', u32le(f.comm !== undefined ? 1 : 0));
}
