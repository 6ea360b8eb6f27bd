/** Run wrk against a URL and parse its summary. */
import { describeExit, Proc } from './proc';

export interface WrkOptions {
  url: string;
  seconds: number;
  threads: number;
  connections: number;
  /** Extra request headers, e.g. "Connection: close". */
  headers: string[];
}

export interface WrkResult {
  requests: number;
  /** The duration wrk reports ("N requests in 8.00s"). */
  seconds: number;
  requestsPerSec: number;
  /** Socket errors (connect + read + write + timeout) plus non-2xx/3xx responses. */
  errors: number;
  errorDetail: string;
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
}

/** Seconds wrk may overrun its -d before it is killed. */
const GRACE_S = 15;

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  if (!o.url.startsWith('http://127.0.0.1:'))
    throw new Error(`refusing to load ${o.url}: bench traffic stays on 127.0.0.1`);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency'];
  for (const h of o.headers) args.push('-H', h);
  args.push(o.url);
  const wrk = new Proc('wrk', 'wrk', args, { stdout: 'pipe' });
  const exit = await wrk.waitExit((o.seconds + GRACE_S) * 1000);
  if (exit.code !== 0)
    throw new Error(`wrk ${args.join(' ')} failed (${describeExit(exit)})${wrk.tail()}\n${wrk.stdout}`);
  return parseWrk(wrk.stdout);
}

/** "1.23ms" / "850.00us" / "1.02s" to milliseconds. */
function toMs(v: string): number | undefined {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  if (!m) return undefined;
  const scale: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };
  return Number(m[1]) * (scale[m[2]!] ?? NaN);
}

export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!total || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1, 5).map(Number) : [0, 0, 0, 0];
  const bad = non2xx ? Number(non2xx[1]) : 0;
  const detail: string[] = [];
  ['connect', 'read', 'write', 'timeout'].forEach((k, i) => {
    if (sockErrors[i]) detail.push(`${k} ${sockErrors[i]}`);
  });
  if (bad) detail.push(`non-2xx ${bad}`);
  const pct = (p: string): number | undefined => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? toMs(m[1]!) : undefined;
  };
  return {
    requests: Number(total[1]),
    seconds: (toMs(`${total[2]}${total[3]}`) ?? NaN) / 1000,
    requestsPerSec: Number(rps[1]),
    errors: sockErrors.reduce((a, b) => a + b, 0) + bad,
    errorDetail: detail.join(', '),
    latencyP50Ms: pct('50'),
    latencyP99Ms: pct('99'),
  };
}
