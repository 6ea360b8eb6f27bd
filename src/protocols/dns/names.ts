/**
 * Domain names in wire format (RFC 1035 section 4.1.4), compression
 * pointers included, to presentation text with a trailing dot ("." for the
 * root). Every pointer must point strictly before the label sequence that
 * holds it, so each jump goes further back and a loop cannot form; a hop cap
 * bounds chains of bare pointers. Labels of the 0x40 and 0x80 kinds read as
 * lengths over 63 and are rejected, as are names over 255 wire bytes. Pure;
 * never throws.
 */
import { labelText } from './text';

export type NameRead = { ok: true; name: string; end: number } | { ok: false; error: string };

export const MAX_NAME_BYTES = 255;
/** A 255-byte name has at most 127 labels, so no honest name needs more jumps. */
export const MAX_POINTER_HOPS = 127;

function fail(error: string): NameRead {
  return { ok: false, error };
}

/**
 * The name at msg[start]. Its bytes in place must end by `limit` (the end of
 * the message, or of the rdata holding it); pointers may lead anywhere
 * earlier in the message. `end` is the offset just past the name in place.
 */
export function readName(msg: Uint8Array, start: number, limit: number): NameRead {
  let pos = start;
  let segment = start; // where the label sequence being read began
  let end = -1;
  let wire = 1; // the root label's length byte
  let hops = 0;
  let name = '';
  for (;;) {
    const lim = end < 0 ? limit : msg.length;
    if (pos >= lim) return fail('truncated');
    const len = msg[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { ok: true, name: name === '' ? '.' : name, end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= lim) return fail('truncated');
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= segment) return fail(target <= pos ? 'pointer loop' : 'bad pointer');
      if (++hops > MAX_POINTER_HOPS) return fail('pointer loop');
      pos = segment = target;
      continue;
    }
    if (len > 63) return fail('label too long');
    wire += len + 1;
    if (wire > MAX_NAME_BYTES) return fail('name too long');
    if (pos + 1 + len > lim) return fail('truncated');
    name += labelText(msg, pos + 1, len) + '.';
    pos += 1 + len;
  }
}

/**
 * Steps over a name in place without decoding it (records past the decode
 * cap): the offset just past it, or an error. Pointers are not followed.
 */
export function skipName(msg: Uint8Array, start: number): number | string {
  let pos = start;
  let wire = 1;
  for (;;) {
    if (pos >= msg.length) return 'truncated';
    const len = msg[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= msg.length ? pos + 2 : 'truncated';
    if (len > 63) return 'label too long';
    wire += len + 1;
    if (wire > MAX_NAME_BYTES) return 'name too long';
    pos += 1 + len;
  }
}
