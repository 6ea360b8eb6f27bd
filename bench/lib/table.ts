/** Aligned text tables. */

export type Align = 'left' | 'right';

export function formatTable(header: string[], rows: string[][], align?: Align[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Default: the first column (a label) left, the rest (numbers) right.
  const alignOf = (i: number): Align => align?.[i] ?? (i === 0 ? 'left' : 'right');
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (alignOf(i) === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Integer with thousands separators, or "-" when absent. */
export function int(n: number | undefined): string {
  return n === undefined ? '-' : Math.round(n).toLocaleString('en-US');
}

/** Fixed-point number, or "-" when absent. */
export function fixed(n: number | undefined, digits = 1, suffix = ''): string {
  return n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(digits)}${suffix}`;
}
