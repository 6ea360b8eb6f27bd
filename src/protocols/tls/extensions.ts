/**
 * The hello extensions wirelens reads: the extension block itself, then
 * server_name (RFC 6066), ALPN (RFC 7301) and supported_versions (RFC 8446).
 * Each parser takes a reader over one extension's data, which it must fill
 * exactly; failures are returned as { fail }, never thrown.
 */
import { Reader } from './reader';
import { wireText } from '../../text/sanitize';
import { HelloError } from './types';
import { isGrease } from './versions';

export interface Fail {
  fail: HelloError;
}

export function fail(e: HelloError): Fail {
  return { fail: e };
}

export function isFail(x: unknown): x is Fail {
  return typeof x === 'object' && x !== null && 'fail' in x;
}

export const EXT_SERVER_NAME = 0;
export const EXT_ALPN = 16;
export const EXT_SUPPORTED_VERSIONS = 43;

/**
 * The extension block that ends a hello, from its two-byte length: the data
 * of each extension by type. No block at all (TLS 1.2 and older may omit
 * it) is an empty map; a block that does not end where the hello does, an
 * extension past the block, or one type twice is a failure.
 */
export function readExtensions(r: Reader): Map<number, Reader> | Fail {
  const out = new Map<number, Reader>();
  if (r.left === 0) return out;
  const block = r.vec16();
  if (!block || r.left !== 0) return fail('bad length');
  while (block.left > 0) {
    const type = block.u16();
    const data = block.vec16();
    if (type < 0 || !data) return fail('bad length');
    if (out.has(type)) return fail('duplicate extension');
    out.set(type, data);
  }
  return out;
}

const HOST_NAME = 0;
const MAX_HOST_NAME = 255;

/** server_name: the first host_name entry of a non-empty ServerNameList, 1..255 bytes. */
export function serverName(r: Reader): string | undefined | Fail {
  const list = r.vec16();
  if (!list || r.left !== 0 || list.left === 0) return fail('bad length');
  let host: string | undefined;
  while (list.left > 0) {
    const type = list.u8();
    const name = list.vec16();
    if (type < 0 || !name) return fail('bad length');
    if (type !== HOST_NAME || host !== undefined) continue;
    if (name.left === 0 || name.left > MAX_HOST_NAME) return fail('bad length');
    host = wireText(name.b, name.pos, name.end);
  }
  return host;
}

/** An ALPN ProtocolName that is a GREASE value (RFC 8701): two equal bytes 0x?A. */
function greaseName(name: Reader): boolean {
  if (name.left !== 2) return false;
  const a = name.b[name.pos]!;
  return isGrease((a << 8) | name.b[name.pos + 1]!);
}

/** ALPN: the non-empty ProtocolNameList of non-empty names, GREASE left out. */
export function alpnNames(r: Reader): string[] | Fail {
  const list = r.vec16();
  if (!list || r.left !== 0 || list.left === 0) return fail('bad length');
  const names: string[] = [];
  while (list.left > 0) {
    const name = list.vec8();
    if (!name || name.left === 0) return fail('bad length');
    if (!greaseName(name)) names.push(wireText(name.b, name.pos, name.end));
  }
  return names;
}

/** supported_versions in a ClientHello: a non-empty list of two-byte versions, GREASE left out. */
export function offeredVersions(r: Reader): number[] | Fail {
  const list = r.vec8();
  if (!list || r.left !== 0 || list.left === 0 || list.left % 2 !== 0) return fail('bad length');
  const out: number[] = [];
  while (list.left > 0) {
    const v = list.u16();
    if (!isGrease(v)) out.push(v);
  }
  return out;
}

/** supported_versions in a ServerHello: the one selected version. */
export function selectedVersion(r: Reader): number | Fail {
  return r.left === 2 ? r.u16() : fail('bad length');
}
