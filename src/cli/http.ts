/** `wirelens http`: every HTTP/1.x exchange on this host, with its process, from both ends. */
import { HttpAssembler, HttpExchange } from '../analysis/http-exchanges';
import { HttpStats, formatHttpStats } from '../analysis/http-stats';
import { HttpKernelFilters, startHttpCapture, validateHttpFilters } from '../probes/http-capture';
import { commonJsonPrefix } from '../output/common-fields';
import { redactHeaders, redactUrl } from '../output/redact';
import { escapeTerminal } from '../output/sanitize';
import { Clock } from '../output/clock';
import { formatDuration } from '../output/duration';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';

export const HTTP_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  {
    name: 'url-prefix',
    type: 'string',
    valueName: 'PREFIX',
    help: 'only requests whose target starts with PREFIX (in the kernel)',
  },
  { name: 'method', type: 'string', valueName: 'METHOD', help: 'only this request method (in the kernel)' },
  {
    name: 'url-contains',
    type: 'string',
    valueName: 'TEXT',
    help: 'only requests whose target contains TEXT in its first 256 bytes (in the kernel)',
  },
  {
    name: 'host',
    type: 'string',
    valueName: 'HOST',
    help: 'only requests with this Host header, port ignored (in the kernel)',
  },
  { name: 'headers', type: 'bool', help: 'show request and response headers' },
  {
    name: 'no-redact',
    type: 'bool',
    help: 'show credentials (Authorization, Cookie, token parameters, ...) as captured',
  },
  {
    name: 'stats',
    type: 'number',
    min: 0.1,
    max: 86400,
    valueName: 'SECONDS',
    help: 'print per-endpoint statistics to stderr every SECONDS',
  },
];

export const HTTP_HELP = `wirelens http: HTTP/1.x requests and responses with their processes

One line per exchange, from each end on this host (the client process and the
server process), found by content on any port: method, URL, status, latency
(request's first byte to the final response's first byte), bytes each way.
All filters run in the kernel: a filtered request, its body and its response
are never copied to user space, and the exit summary counts them.

options:
${flagHelp(HTTP_FLAGS)}

JSON fields: the common ones, then side method url url_truncated host version
status reason latency_ms req_bytes resp_bytes content_type (and req_headers,
resp_headers with --headers). The kernel copies the first 2048 bytes of each
head, so a URL is kept whole up to about 2000 bytes; a longer one is cut there
and marked url_truncated.`;

interface HttpCliOptions {
  headers: boolean;
  redact: boolean;
}

function headerPairs(h: [string, string][], o: HttpCliOptions): [string, string][] {
  return o.redact ? redactHeaders(h) : h;
}

export function httpTool(o: HttpCliOptions, kernel: HttpKernelFilters): LiveTool<HttpExchange> {
  const assembler = new HttpAssembler({ keepHeaders: o.headers });
  const stats = new HttpStats();
  const deliver = (list: HttpExchange[], emit: (r: HttpExchange) => void): void => {
    for (const ex of list) {
      stats.add(ex);
      emit(ex);
    }
  };
  const url = (ex: HttpExchange): string => (o.redact ? redactUrl(ex.url) : ex.url);
  return {
    name: 'http',
    start: (opts, features, emit, onBad) =>
      startHttpCapture(
        { filters: opts.filters, http: kernel, hookMode: opts.hookMode, features },
        (chunk) => deliver(assembler.push(chunk), emit),
        onBad,
      ),
    tick: (now, emit) => deliver(assembler.flushIdle(now), emit),
    finish: (emit) => deliver(assembler.flushAll(), emit),
    header: () =>
      `${'TIME'.padEnd(15)} ${'SIDE'.padEnd(6)} ${'PID'.padStart(7)} ${'COMM'.padEnd(16)} ${'METHOD'.padEnd(7)} ${'STATUS'.padStart(6)} ${'LATENCY'.padStart(10)} ${'REQ'.padStart(8)} ${'RESP'.padStart(9)}  URL`,
    human: (ex: HttpExchange, clock: Clock) => {
      const line = [
        clock.timeOfDay(ex.tsNs).padEnd(15),
        ex.side.padEnd(6),
        (ex.proc ? String(ex.proc.pid) : '-').padStart(7),
        escapeTerminal(ex.proc?.comm ?? '-').padEnd(16),
        escapeTerminal(ex.method).padEnd(7),
        (ex.status === null ? '-' : String(ex.status)).padStart(6),
        formatDuration(ex.latencyNs).padStart(10),
        String(ex.reqBytes).padStart(8),
        String(ex.respBytes).padStart(9),
        ` ${escapeTerminal(url(ex))}${ex.urlTruncated ? '...' : ''}`,
      ].join(' ');
      if (!o.headers) return line;
      const h = [
        ...headerPairs(ex.reqHeaders, o).map(([n, v]) => `    > ${escapeTerminal(n)}: ${escapeTerminal(v)}`),
        ...headerPairs(ex.respHeaders, o).map(([n, v]) => `    < ${escapeTerminal(n)}: ${escapeTerminal(v)}`),
      ];
      return [line, ...h].join('\n');
    },
    json: (ex: HttpExchange, clock: Clock) => {
      const s = (v: string | undefined): string => (v === undefined ? 'null' : JSON.stringify(v));
      let line =
        `${commonJsonPrefix(clock, ex.tsNs, ex.proc, ex.sock)},"side":"${ex.side}","method":${s(ex.method)},` +
        `"url":${s(url(ex))},"url_truncated":${ex.urlTruncated},"host":${s(ex.host)},"version":${s(ex.version)},` +
        `"status":${ex.status ?? 'null'},"reason":${s(ex.reason)},` +
        `"latency_ms":${ex.latencyNs === null ? 'null' : ex.latencyNs / 1e6},` +
        `"req_bytes":${ex.reqBytes},"resp_bytes":${ex.respBytes},"content_type":${s(ex.contentType)}`;
      if (o.headers) {
        line += `,"req_headers":${JSON.stringify(headerPairs(ex.reqHeaders, o))},"resp_headers":${JSON.stringify(headerPairs(ex.respHeaders, o))}`;
      }
      return line + '}';
    },
    periodic: () => formatHttpStats(stats, escapeTerminal),
    summary: () => {
      const a = assembler.stats;
      return [
        `http: ${stats.total} exchanges; ${a.unanswered} unanswered; ${a.unpaired} incomplete (a request or response record lost, not reported); ` +
          `${a.malformed} malformed heads; ${a.evictedConns} connections evicted`,
        ...formatHttpStats(stats, escapeTerminal),
      ];
    },
  };
}

function httpOptions(f: Flags): HttpCliOptions {
  return {
    headers: f.headers === true,
    redact: f['no-redact'] !== true,
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
