/**
 * TCP connection lifecycle (bpf/tcp_life.bpf.c): open and close records with
 * the owning process, duration and bytes.
 */
import { TcpRecord, decodeTcpEvent } from '../events/tcp';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot } from '../kernel/hooks';
import { u32le } from '../kernel/encode';
import { BpfObject } from '../kernel/object';
import { KernelFilters } from './filters';
import { RunningFamily } from './family';

const ACCEPT_SLOT = 'accepting process';

export const TCP_LIFE_SLOTS: HookSlot[] = [
  {
    slot: 'TCP state changes',
    required: true,
    candidates: [
      { kind: 'tp_btf', programs: ['wl_tcp_state_btf'] },
      { kind: 'tracepoint', programs: ['wl_tcp_state_tp'] },
    ],
  },
  {
    slot: ACCEPT_SLOT,
    required: false,
    degraded: 'accepted connections are reported at the handshake, their process named at close',
    candidates: [
      { kind: 'fentry', programs: ['wl_tcp_accept_fexit'] },
      { kind: 'kprobe', programs: ['wl_tcp_accept_kret'] },
      // Linux 6.5+: owner named at its first send/receive, no syscall tracepoint.
      { kind: 'tp_btf', programs: ['wl_tcp_owner_recv', 'wl_tcp_owner_send'] },
      { kind: 'syscall_tracepoint', programs: ['wl_tcp_accept4_tp', 'wl_tcp_accept_tp'] },
    ],
  },
];

export interface TcpLifeOptions {
  filters: KernelFilters;
  hookMode: HookMode;
  features: Features;
  /** Connections tracked at once in the kernel (LRU beyond that). */
  tableSize?: number;
  ringBytes?: number;
}

export function startTcpLife(opts: TcpLifeOptions, onRecord: (r: TcpRecord) => void, onBad: () => void): RunningFamily {
  const spec = {
    object: 'tcp_life',
    slots: TCP_LIFE_SLOTS,
    filters: opts.filters,
    hookMode: opts.hookMode,
    features: opts.features,
    configure: (obj: BpfObject) => {
      if (opts.tableSize) obj.setMaxEntries('wl_tcp_socks', opts.tableSize);
    },
    afterAttach: (obj: BpfObject, choices: HookChoice[]) => {
      const accept = choices.find((c) => c.slot === ACCEPT_SLOT);
      obj.map('wl_tcp_cfg').update(u32le(0), u32le(accept && accept.kind !== 'none' ? 1 : 0));
    },
    onRecord: (v: DataView, off: number, len: number) => {
      const r = decodeTcpEvent(v, off, len);
      if (r) onRecord(r);
      else onBad();
    },
  };
  return RunningFamily.start(opts.ringBytes ? { ...spec, ringBytes: opts.ringBytes } : spec);
}
