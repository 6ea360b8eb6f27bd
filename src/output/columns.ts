/**
 * Fixed-width text tables for the live commands' human lines. A table is
 * chosen for the output width: columns that matter less appear only when
 * the width allows, every cell is cut to its column (so a long IPv6
 * address or an escaped name never shifts the columns after it) and the
 * last column takes what is left; no line is longer than the width.
 * Cut cells end in `…`; addresses keep their end (`[fe80::1…:7d10]:52344`)
 * so the port stays readable. --json has every field whole.
 */
import { Clock } from './clock';

export interface Column<R> {
  title: string;
  /** Columns of text; the last column of a table takes the rest. */
  width: number;
  right?: boolean;
  /** Where a cell too long for the column is cut: 'end' (default) or 'middle' (addresses). */
  cut?: 'end' | 'middle';
  /** Shown only from this output width on. */
  from?: number;
  /** Shown only below this output width. */
  below?: number;
  cell: (r: R, clock: Clock) => string;
}

const ELLIPSIS = '\u2026';

/** Columns a string takes on a terminal (one per code point: captured text is escaped, no wide forms assumed). */
export function textWidth(s: string): number {
  if (/^[\x00-\x7f]*$/.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `s` cut to at most `width` columns, the cut marked with `…`. */
export function cutText(s: string, width: number, where: 'end' | 'middle' = 'end'): string {
  if (textWidth(s) <= width) return s;
  if (width <= 0) return '';
  if (width === 1) return ELLIPSIS;
  const cps = Array.from(s);
  if (where === 'end') return cps.slice(0, width - 1).join('') + ELLIPSIS;
  const tail = Math.ceil((width - 1) / 2);
  const head = width - 1 - tail;
  return cps.slice(0, head).join('') + ELLIPSIS + cps.slice(cps.length - tail).join('');
}

function pad(s: string, width: number, right: boolean | undefined): string {
  const fill = width - textWidth(s);
  if (fill <= 0) return s;
  return right ? ' '.repeat(fill) + s : s + ' '.repeat(fill);
}

export class TextTable<R> {
  readonly columns: Column<R>[];
  private readonly restWidth: number;

  /** `columns`' last one takes the rest of `width` (at least its own width). */
  constructor(
    all: Column<R>[],
    readonly width: number,
  ) {
    this.columns = all.filter((c) => width >= (c.from ?? 0) && width < (c.below ?? Infinity));
    const fixed = this.columns.slice(0, -1).reduce((n, c) => n + c.width + 1, 0);
    this.restWidth = Math.max(this.columns[this.columns.length - 1]!.width, width - fixed);
  }

  header(): string {
    return this.row(this.columns.map((c) => c.title));
  }

  line(r: R, clock: Clock): string {
    return this.row(this.columns.map((c) => c.cell(r, clock)));
  }

  private row(cells: string[]): string {
    let s = '';
    const last = this.columns.length - 1;
    for (let i = 0; i < last; i++) {
      const c = this.columns[i]!;
      s += pad(cutText(cells[i]!, c.width, c.cut), c.width, c.right) + ' ';
    }
    const c = this.columns[last]!;
    s += pad(cutText(cells[last]!, this.restWidth, c.cut), c.right ? this.restWidth : 0, c.right);
    return s.trimEnd();
  }
}
