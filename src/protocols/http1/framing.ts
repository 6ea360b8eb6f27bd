/**
 * How an HTTP/1.x message body ends (RFC 9112 section 6), decided from the
 * head alone. One set of rules for the full-stream parser (stream.ts) and for
 * the exchange assembler, which sees heads and lengths only.
 */
export type BodyFraming =
  | { kind: 'none' } // no body: HEAD, 204, 304, no length on a request
  | { kind: 'tunnel' } // 101, or 2xx to CONNECT: the bytes after are not HTTP
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' } // a response with neither length nor chunking
  | { kind: 'invalid'; reason: string };

/** 1xx other than 101: another response to the same request follows. */
export function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

export function isChunked(transferEncoding: string | undefined): boolean {
  return transferEncoding !== undefined && /(^|,)\s*chunked\s*$/i.test(transferEncoding);
}

/** Content-Length's value (the first of a repeated list); null when malformed. */
function contentLength(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  const first = text.split(',')[0]!.trim();
  return /^\d{1,15}$/.test(first) ? Number(first) : null;
}

function byLength(te: string | undefined, cl: string | undefined, absent: BodyFraming): BodyFraming {
  if (isChunked(te)) return { kind: 'chunked' };
  const length = contentLength(cl);
  if (length === null) return { kind: 'invalid', reason: 'bad Content-Length' };
  if (length === undefined) return absent;
  return length > 0 ? { kind: 'length', length } : { kind: 'none' };
}

export function requestFraming(method: string, te: string | undefined, cl: string | undefined): BodyFraming {
  if (method === 'CONNECT') return { kind: 'tunnel' };
  return byLength(te, cl, { kind: 'none' });
}

/** `method`: of the request this answers, when known. */
export function responseFraming(
  method: string | undefined,
  status: number,
  te: string | undefined,
  cl: string | undefined,
): BodyFraming {
  if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) return { kind: 'tunnel' };
  if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'none' };
  return byLength(te, cl, { kind: 'until-close' });
}

/**
 * Bytes of the whole message (head + body) when its head, `headBytes` long,
 * says; undefined when the body ends otherwise (chunked, at close) or the
 * head was cut. A tunnel's message is its head: what follows is not HTTP.
 */
export function messageBytes(f: BodyFraming, headBytes: number | undefined): number | undefined {
  if (headBytes === undefined) return undefined;
  if (f.kind === 'none' || f.kind === 'tunnel') return headBytes;
  if (f.kind === 'length') return headBytes + f.length;
  return undefined;
}

const LAST_CHUNK = [0x30, 0x0d, 0x0a, 0x0d, 0x0a]; // "0\r\n\r\n"

/** Do these bytes end with the last chunk of a chunked body? */
export function endsWithLastChunk(b: Uint8Array): boolean {
  if (b.length < LAST_CHUNK.length) return false;
  const off = b.length - LAST_CHUNK.length;
  return LAST_CHUNK.every((c, i) => b[off + i] === c);
}
