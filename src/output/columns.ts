/**
 * Text in fixed-width columns, for every human table (http, tcp, dns, tls,
 * top, doctor): the one place that knows how many terminal columns text
 * takes, how a cell too long for its column is cut (marked `…`, addresses in
 * the middle so the port or %iface stays readable), how a cell is padded and
 * how free text wraps. A table is chosen for the output width: columns that
 * matter less appear only when the width allows, every cell is cut to its
 * column (so a long IPv6 address or an escaped name never shifts the columns
 * after it) and the last column takes what is left; no line is longer than
 * the width. --json has every field whole.
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
  /**
   * The cell's text is only ever characters below U+0300 (digits, ASCII words, numeric addresses):
   * its length is its width, so it is not scanned (which would also flatten the string).
   */
  narrow?: boolean;
}

/** The mark of a cut: one column wide, and not a character URLs and paths use (as `~` is). */
export const CUT_MARK = '\u2026';

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

const COMBINING = /\p{M}/u;

/** Columns of one character: East Asian wide and fullwidth take two, combining marks and zero-width joiners none. */
function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x300) return 1; // below the first combining mark: one column each (controls are escaped before)
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || COMBINING.test(ch)) return 0;
  return isWide(cp) ? 2 : 1;
}

/** Columns a string takes on a terminal (it is escaped before it gets here: no controls). */
export function displayWidth(s: string): number {
  // Per line and cell: characters below U+0300 (ASCII, Latin-1) are one column each, counted without
  // a regular expression or a string per character; the rest of the string goes character by character.
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 0x300) i++;
  if (i === s.length) return i;
  let w = i;
  for (const ch of s.slice(i)) w += charWidth(ch);
  return w;
}

/** True when every character of s is below U+0300: one column each, so columns are string indices. */
function narrowOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x300) return false;
  return true;
}

/** The longest start of s that takes at most `cols` columns. */
function headCols(s: string, cols: number): string {
  if (narrowOnly(s)) return s.slice(0, Math.max(0, cols));
  let w = 0;
  let end = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > cols) break;
    w += cw;
    end += ch.length;
  }
  return s.slice(0, end);
}

/** The longest end of s that takes at most `cols` columns. */
function tailCols(s: string, cols: number): string {
  if (narrowOnly(s)) return cols <= 0 ? '' : s.slice(-cols);
  const chars = [...s];
  let w = 0;
  let i = chars.length;
  while (i > 0 && w + charWidth(chars[i - 1]!) <= cols) w += charWidth(chars[--i]!);
  return chars.slice(i).join('');
}

/** An address, perhaps with %iface, brackets and port: `[fe80::1%eth0]:80`, `10.0.0.1:53`, `fe80::1%eth0`. */
const ADDRESS = /^\[?[0-9a-fA-F:.]+(%[^\]\s]+)?(\]:\d+)?(:\d+)?$/;

/** Columns of an address's end that a middle cut keeps whole: `%iface` (and its port), `]:port` or `:port` (0: not an address). */
function addressEnd(s: string): number {
  if (!ADDRESS.test(s)) return 0;
  const iface = s.indexOf('%');
  const at = iface >= 0 ? iface : s.lastIndexOf(']') >= 0 ? s.lastIndexOf(']') : s.lastIndexOf(':');
  return displayWidth(s.slice(at));
}

/**
 * `s` cut to at most `width` columns, the cut marked with `…`: at the end,
 * or (`middle`, for addresses) in the middle, keeping the end's half or,
 * when longer, its `]:port` / `%iface` whole (`[fe80::1c2…d10]:52344`).
 * A width of Infinity never cuts.
 */
export function cutText(s: string, width: number, where: 'end' | 'middle' = 'end'): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  if (width === 1) return CUT_MARK;
  if (where === 'end') return headCols(s, width - 1) + CUT_MARK;
  const tail = tailCols(s, Math.min(width - 2, Math.max(Math.ceil((width - 1) / 2), addressEnd(s))));
  return headCols(s, width - 1 - displayWidth(tail)) + CUT_MARK + tail;
}

/** `s` padded to `width` columns, on the left when `right` (a longer one is left as it is). */
export function padText(s: string, width: number, right = false): string {
  const fill = width - displayWidth(s);
  if (fill <= 0) return s;
  return right ? spaces(fill) + s : s + spaces(fill);
}

/** A cell of exactly `width` columns: cut (see cutText), then padded. */
export function fitCell(s: string, width: number, opts: { right?: boolean; cut?: 'end' | 'middle' } = {}): string {
  return padText(cutText(s, width, opts.cut), width, opts.right);
}

const SPACES = ' '.repeat(256);

/** Spaces for `n` columns: a slice of one string for the common widths. */
function spaces(n: number): string {
  return n <= SPACES.length ? SPACES.slice(0, n) : ' '.repeat(n);
}

