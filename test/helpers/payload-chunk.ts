/** A PayloadChunk (what src/events/sock-payload.ts decodes) for unit tests: `base` fields, then `o`. */
import type { PayloadChunk } from '../../src/events/sock-payload';

export function payloadChunk(
  bytes: Uint8Array,
  base: Pick<PayloadChunk, 'tsNs' | 'proc' | 'sock' | 'kind' | 'transport' | 'dir'>,
  o: Partial<PayloadChunk> = {},
): PayloadChunk {
  return {
    ...base,
    conn: 1n,
    len: bytes.length,
    off: 0,
    stream: 0,
    fin: false,
    rst: false,
    limit: false,
    cut: false,
    listener: false,
    bytes,
    ...o,
  };
}
