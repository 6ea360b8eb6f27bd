/**
 * Captured bytes are attacker-controlled (a process can name itself with
 * escape sequences, a client can put any byte in a URL). Every string taken
 * from the wire or the kernel becomes text here, once, and is then safe to
 * print to a terminal and to put in JSON:
 *  - valid UTF-8 is decoded (`caf\xc3\xa9` is `café`);
 *  - each byte of an invalid sequence, and every C0 control, DEL, C1
 *    control and bidirectional override (which can reorder what a terminal
 *    shows), is written as `\xNN` per byte of its encoding;
 *  - everything else, backslash included, stands for itself (so a path
 *    `/a\b` reads `/a\b`; a literal `\x1b` in the data reads the same as an
 *    escaped ESC, but no raw control character ever comes out).
 * Applying any of these to their own output changes nothing. A leaf: it imports
 * nothing of ours, so every layer (protocols and sources included) may use it.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, b) => `\\x${b.toString(16).padStart(2, '0')}`);

/** Code points written as escapes even where the UTF-8 is valid. */
function unsafeCodePoint(c: number): boolean {
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0x2028 ||
    c === 0x2029
  );
}

/** Length of the valid UTF-8 sequence starting at b[i], or 0 when it is not one. */
function sequenceLength(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  const cont = (k: number): boolean => i + k < end && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

function codePointAt(b: Uint8Array, i: number, n: number): number {
  if (n === 2) return ((b[i]! & 0x1f) << 6) | (b[i + 1]! & 0x3f);
  if (n === 3) return ((b[i]! & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
  return ((b[i]! & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
}

/** Bytes from the wire or the kernel as safe text (see the top of this file). */
export function wireText(b: Uint8Array, from = 0, to = b.length): string {
  let s = '';
  let i = from;
  while (i < to) {
    const start = i;
    while (i < to && b[i]! >= 0x20 && b[i]! < 0x7f) i++;
    if (i > start) s += String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[]);
    if (i >= to) break;
    const c = b[i]!;
    if (c < 0x80) {
      s += HEX[c]!;
      i++;
      continue;
    }
    const n = sequenceLength(b, i, to);
    if (n === 0) {
      s += HEX[c]!;
      i++;
      continue;
    }
    const cp = codePointAt(b, i, n);
    if (unsafeCodePoint(cp)) for (let k = 0; k < n; k++) s += HEX[b[i + k]!]!;
    else s += String.fromCodePoint(cp);
    i += n;
  }
  return s;
}

/**
 * Bytes (a latin1 string, one byte per character) that a byte limit cut
 * regardless of characters: a UTF-8 sequence the cut left incomplete at the
 * end is dropped, so the text ends on a whole character (before its cut
 * mark) rather than on `\xc3`. Only the end is looked at.
 */
export function dropCutSequence(s: string): string {
  for (let k = 1; k <= 3 && k <= s.length; k++) {
    const c = s.charCodeAt(s.length - k);
    if (c >= 0x80 && c < 0xc0) continue; // a continuation byte: its lead is further back
    const need = c >= 0xf8 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    return need > k ? s.slice(0, s.length - k) : s;
  }
  return s;
}

/** A string holding one byte per character (latin1-decoded wire bytes) as safe text. */
export function latin1Text(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return wireText(Buffer.from(s, 'latin1'));
  }
  return s;
}

/**
 * A JS string of unknown origin (an interface name, a file path, an error
 * message) made safe for the terminal: control characters escaped by their
 * UTF-8 bytes, nothing else changed. Idempotent, so text that already went
 * through wireText is left as it is.
 */
export function escapeTerminal(s: string): string {
  let safe = true;
  for (const ch of s) {
    if (unsafeCodePoint(ch.codePointAt(0)!)) {
      safe = false;
      break;
    }
  }
  if (safe) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (!unsafeCodePoint(c)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += HEX[b]!;
  }
  return out;
}
