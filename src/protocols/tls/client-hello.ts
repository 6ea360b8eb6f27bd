/** The body of a ClientHello handshake message (RFC 8446 4.1.2, RFC 5246 7.4.1.2). */
import {
  EXT_ALPN,
  EXT_SERVER_NAME,
  EXT_SUPPORTED_VERSIONS,
  Fail,
  alpnNames,
  fail,
  isFail,
  offeredVersions,
  readExtensions,
  serverName,
} from './extensions';
import { Reader } from './reader';
import { ClientHello } from './types';
import { isGrease, versionName } from './versions';

const RANDOM = 32;
const MAX_SESSION_ID = 32;

export function parseClientHello(r: Reader): ClientHello | Fail {
  const legacy = r.u16();
  if (legacy < 0 || !r.skip(RANDOM)) return fail('bad length');
  const session = r.vec8();
  if (!session || session.left > MAX_SESSION_ID) return fail('bad length');
  const suites = r.vec16();
  if (!suites || suites.left === 0 || suites.left % 2 !== 0) return fail('bad length');
  let cipherSuites = 0;
  while (suites.left > 0) if (!isGrease(suites.u16())) cipherSuites++;
  const compression = r.vec8();
  if (!compression || compression.left === 0) return fail('bad length');
  const exts = readExtensions(r);
  if (isFail(exts)) return exts;

  const hello: ClientHello = { alpn: [], legacyVersion: versionName(legacy), versions: [], cipherSuites };
  const sniData = exts.get(EXT_SERVER_NAME);
  if (sniData) {
    const sni = serverName(sniData);
    if (isFail(sni)) return sni;
    if (sni !== undefined) hello.sni = sni;
  }
  const alpnData = exts.get(EXT_ALPN);
  if (alpnData) {
    const alpn = alpnNames(alpnData);
    if (isFail(alpn)) return alpn;
    hello.alpn = alpn;
  }
  const versionData = exts.get(EXT_SUPPORTED_VERSIONS);
  if (versionData) {
    const versions = offeredVersions(versionData);
    if (isFail(versions)) return versions;
    hello.versions = versions.map(versionName);
  }
  return hello;
}
