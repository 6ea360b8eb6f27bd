/**
 * A small strict flag parser: unknown flags, missing values and values out
 * of range are UsageErrors (one line, exit 2), never stack traces.
 */
import { UsageError } from '../errors';

export type FlagType = 'bool' | 'string' | 'int' | 'number';

export interface FlagSpec {
  name: string; // long name without dashes
  short?: string; // one letter
  type: FlagType;
  /** Repeatable; comma-separated values are split too. */
  multiple?: boolean;
  min?: number;
  max?: number;
  choices?: readonly string[];
  valueName?: string;
  help: string;
}

export type FlagValue = boolean | string | number | (string | number)[];
export type Flags = Record<string, FlagValue | undefined>;

function convert(spec: FlagSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`${flag} must be one of ${spec.choices.join(', ')} (got "${raw}")`);
    }
    return raw;
  }
  const isInt = spec.type === 'int';
  const ok = isInt ? /^\d+$/.test(raw) : /^\d+(\.\d+)?$/.test(raw);
  if (!ok) throw new UsageError(`${flag} needs ${isInt ? 'a whole number' : 'a number'} (got "${raw}")`);
  const n = Number(raw);
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    const range = `${spec.min ?? '-inf'}-${spec.max ?? 'inf'}`;
    throw new UsageError(`${flag} ${raw} is out of range (${range})`);
  }
  return n;
}

export function parseArgs(argv: string[], specs: FlagSpec[]): { flags: Flags; positionals: string[] } {
  const flags: Flags = {};
  const positionals: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg.slice(1, 2));
      if (!spec) throw new UsageError(`unknown flag ${arg}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.type === 'bool') {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`);
      flags[spec.name] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('-') && raw.length > 1)) {
      throw new UsageError(`--${spec.name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`);
    }
    if (spec.multiple) {
      const list = (flags[spec.name] as (string | number)[] | undefined) ?? [];
      for (const part of raw.split(',')) {
        if (part === '') throw new UsageError(`--${spec.name} has an empty value in "${raw}"`);
        list.push(convert(spec, part));
      }
      flags[spec.name] = list;
    } else {
      flags[spec.name] = convert(spec, raw);
    }
  }
  return { flags, positionals };
}

export function flagHelp(specs: FlagSpec[]): string {
  return specs
    .map((s) => {
      const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.valueName ?? s.type.toUpperCase()}`}`;
      return `  ${names.padEnd(28)} ${s.help}`;
    })
    .join('\n');
}

export function shortUsage(command: string, specs: FlagSpec[]): string {
  const parts = specs.map((s) => `[--${s.name}${s.type === 'bool' ? '' : ` ${s.valueName ?? s.type.toUpperCase()}`}]`);
  return `usage: wirelens ${command} ${parts.join(' ')}`;
}
