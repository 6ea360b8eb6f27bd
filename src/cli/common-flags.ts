/** The flags every live command takes, and their parsed form. */
import { HookMode } from '../kernel/hooks';
import { KernelFilters, validateFilters } from '../probes/filters';
import { UsageError } from '../errors';
import { FlagSpec, Flags, parseArgs } from './args';
import { writeOut } from '../output/stdout';

export const LIVE_FLAGS: FlagSpec[] = [
  { name: 'json', type: 'bool', help: 'one JSON object per line (stable snake_case fields)' },
  { name: 'count', short: 'c', type: 'int', min: 1, max: 2 ** 32, valueName: 'N', help: 'stop after N records' },
  {
    name: 'duration',
    type: 'number',
    min: 0.001,
    max: 2_000_000,
    valueName: 'SECONDS',
    help: 'stop after this many seconds',
  },
  {
    name: 'pid',
    short: 'p',
    type: 'int',
    multiple: true,
    min: 1,
    max: 4194304,
    valueName: 'PID',
    help: 'only these processes (repeatable, in the kernel)',
  },
  { name: 'comm', type: 'string', valueName: 'NAME', help: 'only processes with this task name (in the kernel)' },
  {
    name: 'port',
    type: 'int',
    multiple: true,
    min: 1,
    max: 65535,
    valueName: 'PORT',
    help: 'only connections with this local or remote port (repeatable, in the kernel)',
  },
  {
    name: 'hooks',
    type: 'string',
    choices: ['auto', 'fallback'],
    valueName: 'MODE',
    help: 'auto: cheapest hooks this kernel offers; fallback: force the portable path',
  },
  { name: 'verbose', short: 'v', type: 'bool', help: 'explain hook choices, timings and kernel counters on stderr' },
  { name: 'help', short: 'h', type: 'bool', help: 'show this help' },
];

export interface LiveOptions {
  json: boolean;
  count: number | undefined;
  durationS: number | undefined;
  filters: KernelFilters;
  hookMode: HookMode;
  verbose: boolean;
  /** --stats SECONDS, for tools that print periodic summaries. */
  statsS: number | undefined;
}

export function liveOptions(f: Flags): LiveOptions {
  const opts: LiveOptions = {
    json: f.json === true,
    count: f.count as number | undefined,
    durationS: f.duration as number | undefined,
    filters: {
      pids: (f.pid as number[] | undefined) ?? [],
      comm: f.comm as string | undefined,
      ports: (f.port as number[] | undefined) ?? [],
    },
    hookMode: (f.hooks as HookMode | undefined) ?? 'auto',
    verbose: f.verbose === true,
    statsS: f.stats as number | undefined,
  };
  validateFilters(opts.filters);
  return opts;
}

/** Parses a live command's arguments; null when --help was asked (and printed). */
export function parseLiveArgs(argv: string[], specs: FlagSpec[], help: string): Flags | null {
  const { flags, positionals } = parseArgs(argv, specs);
  if (flags.help) {
    writeOut(help + '\n');
    return null;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return flags;
}
