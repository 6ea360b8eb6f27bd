/**
 * TLS: what the first handshake message of each direction says in clear
 * (SNI, ALPN, versions, cipher suite), gathered from the first bytes each
 * side writes. parseHello is the one-shot form over bytes already gathered.
 */
import { TlsHelloGatherer } from './gather';
import { HelloResult } from './types';

export type { ClientHello, HelloError, HelloResult, ServerHello } from './types';
export { DEFAULT_MAX_HELLO, TlsHelloGatherer, looksLikeTlsHandshake } from './gather';
export { cipherName } from './ciphers';
export { versionName } from './versions';

/** The hello at the start of bytes: as push() of them all then finish(). */
export function parseHello(bytes: Uint8Array, maxBytes?: number): HelloResult {
  const g = new TlsHelloGatherer(maxBytes);
  return g.push(bytes) ?? g.finish() ?? { kind: 'malformed', error: 'truncated' };
}
