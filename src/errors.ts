/**
 * Every failure a user can hit, with a stable code, a message and a remedy.
 * The CLI maps each code to an exit status and prints message + remedy, never
 * a stack trace.
 */
import { escapeTerminal } from './text/sanitize';

export type WlErrorCode =
  | 'WL_ERR_USAGE' // bad command line
  | 'WL_ERR_PRIVILEGE' // not root / missing capabilities
  | 'WL_ERR_NO_BTF' // kernel without BTF
  | 'WL_ERR_NO_HOOK' // no hook of a needed kind attaches on this kernel
  | 'WL_ERR_NOT_BUILT' // bpf objects or native addon missing
  | 'WL_ERR_LIBBPF' // a libbpf call failed
  | 'WL_ERR_TRACEFS' // tracefs missing and cannot be mounted
  | 'WL_ERR_INTERNAL';

export const EXIT_STATUS: Record<WlErrorCode, number> = {
  WL_ERR_USAGE: 2,
  WL_ERR_PRIVILEGE: 77, // EX_NOPERM
  WL_ERR_NO_BTF: 69, // EX_UNAVAILABLE
  WL_ERR_NO_HOOK: 69,
  WL_ERR_NOT_BUILT: 69,
  WL_ERR_LIBBPF: 1,
  WL_ERR_TRACEFS: 69,
  WL_ERR_INTERNAL: 70, // EX_SOFTWARE
};

export class WlError extends Error {
  readonly code: WlErrorCode;
  readonly remedy: string | undefined;
  override readonly cause: unknown;

  /** The message and remedy are made safe for a terminal here (escapeTerminal): they often quote what a user typed or an interface's name. */
  constructor(code: WlErrorCode, message: string, opts: { remedy?: string; cause?: unknown } = {}) {
    super(escapeTerminal(message));
    this.name = 'WlError';
    this.code = code;
    this.remedy = opts.remedy === undefined ? undefined : escapeTerminal(opts.remedy);
    this.cause = opts.cause;
  }
}

export class UsageError extends WlError {
  constructor(message: string) {
    super('WL_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

/** Shape of errors thrown by the native addon (see native/src/errors.cc). */
export interface NativeError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  libbpfLog?: string;
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && (e as NativeError).code === 'WL_ERR_LIBBPF';
}

/** Wraps a native error with lowercase context, keeping the cause chain. */
export function wrapNative(context: string, e: unknown, remedy?: string): WlError {
  if (e instanceof WlError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const opts: { remedy?: string; cause?: unknown } = { cause: e };
  const errno = isNativeError(e) ? e.errno : undefined;
  if (remedy !== undefined) opts.remedy = remedy;
  else if (errno === 1 || errno === 13)
    opts.remedy = 'run wirelens as root (or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)';
  return new WlError(isNativeError(e) ? 'WL_ERR_LIBBPF' : 'WL_ERR_INTERNAL', `${context}: ${msg}`, opts);
}