/** fitCell's work for text `w` columns wide; `noPad`: cut only (a line's last cell). */
function fitText(s: string, w: number, width: number, right: boolean, cut: 'end' | 'middle', noPad: boolean): string {
  if (w > width) {
    const t = cutText(s, width, cut);
    return noPad ? t : padText(t, width, right); // a wide character may leave a column
  }
  if (noPad || w === width) return s;
  return right ? spaces(width - w) + s : s + spaces(width - w);
}

/** s cut to at most `cols` columns, with no mark (a line at a terminal's edge). */
export function clipText(s: string, cols: number): string {
  return displayWidth(s) <= cols ? s : headCols(s, cols);
}

/**
 * `prefix` then `text` broken at spaces into lines of at most `width`
 * columns; lines after the first start with `indent` spaces (a word longer
 * than a line is broken across lines).
 */
export function wrapText(prefix: string, text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let cur = '';
  let room = width - displayWidth(prefix);
  const flush = (): void => {
    lines.push(cur);
    cur = '';
    room = width - indent;
  };
  for (let word of text.split(/ +/)) {
    if (word === '') continue;
    if (cur !== '' && displayWidth(cur) + 1 + displayWidth(word) > room) flush();
    while (cur === '' && displayWidth(word) > room && room > 0) {
      const head = clipText(word, room);
      cur = head;
      word = word.slice(head.length);
      flush();
    }
    cur = cur === '' ? word : `${cur} ${word}`;
  }
  if (cur !== '' || lines.length === 0) lines.push(cur);
  return lines.map((l, i) => (i === 0 ? prefix + l : ' '.repeat(indent) + l));
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
    let s = '';
    for (let i = 0; i < this.columns.length; i++) s += this.fit(i, this.columns[i]!.title);
    return s.trimEnd();
  }

  line(r: R, clock: Clock): string {
    // Per record: cells made and fitted one by one, no array of cells, no options object per cell.
    let s = '';
    for (let i = 0; i < this.columns.length; i++) s += this.fit(i, this.columns[i]!.cell(r, clock));
    return s.trimEnd();
  }

  /** Column i's text fitted to it, with the space that follows it; the last column takes the rest of the width. */
  private fit(i: number, text: string): string {
    const c = this.columns[i]!;
    const w = c.narrow === true ? text.length : displayWidth(text);
    const right = c.right === true;
    if (i < this.columns.length - 1) return fitText(text, w, c.width, right, c.cut ?? 'end', false) + ' ';
    return fitText(text, w, this.restWidth, right, c.cut ?? 'end', !right);
  }
}

/** One field of a line that fitFields may leave out: rank 0 is always kept; a higher rank goes first. */
export interface LineField {
  text: string;
  rank: number;
  /** An address: when the kept fields are still too long, cut in its middle (down to 12 columns) before the line's end is. */
  cut?: 'middle';
}

/**
 * Fields joined by spaces in at most `width` columns: while the line is too
 * long, the field of the highest rank (the last of equals) is left out, and
 * each run of left-out fields shows as one `…`; if the fields of rank 0
 * alone are too long, addresses (`cut: 'middle'`, longest first) are cut in
 * their middle, then the line at its end (each cut marked `…`). A width of
 * undefined or Infinity keeps every field.
 */
export function fitFields(fields: LineField[], width: number | undefined): string {
  const all = fields.filter((f) => f.text !== '');
  const whole = all.map((f) => f.text).join(' ');
  if (width === undefined || displayWidth(whole) <= width) return whole;
  const kept = all.map(() => true);
  const render = (): string => {
    const out: string[] = [];
    for (let i = 0; i < all.length; i++)
      if (kept[i]) out.push(all[i]!.text);
      else if (i === 0 || kept[i - 1]) out.push(CUT_MARK);
    return out.join(' ');
  };
  let line = whole;
  while (displayWidth(line) > width) {
    let drop = -1;
    for (let i = 0; i < all.length; i++)
      if (kept[i] && all[i]!.rank > 0 && (drop < 0 || all[i]!.rank >= all[drop]!.rank)) drop = i;
    if (drop < 0) break;
    kept[drop] = false;
    line = render();
  }
  // What is still too long is shared among the addresses, the longest giving most.
  const middles = all
    .map((_, i) => i)
    .filter((i) => kept[i] && all[i]!.cut === 'middle')
    .sort((x, y) => displayWidth(all[y]!.text) - displayWidth(all[x]!.text));
  middles.forEach((i, k) => {
    const excess = displayWidth(line) - width;
    if (excess <= 0) return;
    const w = displayWidth(all[i]!.text);
    const share = Math.ceil(excess / (middles.length - k));
    all[i] = { ...all[i]!, text: cutText(all[i]!.text, Math.max(12, w - share), 'middle') };
    line = render();
  });
  return cutText(line, width);
}
