/** Who we run as, read from /proc/self/status (CapEff). */
import * as fs from 'node:fs';

export const CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

export interface Privileges {
  uid: number;
  caps: bigint;
  /** Enough to load tracing programs and attach TC: root, or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN, or CAP_SYS_ADMIN. */
  sufficient: boolean;
  missing: string[];
}

export function readPrivileges(statusText?: string): Privileges {
  const text = statusText ?? fs.readFileSync('/proc/self/status', 'utf8');
  const capLine = /^CapEff:\s*([0-9a-f]+)/m.exec(text);
  const uidLine = /^Uid:\s*(\d+)/m.exec(text);
  const caps = capLine ? BigInt('0x' + capLine[1]) : 0n;
  const uid = uidLine ? Number(uidLine[1]) : -1;
  const has = (c: number): boolean => (caps & (1n << BigInt(c))) !== 0n;
  const missing: string[] = [];
  if (!has(CAP.SYS_ADMIN)) {
    if (!has(CAP.BPF)) missing.push('CAP_BPF');
    if (!has(CAP.PERFMON)) missing.push('CAP_PERFMON');
  }
  if (!has(CAP.NET_ADMIN)) missing.push('CAP_NET_ADMIN');
  return { uid, caps, sufficient: missing.length === 0, missing };
}

export const PRIVILEGE_REMEDY =
  'run as root: `sudo npx wirelens ...` (or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)';
