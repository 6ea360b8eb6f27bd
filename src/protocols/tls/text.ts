/**
 * Names and values from the wire made safe to carry as strings: peer-chosen
 * bytes (SNI, ALPN) keep printable ASCII and become \xNN otherwise.
 */

/** 0xNNNN, four lower-case hex digits. */
export function hex16(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

/**
 * b[from, to) as a string: printable ASCII as itself; other bytes, and the
 * backslash (so that an escape is never ambiguous), as \xNN.
 */
export function printable(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  return s;
}
