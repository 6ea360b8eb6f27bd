/**
 * DNS and TLS bytes of every local socket (bpf/sock_payload.bpf.c):
 * cgroup_skb on the root cgroup copies DNS datagrams and the first bytes of
 * DNS and TLS connections, with the socket's process from socket storage.
 */
import { SP_STAT } from '../events/layout';
import { PayloadChunk, decodeSockPayload } from '../events/sock-payload';
import { cgroup2Root } from '../kernel/cgroup';
import { Features } from '../kernel/features';
import { HookMode, HookSlot } from '../kernel/hooks';
import { u32le } from '../kernel/encode';
import { AttachTarget } from '../kernel/native';
import { BpfObject } from '../kernel/object';
import { KernelFilters } from './filters';
import { RunningFamily } from './family';
import { ownerSlots } from './owner-slots';

/** Bytes of a TLS direction copied when the hello's length does not show (and the longest hello taken). */
export const TLS_HELLO_MAX = 16 * 1024;

export const SOCK_PACKETS_SLOT = 'socket packets (cgroup_skb on the root cgroup)';

/** The hooks; `cgroup` is where cgroup programs attach (the root of the v2 hierarchy). */
export function sockPayloadSlots(cgroup: AttachTarget): HookSlot[] {
  return [
    {
      slot: SOCK_PACKETS_SLOT,
      required: true,
      candidates: [{ kind: 'cgroup', programs: ['wl_sp_in', 'wl_sp_out'], target: cgroup }],
    },
    ...ownerSlots(cgroup),
  ];
}

export interface SockPayloadOptions {
  dns: boolean;
  tls: boolean;
  filters: KernelFilters;
  hookMode: HookMode;
  features: Features;
  /** Bytes copied per direction of a DNS-over-TCP connection. */
  dnsTcpMax?: number;
  /** Bytes copied per direction of a TLS connection whose hello length is unknown. */
  tlsMax?: number;
  ringBytes?: number;
}

export function startSockPayload(
  opts: SockPayloadOptions,
  onChunk: (c: PayloadChunk) => void,
  onBad: () => void,
): RunningFamily {
  const spec = {
    object: 'sock_payload',
    slots: sockPayloadSlots({ kind: 'cgroup', path: cgroup2Root() }),
    filters: opts.filters,
    hookMode: opts.hookMode,
    features: opts.features,
    configure: (obj: BpfObject) => {
      obj.setGlobal('wl_sp_dns', u32le(opts.dns ? 1 : 0));
      obj.setGlobal('wl_sp_tls', u32le(opts.tls ? 1 : 0));
      if (opts.dnsTcpMax !== undefined) obj.setGlobal('wl_sp_dns_tcp_max', u32le(opts.dnsTcpMax));
      obj.setGlobal('wl_sp_tls_max', u32le(opts.tlsMax ?? TLS_HELLO_MAX));
    },
    onRecord: (v: DataView, off: number, len: number) => {
      const c = decodeSockPayload(v, off, len);
      if (c) onChunk(c);
      else onBad();
    },
  };
  // 16 MiB: ~60k records of a small DNS message wait while user space catches up with a burst.
  return RunningFamily.start({ ...spec, ringBytes: opts.ringBytes ?? 16 << 20 });
}

/** What the kernel did not copy, and why (wl_sp_stats, enum wl_sp_stat). */
export interface SockPayloadKernelStats {
  /** UDP records and TCP connections dropped by --port. */
  portFiltered: bigint;
  /** Records dropped by --pid/--comm. */
  procFiltered: bigint;
  /** Segments copied from a listener for the connection it made (the handshake's last segment, a TFO SYN). */
  listener: bigint;
  /** TCP connections first seen mid-stream (made before wirelens started): not copied. */
  notFresh: bigint;
  /** Arriving segments past the receive window: not copied. */
  outOfWindow: bigint;
  /** DNS-over-TCP directions that reached the copy limit: later messages not seen. */
  limit: bigint;
  /** TCP packets longer than the kernel copies of one packet: their direction stopped there. */
  cut: bigint;
}

/** The counters of a running sock_payload object (read before it is closed). */
export function sockPayloadStats(f: RunningFamily): SockPayloadKernelStats {
  const m = f.obj.map('wl_sp_stats');
  return {
    portFiltered: m.sumPerCpuU64(SP_STAT.PORT_FILTERED),
    procFiltered: m.sumPerCpuU64(SP_STAT.PROC_FILTERED),
    listener: m.sumPerCpuU64(SP_STAT.LISTENER),
    notFresh: m.sumPerCpuU64(SP_STAT.NOT_FRESH),
    outOfWindow: m.sumPerCpuU64(SP_STAT.OUT_OF_WINDOW),
    limit: m.sumPerCpuU64(SP_STAT.LIMIT),
    cut: m.sumPerCpuU64(SP_STAT.CUT),
  };
}
