/**
 * One whole hello handshake message, from its type and body (the four-byte
 * handshake header already read): a ClientHello, a ServerHello, or why not.
 * Pure; never throws.
 */
import { parseClientHello } from './client-hello';
import { isFail } from './extensions';
import { Reader } from './reader';
import { parseServerHello } from './server-hello';
import { HelloResult, malformed } from './types';

export const HANDSHAKE_HEADER = 4;
export const CLIENT_HELLO = 1;
export const SERVER_HELLO = 2;

export function isHelloType(type: number): boolean {
  return type === CLIENT_HELLO || type === SERVER_HELLO;
}

export function parseHelloMessage(type: number, body: Uint8Array): HelloResult {
  if (type === CLIENT_HELLO) {
    const hello = parseClientHello(Reader.of(body));
    return isFail(hello) ? malformed(hello.fail) : { kind: 'client_hello', hello };
  }
  if (type === SERVER_HELLO) {
    const hello = parseServerHello(Reader.of(body));
    return isFail(hello) ? malformed(hello.fail) : { kind: 'server_hello', hello };
  }
  return malformed('not a hello');
}
