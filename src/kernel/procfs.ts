import * as fs from 'node:fs';

/** The process ids in /proc, lowest first; undefined when /proc cannot be read. */
export function listPids(): string[] | undefined {
  try {
    return fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    return undefined;
  }
}
