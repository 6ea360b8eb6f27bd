/**
 * A small strict flag parser: unknown flags, missing values and values out
 * of range are UsageErrors (one line naming the flag as written and, for
 * numbers, the range it takes; exit 2), never stack traces.
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

/** A limit as people read it: 4294967296 as 2^32. */
function limitText(n: number): string {
  for (let k = 32; k <= 53; k++) if (n === 2 ** k) return `2^${k}`;
  return String(n);
}

/** What a numeric flag takes, for its error message: "a whole number from 1 to 65535". */
export function rangeText(spec: FlagSpec): string {
  const kind = spec.type === 'int' ? 'a whole number' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined)
    return `${kind} from ${limitText(spec.min)} to ${limitText(spec.max)}`;
  if (spec.min !== undefined) return `${kind} of at least ${limitText(spec.min)}`;
  if (spec.max !== undefined) return `${kind} of at most ${limitText(spec.max)}`;
  return kind;
}

/** The flag as the user wrote it (-c or --count). */
function convert(spec: FlagSpec, raw: string, used: string): string | number {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`${used} must be one of ${spec.choices.join(', ')} (got "${raw}")`);
    }
    return raw;
  }
  // Plain decimal text only (no 0x, no exponent, no sign but a minus that is out of range anyway).
  const isInt = spec.type === 'int';
  const ok = isInt ? /^-?\d+$/.test(raw) : /^-?(\d+(\.\d*)?|\.\d+)$/.test(raw);
  const n = Number(raw);
  if (
    !ok ||
    !Number.isFinite(n) ||
    (spec.min !== undefined && n < spec.min) ||
    (spec.max !== undefined && n > spec.max)
  ) {
    throw new UsageError(`${used} needs ${rangeText(spec)} (got "${raw}")`);
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
    let used: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      used = `--${name}`;
      if (!spec) throw new UsageError(`unknown flag --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg.slice(1, 2));
      used = arg.slice(0, 2);
      if (!spec) throw new UsageError(`unknown flag ${arg}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.type === 'bool') {
      if (inline !== undefined) throw new UsageError(`${used} takes no value (got "${inline}")`);
      flags[spec.name] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    // A negative number is a (bad) value for a numeric flag, not the next flag.
    const numeric = spec.type === 'int' || spec.type === 'number';
    const nextFlag = inline === undefined && raw !== undefined && raw.startsWith('-') && raw.length > 1;
    if (raw === undefined || (nextFlag && !(numeric && /^-[\d.]/.test(raw)))) {
      const what = numeric
        ? rangeText(spec)
        : spec.choices
          ? `one of ${spec.choices.join(', ')}`
          : `a value${spec.valueName ? ` (${spec.valueName})` : ''}`;
      throw new UsageError(`${used} needs ${what}`);
    }
    if (spec.multiple) {
      const list = (flags[spec.name] as (string | number)[] | undefined) ?? [];
      for (const part of raw.split(',')) {
        if (part === '')
          throw new UsageError(
            raw === ''
              ? `${used} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}, not an empty one`
              : `${used} "${raw}" has an empty item between commas (give values as ${used} A,B or ${used} A ${used} B)`,
          );
        list.push(convert(spec, part, used));
      }
      flags[spec.name] = list;
    } else {
      flags[spec.name] = convert(spec, raw, used);
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
