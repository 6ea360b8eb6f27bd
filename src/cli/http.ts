/** `wirelens http`: every HTTP/1.x exchange on this host, with its process, from both ends. */
import { HttpAssembler, HttpExchange } from '../analysis/http-exchanges';
import { HttpStats } from '../analysis/http-stats';
import { HttpKernelFilters, startHttpCapture, validateHttpFilters } from '../probes/http-capture';
import { HttpView, httpView } from '../output/http-view';
import { httpJson } from '../output/http-json';
import { formatHttpStats, httpHeaderLine, httpLine, httpTextLayout } from '../output/http-text';
import { ReorderWindow } from '../output/reorder';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';

export const HTTP_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  {
    name: 'url-prefix',
    type: 'string',
    valueName: 'PREFIX',
    help: 'only requests whose target starts with PREFIX',
  },
  { name: 'method', type: 'string', valueName: 'METHOD', help: 'only this request method' },
  {
    name: 'url-contains',
    type: 'string',
    valueName: 'TEXT',
    help: 'only targets with TEXT in their first 256 bytes',
  },
  {
    name: 'host',
    type: 'string',
    valueName: 'HOST',
    help: 'only this Host header (port ignored)',
  },
  { name: 'headers', type: 'bool', help: 'show request and response headers' },
  {
    name: 'no-redact',
    type: 'bool',
    help: 'show credentials (Authorization, tokens) as sent',
  },
  {
    name: 'stats',
    type: 'number',
    min: 0.1,
    max: 86400,
    valueName: 'SECONDS',
    help: 'per-endpoint table on stderr every SECONDS',
  },
];

export const HTTP_HELP = `wirelens http: HTTP/1.x requests and responses with their processes

One line per exchange, from each end on this host (the client process and the
server process), found by content on any port: method, URL, status, latency
(request's first byte to the final response's first byte), the peer's
address. Lines come in time order (each is held up to 1 s for earlier ones).
All filters run in the kernel: a filtered request, its body and its response
are never copied to user space, and the exit summary counts them.
Credentials are redacted everywhere (lines, JSON, --stats, the summary)
unless --no-redact.

options:
${flagHelp(HTTP_FLAGS)}

JSON fields: the common ones (daddr, dport: the peer), then side method url
url_truncated host version status reason latency_ms req_bytes resp_bytes
content_type (and req_headers, req_headers_truncated, resp_headers,
resp_headers_truncated with --headers). The kernel copies the first 2048
bytes of each head, so a URL is kept whole up to about 2000 bytes; a longer
one is cut there and marked url_truncated, and headers past it are missing
(marked *_headers_truncated).`;

interface HttpCliOptions {
  headers: boolean;
  redact: boolean;
  /** The terminal's width; undefined when stdout is not a terminal. */
  columns: number | undefined;
}

/**
 * Lines are printed in the order of their timestamps (the request's first
 * byte): an exchange is complete only at its response, so each is held until
 * this much time has passed since its request, then printed with the others
 * due, oldest first. One slower than this is printed when it completes.
 */
export const HTTP_REORDER_NS = 1_000_000_000n;

export function httpTool(o: HttpCliOptions, kernel: HttpKernelFilters): LiveTool<HttpView> {
  const assembler = new HttpAssembler({ keepHeaders: o.headers });
  const stats = new HttpStats();
  const window = new ReorderWindow<HttpView>((v) => v.tsNs, HTTP_REORDER_NS);
  const layout = httpTextLayout(o.columns);
  // Each exchange becomes its shown form (redacted, decoded) once; lines,
  // JSON and the per-endpoint table all read that.
  const deliver = (list: HttpExchange[], emit: (v: HttpView) => void): void => {
    for (const ex of list) {
      const v = httpView(ex, o.redact);
      stats.add(v);
      window.add(v, emit);
    }
  };
  return {
    name: 'http',
    start: (opts, features, emit, onBad) =>
      startHttpCapture(
        { filters: opts.filters, http: kernel, hookMode: opts.hookMode, features },
        (chunk) => deliver(assembler.push(chunk), emit),
        onBad,
      ),
    tick: (now, emit) => {
      deliver(assembler.flushIdle(now), emit);
      window.flush(now, emit);
    },
    finish: (emit) => {
      deliver(assembler.flushAll(), emit);
      window.flushAll(emit);
    },
    header: () => httpHeaderLine(layout),
    human: (v, clock) => httpLine(v, clock, layout, o.headers),
    json: (v, clock) => httpJson(v, clock, o.headers),
    periodic: () => formatHttpStats(stats),
    summary: () => {
      const a = assembler.stats;
      // Each line fits 80 columns after the "wirelens: " prefix.
      return [
        `http: ${stats.total} exchanges, ${a.unanswered} unanswered, ${a.malformed} malformed heads`,
        `http: ${a.unpaired} incomplete (record lost, not shown), ${a.evictedConns} connections evicted`,
        ...formatHttpStats(stats),
      ];
    },
  };
}

function httpOptions(f: Flags): HttpCliOptions {
  return {
    headers: f.headers === true,
    redact: f['no-redact'] !== true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}

export async function httpCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, HTTP_FLAGS, HTTP_HELP);
  if (!flags) return 0;
  const kernel: HttpKernelFilters = {
    urlPrefix: flags['url-prefix'] as string | undefined,
    method: flags.method as string | undefined,
    urlContains: flags['url-contains'] as string | undefined,
    host: flags.host as string | undefined,
  };
  validateHttpFilters(kernel);
  return runLive(httpTool(httpOptions(flags), kernel), liveOptions(flags));
}
