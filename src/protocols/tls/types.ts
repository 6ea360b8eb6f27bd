/**
 * What wirelens reports from the first handshake message of each direction
 * of a TLS connection: the ClientHello or the ServerHello, or why not.
 */

/** The stable reasons a hello is reported malformed. */
export type HelloError =
  | 'bad length' // a length outside its bounds or its enclosing length
  | 'too long' // the handshake message would exceed the gatherer's bound
  | 'not a hello' // a handshake message other than ClientHello or ServerHello came first
  | 'bad record' // a later record was not a handshake record
  | 'duplicate extension' // the same extension twice in one hello
  | 'truncated'; // the stream ended (finish()) before the hello did

export interface ClientHello {
  /** The server_name host_name as safe text (wireText: UTF-8 decoded, controls and invalid bytes as \xNN). */
  sni?: string;
  /** The ALPN protocol names offered, in order, escaped like sni; [] when no ALPN extension. */
  alpn: string[];
  /** The legacy_version field ("TLS 1.2" for every TLS 1.3 client). */
  legacyVersion: string;
  /** The supported_versions extension's list, in order; [] when the extension is absent. */
  versions: string[];
  /** How many cipher suites were offered. */
  cipherSuites: number;
}

export interface ServerHello {
  /** supported_versions' selected_version when present, else the legacy version. */
  version: string;
  /** The IANA name of the chosen suite, or 0xNNNN. */
  cipher: string;
  /** The ALPN protocol selected; only a TLS 1.2 (or older) ServerHello carries it, 1.3 encrypts it. */
  alpn?: string;
  /** A TLS 1.3 HelloRetryRequest: the server asks the client to send a new ClientHello. */
  helloRetry: boolean;
}

export type HelloResult =
  | { kind: 'client_hello'; hello: ClientHello }
  | { kind: 'server_hello'; hello: ServerHello }
  | { kind: 'not_tls' } // first bytes are not a TLS handshake record
  | { kind: 'malformed'; error: HelloError }; // looked like TLS, then broke a rule or a bound

export function malformed(error: HelloError): HelloResult {
  return { kind: 'malformed', error };
}
