/**
 * HTTP byte-stream capture (bpf/http.bpf.c): heads of requests and
 * responses, lengths of everything else, per socket, with the process.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors';
import { HttpChunk, decodeHttpEvent } from '../events/http';
import { Features } from '../kernel/features';
import { HookMode, HookSlot } from '../kernel/hooks';
import { fixedText, u32le } from '../kernel/encode';
import { BpfObject } from '../kernel/object';
import { KernelFilters } from './filters';
import { RunningFamily } from './family';

const SYSCALLS = ['read', 'recvfrom', 'readv', 'recvmsg', 'write', 'sendto', 'writev', 'sendmsg', 'sendfile64'];

export const HTTP_SLOTS: HookSlot[] = [
  {
    slot: 'socket reads and writes',
    required: true,
    candidates: [
      { kind: 'syscall_tracepoint', programs: SYSCALLS.flatMap((s) => [`wl_http_in_${s}`, `wl_http_out_${s}`]) },
    ],
  },
  {
    slot: 'connection close',
    required: false,
    degraded: 'a response without a length is reported when the next one starts or after an idle second',
    candidates: [
      { kind: 'tp_btf', programs: ['wl_http_state_btf'] },
      { kind: 'tracepoint', programs: ['wl_http_state_tp'] },
    ],
  },
];

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
  if (f.method !== undefined && !/^[A-Z]{3,7}$/.test(f.method)) {
    throw new UsageError(`--method must be an upper-case HTTP method of 3 to 7 letters (got "${f.method}")`);
  }
  if (f.urlContains !== undefined && (f.urlContains === '' || Buffer.byteLength(f.urlContains) > CONTAINS_MAX)) {
    throw new UsageError(`--url-contains must be 1 to ${CONTAINS_MAX} bytes`);
  }
  if (f.host !== undefined && !/^[A-Za-z0-9.\-[\]:]{1,64}$/.test(f.host)) {
    throw new UsageError(`--host must be a host name or address of at most ${HOST_MAX} characters, without a port`);
  }
}

export interface HttpCaptureOptions {
  filters: KernelFilters;
  http: HttpKernelFilters;
  hookMode: HookMode;
  features: Features;
}

export function startHttpCapture(
  opts: HttpCaptureOptions,
  onChunk: (c: HttpChunk) => void,
  onBad: () => void,
): RunningFamily {
  validateHttpFilters(opts.http);
  return RunningFamily.start({
    object: 'http',
    slots: HTTP_SLOTS,
    filters: opts.filters,
    hookMode: opts.hookMode,
    features: opts.features,
    ringBytes: 16 << 20,
    configure: (obj: BpfObject) => {
      obj.setGlobal('wl_http_salt', randomBytes(8));
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
    },
    onRecord: (v, off, len) => {
      const c = decodeHttpEvent(v, off, len);
      if (c) onChunk(c);
      else onBad();
    },
  });
}
