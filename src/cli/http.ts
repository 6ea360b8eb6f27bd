/** `wirelens http`: every HTTP/1.x exchange on this host, with its process, from both ends. */
import { AheadHeads, HttpExchange, exchangeOf } from '../analysis/http/exchanges';
import { HttpStreamExchanges, HttpStreamStats } from '../analysis/http/streams';
import { EndpointSample, EndpointStats, HttpStats, KernelRow, kernelEndpoints } from '../analysis/http/stats';
import { HttpRecord } from '../events/http';
import {
  HttpCaptureMode,
  HttpKernelFilters,
  HttpKernelStats,
  RouteCounts,
  httpKernelStats,
  readRoutes,
  startHttpCapture,
  validateHttpFilters,
} from '../probes/http-capture';
import { RunningFamily } from '../probes/family';
import { HttpView, httpRoute, httpView } from '../output/http-view';
import { httpJson, httpStatsJson } from '../output/http-json';
import { formatHttpStats, httpHeaderLine, httpLine, httpTextLayout } from '../output/http-text';
import { Clock, monoNowNs } from '../output/clock';
import { terminalColumns } from '../output/stdout';
import { ReorderWindow } from '../output/reorder';
import { FlagSpec, Flags, flagHelp } from './args';
import { UsageError } from '../errors';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';
import { fixYoungGeneration } from './heap';
import { OfflineTool, READ_FLAG, offlineOptions, runOffline } from './offline';

export const HTTP_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  READ_FLAG,
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
    help: 'per-endpoint table every SECONDS (stderr; stdout with --stats-only)',
  },
  {
    name: 'stats-only',
    type: 'bool',
    help: 'no record per exchange: the per-endpoint table, counted in the kernel, at exit and every --stats SECONDS',
  },
];

