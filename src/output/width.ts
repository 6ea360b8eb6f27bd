/**
 * Terminal columns of text: East Asian wide and fullwidth characters take
 * two, combining marks none. Used to keep table columns aligned whatever a
 * name holds (it is escaped before it gets here: no controls).
 */

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

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || COMBINING.test(ch)) return 0;
  return isWide(cp) ? 2 : 1;
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** The longest start of s that takes at most `cols` columns. */
function headCols(s: string, cols: number): string {
  let w = 0;
  let out = '';
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > cols) break;
    w += cw;
    out += ch;
  }
  return out;
}

/** The longest end of s that takes at most `cols` columns. */
function tailCols(s: string, cols: number): string {
  const chars = [...s];
  let w = 0;
  let i = chars.length;
  while (i > 0 && w + charWidth(chars[i - 1]!) <= cols) w += charWidth(chars[--i]!);
  return chars.slice(i).join('');
}

/**
 * s in exactly `cols` columns: padded (right-aligned when `right`), or cut
 * with a '~' marking the cut. `middle` cuts the middle instead of the end,
 * keeping both ends (an address's prefix and its last groups or %iface).
 */
export function fitCols(s: string, cols: number, opts: { right?: boolean; middle?: boolean } = {}): string {
  const w = displayWidth(s);
  if (w <= cols) {
    const pad = ' '.repeat(cols - w);
    return opts.right ? pad + s : s + pad;
  }
  if (cols <= 1) return '~'.slice(0, cols);
  let cut: string;
  if (opts.middle) {
    const head = headCols(s, Math.ceil((cols - 1) / 2));
    cut = head + '~' + tailCols(s, cols - 1 - displayWidth(head));
  } else {
    cut = headCols(s, cols - 1) + '~';
  }
  return cut + ' '.repeat(cols - displayWidth(cut));
}

/** s cut to at most `cols` columns (nothing added). */
export function clipCols(s: string, cols: number): string {
  return displayWidth(s) <= cols ? s : headCols(s, cols);
}

/**
 * `prefix` then `text` broken at spaces into lines of at most `width`
 * columns; lines after the first start with `indent` spaces (a word longer
 * than a line is cut).
 */
export function wrapCols(prefix: string, text: string, width: number, indent: number): string[] {
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
      const head = clipCols(word, room);
      cur = head;
      word = word.slice(head.length);
      flush();
    }
    cur = cur === '' ? word : `${cur} ${word}`;
  }
  if (cur !== '' || lines.length === 0) lines.push(cur);
  return lines.map((l, i) => (i === 0 ? prefix + l : ' '.repeat(indent) + l));
}
