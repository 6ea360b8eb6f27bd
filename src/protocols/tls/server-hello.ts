/**
 * The body of a ServerHello handshake message (RFC 8446 4.1.3, RFC 5246
 * 7.4.1.3), including the HelloRetryRequest, which is a ServerHello with a
 * fixed random.
 */
import {
  EXT_ALPN,
  EXT_SUPPORTED_VERSIONS,
  Fail,
  alpnNames,
  fail,
  isFail,
  readExtensions,
  selectedVersion,
} from './extensions';
import { Reader } from './reader';
import { ServerHello } from './types';
import { cipherName } from './ciphers';
import { versionName } from './versions';

const MAX_SESSION_ID = 32;

/** SHA-256 of "HelloRetryRequest": the random of every HelloRetryRequest (RFC 8446 4.1.3). */
const HELLO_RETRY_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11,
  0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

function isHelloRetry(random: Reader): boolean {
  for (let i = 0; i < HELLO_RETRY_RANDOM.length; i++)
    if (random.b[random.pos + i] !== HELLO_RETRY_RANDOM[i]) return false;
  return true;
}

export function parseServerHello(r: Reader): ServerHello | Fail {
  const legacy = r.u16();
  const random = r.take(HELLO_RETRY_RANDOM.length);
  if (legacy < 0 || !random) return fail('bad length');
  const session = r.vec8();
  if (!session || session.left > MAX_SESSION_ID) return fail('bad length');
  const suite = r.u16();
  if (suite < 0 || r.u8() < 0) return fail('bad length'); // the suite, then one compression method
  const exts = readExtensions(r);
  if (isFail(exts)) return exts;

  let version = legacy;
  const versionData = exts.get(EXT_SUPPORTED_VERSIONS);
  if (versionData) {
    const v = selectedVersion(versionData);
    if (isFail(v)) return v;
    version = v;
  }
  const hello: ServerHello = {
    version: versionName(version),
    cipher: cipherName(suite),
    helloRetry: isHelloRetry(random),
  };
  const alpnData = exts.get(EXT_ALPN);
  if (alpnData) {
    const alpn = alpnNames(alpnData);
    if (isFail(alpn)) return alpn;
    if (alpn.length !== 1) return fail('bad length'); // the server selects exactly one
    hello.alpn = alpn[0]!;
  }
  return hello;
}
