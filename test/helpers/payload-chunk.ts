/**
 * A PayloadChunk (what src/events/sock-payload.ts decodes) for unit tests: `base` fields, then `o`.
 * Times may be given as BigInt, as the analyzers' own times are: the chunk gets a number.
 */
import type { PayloadChunk } from '../../src/events/sock-payload';

type Ts = { tsNs?: number | bigint };

export function payloadChunk(
  bytes: Uint8Array,
  base: Omit<Pick<PayloadChunk, 'tsNs' | 'proc' | 'sock' | 'kind' | 'transport' | 'dir'>, 'tsNs'> & Ts,
  o: Omit<Partial<PayloadChunk>, 'tsNs'> & Ts = {},
): PayloadChunk {
  return {
    ...base,
    conn: 1,
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
    tsNs: Number(o.tsNs ?? base.tsNs ?? 0),
  };
}
