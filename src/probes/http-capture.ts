/**
 * HTTP/1.x from the packets of every local socket (bpf/http.bpf.c):
 * cgroup_skb on the root cgroup reads heads and frames bodies in the
 * kernel, pairs each request with its final response, and sends one record
 * per exchange and socket, or with --stats-only counts them per endpoint in
 * a map read once per interval.
 */
import { UsageError } from '../errors';
import { HttpAhead, HttpRecord, decodeHttpAhead, decodeHttpRecord, recordType } from '../events/http';
import { EV, HTTP, HTTP_STAT, WL_HTTP_ROUTE_KEY, WL_HTTP_ROUTE_VAL } from '../events/layout';
import { cgroup2Root } from '../kernel/cgroup';
import { Features } from '../kernel/features';
import { HookMode, HookSlot } from '../kernel/hooks';
import { fixedText, u32le } from '../kernel/encode';
import { AttachTarget } from '../kernel/native';
import { BpfObject } from '../kernel/object';
import { KernelFilters, procFilterActive } from './filters';
import { REQUEST_METHODS } from '../protocols/http1/syntax';
import { RunningFamily } from './family';
import { ownerSlots } from './owner-slots';

export const HTTP_PACKETS_SLOT = 'socket packets (cgroup_skb on the root cgroup)';

/**
 * The hooks http attaches. `owners`: the hooks that name a socket's process
 * (records carry it; --stats-only needs it only for --pid/--comm).
 */
export function httpSlots(cgroup: AttachTarget, owners = true): HookSlot[] {
  return [
    {
      slot: HTTP_PACKETS_SLOT,
      required: true,
      candidates: [{ kind: 'cgroup', programs: ['wl_http_in', 'wl_http_out'], target: cgroup }],
    },
    ...(owners ? ownerSlots(cgroup) : []),
    {
      slot: 'connection close',
      required: false,
      degraded:
        'an exchange still waiting when its connection ends without a FIN or RST (a timeout, an abort) is not reported',
      candidates: [{ kind: 'tp_btf', programs: ['wl_http_state_btf'] }],
    },
  ];
}

export const URL_PREFIX_MAX = 64;
export const METHOD_MAX = 8;
export const CONTAINS_MAX = 32;
export const HOST_MAX = 64;

export interface HttpKernelFilters {
  urlPrefix?: string | undefined;
  method?: string | undefined;
  urlContains?: string | undefined;
  host?: string | undefined;
}

export function validateHttpFilters(f: HttpKernelFilters): void {
  for (const [flag, v] of [
    ['--url-prefix', f.urlPrefix],
    ['--url-contains', f.urlContains],
  ] as const) {
    if (v !== undefined && !/^[\x21-\x7e]*$/.test(v)) {
      throw new UsageError(
        `${flag} is compared with the raw request line: use printable ASCII (percent-encode the rest)`,
      );
    }
  }
  if (f.urlPrefix !== undefined && (Buffer.byteLength(f.urlPrefix) > URL_PREFIX_MAX || f.urlPrefix === '')) {
    throw new UsageError(`--url-prefix must be 1 to ${URL_PREFIX_MAX} bytes`);
  }
  if (f.method !== undefined && !(REQUEST_METHODS as readonly string[]).includes(f.method)) {
    throw new UsageError(`--method must be one of ${REQUEST_METHODS.join(' ')} (got "${f.method}")`);
  }
  if (f.urlContains !== undefined && (f.urlContains === '' || Buffer.byteLength(f.urlContains) > CONTAINS_MAX)) {
    throw new UsageError(`--url-contains must be 1 to ${CONTAINS_MAX} bytes`);
  }
  if (f.host !== undefined && !/^[A-Za-z0-9.\-[\]:]{1,64}$/.test(f.host)) {
    throw new UsageError(`--host must be a host name or address of at most ${HOST_MAX} characters, without a port`);
  }
}

/** What the kernel sends: exchanges with their request and status lines, with whole heads, or counts only. */
export type HttpCaptureMode = 'lines' | 'heads' | 'stats';

const MODE_CODE: Record<HttpCaptureMode, number> = { lines: 0, heads: 1, stats: 2 };

/** Endpoints --stats-only counts per side before the "(other)" row takes the rest. */
export const ROUTES_MAX = 1024;

export interface HttpCaptureOptions {
  filters: KernelFilters;
  http: HttpKernelFilters;
  hookMode: HookMode;
  features: Features;
  /** Default 'lines'. */
  mode?: HttpCaptureMode;
  /** --stats-only: rows in the endpoint table. */
  routes?: number;
}

/** The overflow row's key for one side. */
function otherKey(side: number): Buffer {
  const k = Buffer.alloc(WL_HTTP_ROUTE_KEY.size);
  k.writeUInt8(side, WL_HTTP_ROUTE_KEY.fields.side);
  k.writeUInt8(HTTP.RK_OTHER, WL_HTTP_ROUTE_KEY.fields.flags);
  return k;
}

