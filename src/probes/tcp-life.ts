/**
 * TCP connections (bpf/tcp_life.bpf.c): open and close records with the
 * owning process, duration, bytes and the socket's RTT and losses; and the
 * health events asked for (bpf/tcp_health.bpf.h): retransmits, resets,
 * drops with the kernel's reason, RTT samples. Hooks are attached only for
 * the kinds asked for.
 */
import { TCP_EVENT_KINDS, TcpEventKind, TcpRecord, decodeTcpEvent } from '../events/tcp';
import { EVENTS_CLOSE, EVENTS_OPEN, NOTE } from '../events/layout';
import { DropReasons } from '../kernel/drop-reasons';
import { Features } from '../kernel/features';
import { HookChoice, HookMode, HookSlot } from '../kernel/hooks';
import { u32le, u64le } from '../kernel/encode';
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

/** One slot per health event hook: BTF tracepoint programs in order of preference, else the classic one. */
function healthSlot(slot: string, btf: string[], tp: string): HookSlot {
  return {
    slot,
    required: true, // asked for by name: failing to hook it is an error
    candidates: [
      ...btf.map((p) => ({ kind: 'tp_btf' as const, programs: [p] })),
      { kind: 'tracepoint', programs: [tp] },
    ],
  };
}

export const HEALTH_SLOTS: Partial<Record<TcpEventKind, HookSlot[]>> = {
  // 6.13+ reports failed attempts too, skipped by their err; older kernels refuse that program.
  retransmit: [healthSlot('TCP retransmits', ['wl_tcp_retrans_err_btf', 'wl_tcp_retrans_btf'], 'wl_tcp_retrans_tp')],
  reset: [
    healthSlot('TCP resets sent', ['wl_tcp_rst_out_btf'], 'wl_tcp_rst_out_tp'),
    healthSlot('TCP resets received', ['wl_tcp_rst_in_btf'], 'wl_tcp_rst_in_tp'),
  ],
  drop: [healthSlot('packet drops (skb:kfree_skb)', ['wl_drop_btf'], 'wl_drop_tp')],
  rtt: [healthSlot('TCP RTT samples (tcp:tcp_probe)', ['wl_tcp_rtt_btf'], 'wl_tcp_rtt_tp')],
};

/** Bits of wl_tcp_events (bpf/tcp_life.bpf.c). */
const EVENT_BITS: Record<TcpEventKind, number> = {
  open: EVENTS_OPEN,
  close: EVENTS_CLOSE,
  retransmit: 1 << NOTE.RETRANSMIT,
  reset: (1 << NOTE.RESET_SENT) | (1 << NOTE.RESET_RECV),
  drop: 1 << NOTE.DROP,
  rtt: 1 << NOTE.RTT,
};

export interface TcpLifeOptions {
  filters: KernelFilters;
  hookMode: HookMode;
  features: Features;
  /** Default: open and close. */
  events?: ReadonlySet<TcpEventKind>;
  /** RTT samples: at most one per connection per this many ms. */
  rttEveryMs?: number;
  /** Connections tracked at once in the kernel (LRU beyond that). */
  tableSize?: number;
  ringBytes?: number;
}

export const DEFAULT_TCP_EVENTS: ReadonlySet<TcpEventKind> = new Set(['open', 'close']);

function slotsFor(events: ReadonlySet<TcpEventKind>): HookSlot[] {
  return [...TCP_LIFE_SLOTS, ...TCP_EVENT_KINDS.flatMap((k) => (events.has(k) ? (HEALTH_SLOTS[k] ?? []) : []))];
}

export class TcpLife {
  readonly family: RunningFamily;
  private readonly reasons = new DropReasons();

  constructor(opts: TcpLifeOptions, onRecord: (r: TcpRecord) => void, onBad: () => void) {
    const events = opts.events ?? DEFAULT_TCP_EVENTS;
    if (events.has('drop')) this.reasons.preload();
    const reasonName = (n: number): string => this.reasons.name(n);
    const spec = {
      object: 'tcp_life',
      slots: slotsFor(events),
      filters: opts.filters,
      hookMode: opts.hookMode,
      features: opts.features,
      configure: (obj: BpfObject) => {
        if (opts.tableSize) obj.setMaxEntries('wl_tcp_socks', opts.tableSize);
        obj.setGlobal('wl_tcp_events', u32le([...events].reduce((m, k) => m | EVENT_BITS[k], 0)));
        if (opts.rttEveryMs !== undefined)
          obj.setGlobal('wl_rtt_every_ns', u64le(BigInt(Math.round(opts.rttEveryMs * 1e6))));
      },
      afterAttach: (obj: BpfObject, choices: HookChoice[]) => {
        const accept = choices.find((c) => c.slot === ACCEPT_SLOT);
        obj.map('wl_tcp_cfg').update(u32le(0), u32le(accept && accept.kind !== 'none' ? 1 : 0));
      },
      onRecord: (v: DataView, off: number, len: number) => {
        const r = decodeTcpEvent(v, off, len, reasonName);
        if (r) onRecord(r);
        else onBad();
      },
    };
    this.family = RunningFamily.start(opts.ringBytes ? { ...spec, ringBytes: opts.ringBytes } : spec);
  }

  /** Packets dropped since start by reason name, counted in the kernel (before any filter), most first. */
  dropsByReason(): [string, bigint][] {
    return this.reasons.read(this.family.obj.map('wl_drop_reasons'));
  }
}