export const HTTP_HELP = `wirelens http: HTTP/1.x requests and responses with their processes

One line per exchange, from each end on this host (the client process and the
server process), found by content on any port: method, URL, status, latency
(request's first byte to the final response's first byte), the peer's
address. Lines come in time order (each is held up to 1 s for earlier ones).
All filters run in the kernel: a filtered request, its body and its response
are never copied to user space, and the exit summary counts them.
With --stats-only nothing is sent per exchange: the kernel counts them per
endpoint (method and route: the path up to '?', all-digit segments as {n})
with log2 latency histograms, and the table is printed on stdout every
--stats SECONDS and at exit (--json: one object per table).
Credentials are redacted everywhere (lines, JSON, --stats, the summary)
unless --no-redact.

With -r FILE (a pcap or pcapng file; - for standard input) the same records
come from the file, on its clock, without root: the same framing rules and
filters (in user space), a wirelens socket-hook capture gives each socket's
records with its process, any other file both ends' records (processes only
from wirelens's pcapng comments). Connections the file shows from their
start are analysed; --stats-only prints the table of the records at the end.

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
  /** The width left for a table row on stderr (after "wirelens: "); undefined when it is not a terminal. */
  errColumns: number | undefined;
}

/**
 * Lines are printed in the order of their timestamps (the request's first
 * byte): an exchange is complete only at its response, so each is held until
 * this much time has passed since its request, then printed with the others
 * due, oldest first. One slower than this is printed when it completes.
 */
export const HTTP_REORDER_NS = 1_000_000_000;

/** The summary lines of the kernel's counters (each fits 80 columns after "wirelens: "). */
function kernelLines(shown: number, k: HttpKernelStats | undefined): string[] {
  if (!k) return [`http: ${shown} exchanges; kernel counters unreadable`];
  return [
    `http: ${shown} exchanges, ${k.UNANSWERED} unanswered, ${k.MALFORMED} malformed heads, ${k.GAPS} stream gaps`,
    `http: ${k.DROPPED} requests not paired (gap or queue full, not shown), ${k.UNPAIRED} responses unpaired`,
  ];
}

function readKernel(f: RunningFamily | undefined): HttpKernelStats | undefined {
  try {
    return f ? httpKernelStats(f) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exchange as printed: its line (text or JSON) made when it arrives, so
 * the reorder window holds one string per exchange rather than its objects
 * (held for a second, those would survive young-generation collections and
 * cost far more than making them).
 */
export interface HttpLine {
  tsNs: number;
  text: string;
  /** With -c N: what the endpoint table counts, once the line is within N (else counted at once). */
  sample?: EndpointSample;
}

/**
 * The line as one string in memory. A line built by concatenation is a tree
 * of its pieces until something reads it by index; held in the reorder
 * window it would be copied piece by piece at every young-generation
 * collection (measured: 19 us a record instead of 7). Reading one character
 * makes V8 lay it out flat, once.
 */
function flatten(s: string): string {
  if (s.length > 0) s.charCodeAt(0);
  return s;
}

export function httpTool(o: HttpCliOptions, kernel: HttpKernelFilters): LiveTool<HttpLine> {
  const stats = new HttpStats();
  const window = new ReorderWindow<HttpLine>((v) => v.tsNs, HTTP_REORDER_NS);
  const layout = httpTextLayout(o.columns);
  const ahead = new AheadHeads();
  const clock = new Clock();
  let json = false;
  let counting = false;
  let family: RunningFamily | undefined;
  let final: HttpKernelStats | undefined;
  // Each exchange becomes its shown form (redacted, decoded) once; its line,
  // JSON and the per-endpoint table all read that.
  const deliver = (ex: HttpExchange, emit: (v: HttpLine) => void): void => {
    const v = httpView(ex, o.redact);
    const text = flatten(json ? httpJson(v, clock, o.headers) : httpLine(v, clock, layout, o.headers));
    if (!counting) {
      stats.add(v);
      window.add({ tsNs: v.tsNs, text }, emit);
      return;
    }
    // -c N: the table counts the lines printed (runLive calls counted), not the exchanges after them.
    const sample = { side: v.side, method: v.method, url: v.url, status: v.status, latencyNs: v.latencyNs };
    window.add({ tsNs: v.tsNs, text, sample }, emit);
  };
  return {
    name: 'http',
    start: (opts, features, emit, onBad) => {
      json = opts.json;
      counting = opts.count !== undefined;
      family = startHttpCapture(
        { filters: opts.filters, http: kernel, hookMode: opts.hookMode, features, mode: o.headers ? 'heads' : 'lines' },
        (r: HttpRecord) => deliver(exchangeOf(r, o.headers, ahead.take(r)), emit),
        onBad,
        (a) => ahead.add(a),
      );
      return family;
    },
    tick: (now, emit) => window.flush(now, emit),
    finish: (emit) => {
      final = readKernel(family);
      window.flushAll(emit);
    },
    header: () => httpHeaderLine(layout),
    human: (l) => l.text,
    json: (l) => l.text,
    counted: (l) => {
      if (l.sample) stats.add(l.sample);
    },
    periodic: () => formatHttpStats(stats.endpoints(), o.errColumns),
    summary: () => [...kernelLines(stats.total, final), ...formatHttpStats(stats.endpoints(), o.errColumns)],
  };
}

/** One table of --stats-only. */
export interface HttpStatsSnapshot {
  tsNs: number;
  rows: EndpointStats[];
}

/** The kernel's rows in their shown form (redacted, decoded), as the record mode's table keys them. */
function shownRows(rows: RouteCounts[], redact: boolean): KernelRow[] {
  return rows.map((r) => ({
    side: r.side,
    endpoint: r.other ? '(other)' : `${httpRoute(r.method, r.route, r.cut, redact)}`,
    count: r.count,
    status: r.status,
    latMaxNs: r.latMaxNs,
    lat: r.lat,
  }));
}

/** --stats-only: the kernel counts; the table is read every --stats interval and at exit. */
export function httpStatsTool(
  o: HttpCliOptions,
  kernel: HttpKernelFilters,
  intervalS: number | undefined,
): LiveTool<HttpStatsSnapshot> {
  let family: RunningFamily | undefined;
  let final: HttpKernelStats | undefined;
  let last = 0;
  let total = 0;
  const snapshot = (now: number): HttpStatsSnapshot => {
    const rows = family ? kernelEndpoints(shownRows(readRoutes(family), o.redact)) : [];
    total = rows.reduce((n, r) => n + r.requests, 0);
    return { tsNs: now, rows };
  };
  return {
    name: 'http',
    start: (opts, features, _emit, onBad) => {
      family = startHttpCapture(
        { filters: opts.filters, http: kernel, hookMode: opts.hookMode, features, mode: 'stats' as HttpCaptureMode },
        () => onBad(),
        onBad,
      );
      last = monoNowNs();
      return family;
    },
    tick: (now, emit) => {
      if (intervalS === undefined || now - last < intervalS * 1e9) return;
      last = now;
      emit(snapshot(now));
    },
    finish: (emit) => {
      final = readKernel(family);
      emit(snapshot(monoNowNs()));
    },
    header: () => '',
    human: (s, clock: Clock) =>
      [`${clock.timeOfDay(s.tsNs).slice(0, 8)} http: ${total} exchanges`, ...formatHttpStats(s.rows, o.columns)].join(
        '\n',
      ),
    json: (s, clock: Clock) => httpStatsJson(s.tsNs, s.rows, clock),
    summary: () => [
      ...kernelLines(total, final),
      ...(final && final.ROUTES_FULL > 0n
        ? [`http: ${final.ROUTES_FULL} exchanges counted in the (other) row (table full)`]
        : []),
    ],
  };
}

/** The summary lines of a file's analysis: the kernel's figures, counted the same way. */
function streamLines(shown: number, s: HttpStreamStats): string[] {
  return [
    `http: ${shown} exchanges, ${s.unanswered} unanswered, ${s.malformed} malformed heads, ${s.gaps} stream gaps`,
    `http: ${s.dropped} requests not paired (gap or queue full, not shown), ${s.unpaired} responses unpaired`,
    `http: ${s.filtered} requests left out by --method/--url-prefix/--url-contains/--host, ` +
      `${s.tunnels} tunnels (101, CONNECT), ${s.open} exchanges still open at the end, ${s.evicted} connections evicted`,
  ];
}

/** `wirelens http -r FILE`: the same records from a capture file's packets. */
export function httpOfflineTool(
  o: HttpCliOptions,
  kernel: HttpKernelFilters,
  statsOnly: boolean,
): OfflineTool<HttpView> {
  const stats = new HttpStats();
  const a = new HttpStreamExchanges({ headers: o.headers, filters: kernel });
  const layout = httpTextLayout(o.columns);
  const window = new ReorderWindow<HttpView>((v) => v.tsNs, HTTP_REORDER_NS);
  const give = (list: HttpExchange[], emit: (v: HttpView) => void): void => {
    for (const ex of list) window.add(httpView(ex, o.redact), emit);
  };
  return {
    name: 'http',
    take: (x, emit) => give(a.push(x), emit),
    tick: (now, emit) => {
      give(a.tick(now), emit);
      window.flush(now, emit);
    },
    finish: (now, emit) => {
      give(a.tick(now), emit);
      a.end();
      window.flushAll(emit);
    },
    header: () => (statsOnly ? '' : httpHeaderLine(layout)),
    human: (v, clock) => httpLine(v, clock, layout, o.headers),
    json: (v, clock) => httpJson(v, clock, o.headers),
    counted: (v) => stats.add(v),
    silent: statsOnly,
    trailer: (json, clock, nowNs) =>
      !statsOnly
        ? []
        : json
          ? [httpStatsJson(nowNs, stats.endpoints(), clock)]
          : formatHttpStats(stats.endpoints(), o.columns),
    periodic: () => formatHttpStats(stats.endpoints(), o.errColumns),
    summary: () => [
      ...streamLines(stats.total, a.stats),
      ...(statsOnly ? [] : formatHttpStats(stats.endpoints(), o.errColumns)),
    ],
  };
}

function httpOptions(f: Flags): HttpCliOptions {
  const errWidth = terminalColumns(process.stderr);
  return {
    headers: f.headers === true,
    redact: f['no-redact'] !== true,
    columns: terminalColumns(process.stdout),
    errColumns: errWidth === undefined ? undefined : errWidth - 'wirelens: '.length,
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
  if (flags.read !== undefined) {
    if (flags['stats-only'] === true && flags.headers === true)
      throw new UsageError('--headers shows records: it does not go with --stats-only');
    return runOffline(httpOfflineTool(httpOptions(flags), kernel, flags['stats-only'] === true), offlineOptions(flags));
  }
  const opts = liveOptions(flags);
  if (flags['stats-only'] === true) {
    if (flags.headers === true) throw new UsageError('--headers shows records: it does not go with --stats-only');
    // The table goes to stdout at the interval: not also to stderr.
    return runLive(httpStatsTool(httpOptions(flags), kernel, opts.statsS), { ...opts, statsS: undefined });
  }
  // One record per exchange and socket: tens of thousands a second on a busy server.
  fixYoungGeneration(32);
  return runLive(httpTool(httpOptions(flags), kernel), opts);
}