export function startHttpCapture(
  opts: HttpCaptureOptions,
  onRecord: (r: HttpRecord) => void,
  onBad: () => void,
  onAhead: (a: HttpAhead) => void = () => undefined,
): RunningFamily {
  validateHttpFilters(opts.http);
  const mode = opts.mode ?? 'lines';
  const routes = opts.routes ?? ROUTES_MAX;
  return RunningFamily.start({
    object: 'http',
    // --stats-only counts endpoints, not processes: the per-syscall owner hooks cost it for nothing, unless
    // --pid or --comm picks the exchanges counted.
    slots: httpSlots({ kind: 'cgroup', path: cgroup2Root() }, mode !== 'stats' || procFilterActive(opts.filters)),
    filters: opts.filters,
    hookMode: opts.hookMode,
    features: opts.features,
    // --stats-only sends nothing: the ring is there only because every family has one.
    ringBytes: mode === 'stats' ? 1 << 16 : 16 << 20,
    configure: (obj: BpfObject) => {
      obj.setGlobal('wl_http_mode', u32le(MODE_CODE[mode]));
      obj.setGlobal('wl_http_prefix', fixedText(opts.http.urlPrefix, URL_PREFIX_MAX));
      obj.setGlobal('wl_http_prefix_len', u32le(opts.http.urlPrefix ? Buffer.byteLength(opts.http.urlPrefix) : 0));
      obj.setGlobal('wl_http_method', fixedText(opts.http.method, METHOD_MAX));
      obj.setGlobal('wl_http_method_len', u32le(opts.http.method ? opts.http.method.length : 0));
      obj.setGlobal('wl_http_contains', fixedText(opts.http.urlContains, CONTAINS_MAX));
      obj.setGlobal(
        'wl_http_contains_len',
        u32le(opts.http.urlContains ? Buffer.byteLength(opts.http.urlContains) : 0),
      );
      const host = opts.http.host?.toLowerCase();
      obj.setGlobal('wl_http_host', fixedText(host, HOST_MAX));
      obj.setGlobal('wl_http_host_len', u32le(host ? host.length : 0));
      // Each side's rows plus its "(other)" row.
      obj.setMaxEntries('wl_http_routes', mode === 'stats' ? 2 * routes + 2 : 2);
    },
    afterAttach: (obj: BpfObject) => {
      if (mode !== 'stats') return;
      // The overflow rows exist before the first exchange: a full table still counts.
      const m = obj.map('wl_http_routes');
      const zero = Buffer.alloc(m.valueBytes);
      for (const side of [HTTP.CLIENT, HTTP.SERVER]) m.update(otherKey(side), zero);
    },
    onRecord: (v, off, len) => {
      if (recordType(v, off, len) === EV.HTTP_AHEAD) {
        const a = decodeHttpAhead(v, off, len);
        if (a) onAhead(a);
        else onBad();
        return;
      }
      const r = decodeHttpRecord(v, off, len);
      if (r) onRecord(r);
      else onBad();
    },
  });
}

/** What the kernel counted (wl_http_stats, enum wl_http_stat). */
export type HttpKernelStats = Record<keyof typeof HTTP_STAT, bigint>;

export function httpKernelStats(f: RunningFamily): HttpKernelStats {
  const m = f.obj.map('wl_http_stats');
  const out = {} as HttpKernelStats;
  for (const [name, slot] of Object.entries(HTTP_STAT)) out[name as keyof typeof HTTP_STAT] = m.sumPerCpuU64(slot);
  return out;
}

/** One endpoint row of --stats-only, summed over CPUs: raw bytes (latin1) as the kernel keeps them. */
export interface RouteCounts {
  side: 'client' | 'server';
  /** The "(other)" row: endpoints past the table's size. */
  other: boolean;
  method: string;
  route: string;
  /** The route was longer than the kernel keeps. */
  cut: boolean;
  count: number;
  /** [0] no final response, [1..5] 1xx..5xx */
  status: number[];
  latMaxNs: number;
  latSumNs: number;
  /** [i]: latencies in [2^i, 2^(i+1)) us ([0]: below 2 us) */
  lat: number[];
}

/** Every row of the endpoint table, read once (one map dump). */
export function readRoutes(f: RunningFamily): RouteCounts[] {
  const m = f.obj.map('wl_http_routes');
  const kf = WL_HTTP_ROUTE_KEY.fields;
  const vf = WL_HTTP_ROUTE_VAL.fields;
  const out: RouteCounts[] = [];
  for (const { key, value } of m.entries()) {
    const len = Math.min(key.readUInt8(kf.len), HTTP.ROUTE_MAX);
    const flags = key.readUInt8(kf.flags);
    const method = key.subarray(kf.method, kf.method + HTTP.METHOD_MAX);
    const mlen = method.indexOf(0);
    const row: RouteCounts = {
      side: key.readUInt8(kf.side) === HTTP.SERVER ? 'server' : 'client',
      other: (flags & HTTP.RK_OTHER) !== 0,
      method: method.subarray(0, mlen < 0 ? method.length : mlen).toString('latin1'),
      route: key.subarray(kf.route, kf.route + len).toString('latin1'),
      cut: (flags & HTTP.RK_CUT) !== 0,
      count: 0,
      status: [0, 0, 0, 0, 0, 0],
      latMaxNs: 0,
      latSumNs: 0,
      lat: new Array<number>(HTTP.LAT_BUCKETS).fill(0),
    };
    for (let cpu = 0; cpu * m.slotBytes < value.length; cpu++) {
      const b = cpu * m.slotBytes;
      const u64 = (o: number): number => Number(value.readBigUInt64LE(b + o));
      row.count += u64(vf.count);
      for (let i = 0; i < 6; i++) row.status[i]! += u64(vf.status + 8 * i);
      row.latMaxNs = Math.max(row.latMaxNs, u64(vf.lat_max_ns));
      row.latSumNs += u64(vf.lat_sum_ns);
      for (let i = 0; i < HTTP.LAT_BUCKETS; i++) row.lat[i]! += u64(vf.lat + 8 * i);
    }
    if (row.count > 0) out.push(row);
  }
  return out;
}
