/**
 * The TLS hello gatherer over hellos captured on this machine over loopback,
 * split at every byte and re-framed into several records, then over forged
 * lengths and a seeded fuzz of the captures.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  HelloResult,
  TlsHelloGatherer,
  cipherName,
  looksLikeTlsHandshake,
  parseHello,
  versionName,
} from '../../src/protocols/tls';

const hex = (lines: string[]) => Buffer.from(lines.join(''), 'hex');

/*
 * Fixtures. A self-signed cert (openssl req -x509 -newkey rsa:2048 -nodes
 * -subj /CN=myhost.test -days 1), OpenSSL 3.0.19, curl 7.88.1. ClientHellos:
 * a Node net.Server on 127.0.0.1 recorded the first bytes a client sent it.
 * ServerHellos: a Node client wrote a recorded ClientHello to
 * `openssl s_server -accept 127.0.0.1:PORT -cert c -key k` and recorded the
 * reply, kept here up to the end of the ServerHello record (plus the bytes
 * noted).
 */

/** curl -sk --resolve myhost.test:PORT:127.0.0.1 https://myhost.test:PORT/ (padded to 512 by the padding extension). */
const CURL_HELLO = hex([
  '1603010200010001fc03036dd34e9cb05846209d6beeb34b1f630ec2ba498cc48dcce81620a5e4815e3f2b20ccd7c2cf',
  '39f8aaa97ba6cb5bbf8f6e7c3a784ad16a56ce8eb8f709f4d7b0b7b1003e130213031301c02cc030009fcca9cca8ccaa',
  'c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175',
  '00000010000e00000b6d79686f73742e74657374000b000403000102000a00160014001d0017001e0019001801000101',
  '0102010301040010000e000c02683208687474702f312e31001600000017000000310000000d002a0028040305030603',
  '080708080809080a080b080408050806040105010601030303010302040205020602002b000908030403030302030100',
  '2d00020101003300260024001d00208fd325810e58aad9b684ded2aeffdecb0c2383a7f3a86d4334e9dfee10dc511200',
  '1500b2000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  '00000000000000000000000000000000000000000000000000000000000000000000000000',
]);

/** openssl s_client -connect 127.0.0.1:PORT -servername other.test -alpn h2,http/1.1 */
const S_CLIENT_HELLO = hex([
  '1603010149010001450303c92c9352d9821fa1de7940e6b3dea6e7fabb0295fc55e1e15b239ed16221b0cc2011f396d1',
  'fcc406881b630e9919aaa6a7c5f3c4555c91bb02fde551e32d078f9d003e130213031301c02cc030009fcca9cca8ccaa',
  'c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000be',
  '0000000f000d00000a6f746865722e74657374000b000403000102000a00160014001d0017001e001900180100010101',
  '0201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a002804030503060308',
  '0708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d',
  '00020101003300260024001d0020fd99bee4fc4186a62741ab029c4a86cde952f7acd156e1cbca0710e66338ad0a',
]);

/** s_server (defaults) answering CURL_HELLO: TLS 1.3 ServerHello, then its ChangeCipherSpec record. */
const TLS13_SERVER_HELLO = hex([
  '160303007a02000076030349d873cc9e4f244ed005600504a46d38a58024cc4ee4d07c15562c20e7e4258120ccd7c2cf',
  '39f8aaa97ba6cb5bbf8f6e7c3a784ad16a56ce8eb8f709f4d7b0b7b1130200002e002b0002030400330024001d002032',
  '2c5780aaf142d80e38779fbfb9e67ca3fe7f1a72908dbab93dcd8eb7ca8d75140303000101',
]);

/** s_server -alpn http/1.1 answering S_CLIENT_HELLO: TLS 1.3, so the ALPN choice is in the encrypted extensions. */
const TLS13_ALPN_SERVER_HELLO = hex([
  '160303007a020000760303b32dc66098d5e2c6cafa89bb9195a066ed56c00be74bc15249ba0c79e4cba2b72011f396d1',
  'fcc406881b630e9919aaa6a7c5f3c4555c91bb02fde551e32d078f9d130200002e002b0002030400330024001d0020ff',
  'bf185a3037209d1bb22e28d01d73ae3959b4d6f0a9027fd3881dbd5331ee7e',
]);

/** s_server -tls1_2 -alpn http/1.1 answering S_CLIENT_HELLO: ServerHello, then the first 10 bytes of the Certificate record. */
const TLS12_SERVER_HELLO = hex([
  '16030300500200004c0303b5f47ee7725ea36e91be6b453ce53c74ac5d8a14aac72e1bb96bd4d3be739c6200c0300000',
  '24ff01000100000b000403000102002300000010000b000908687474702f312e3100170000160303031b0b00031700',
]);

/** s_server -groups P-256 answering CURL_HELLO (key share for x25519 only): HelloRetryRequest, then ChangeCipherSpec. */
const HELLO_RETRY = hex([
  '1603030058020000540303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c20ccd7c2cf',
  '39f8aaa97ba6cb5bbf8f6e7c3a784ad16a56ce8eb8f709f4d7b0b7b1130200000c002b00020304003300020017140303',
  '000101',
]);

const FIXTURES = [
  CURL_HELLO,
  S_CLIENT_HELLO,
  TLS13_SERVER_HELLO,
  TLS13_ALPN_SERVER_HELLO,
  TLS12_SERVER_HELLO,
  HELLO_RETRY,
];
const ERRORS = ['bad length', 'too long', 'not a hello', 'bad record', 'duplicate extension', 'truncated'];

/** The results of pushing the parts in order, then finish(): exactly one result is expected. */
function gather(parts: Uint8Array[], maxBytes?: number): HelloResult {
  const g = new TlsHelloGatherer(maxBytes);
  const results: HelloResult[] = [];
  for (const p of parts) {
    const r = g.push(p);
    if (r) results.push(r);
  }
  const f = g.finish();
  if (f) results.push(f);
  assert.equal(results.length, 1, 'one result');
  return results[0]!;
}

/** Same result whether whole, in two pieces at every split, or one byte at a time. */
function assertSplitInvariant(bytes: Buffer): HelloResult {
  const whole = gather([bytes]);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(gather([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `split at ${cut}`);
  }
  assert.deepEqual(gather([...bytes].map((x) => Uint8Array.of(x))), whole, 'byte at a time');
  return whole;
}

/** How many bytes, pushed one at a time, it takes to get the result. */
function bytesNeeded(bytes: Uint8Array): number {
  const g = new TlsHelloGatherer();
  for (let i = 0; i < bytes.length; i++) if (g.push(bytes.subarray(i, i + 1))) return i + 1;
  return -1;
}

// Building blocks for forged hellos.
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const vec8 = (b: Uint8Array) => Buffer.concat([Buffer.from([b.length]), b]);
const vec16 = (b: Uint8Array) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, data: Uint8Array) => Buffer.concat([u16(type), vec16(data)]);
const sniExt = (host: Uint8Array) => ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(host)])));
const handshake = (type: number, body: Uint8Array) =>
  Buffer.concat([Buffer.from([type, 0, body.length >> 8, body.length & 0xff]), body]);
const record = (fragment: Uint8Array, type = 22) =>
  Buffer.concat([Buffer.from([type, 3, 3]), u16(fragment.length), fragment]);

function clientHelloBody(exts: Buffer[] | undefined, suites = [0x1301, 0xc02f]): Buffer {
  return Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32),
    vec8(Buffer.alloc(0)),
    vec16(Buffer.concat(suites.map(u16))),
    vec8(Buffer.from([0])),
    exts ? vec16(Buffer.concat(exts)) : Buffer.alloc(0),
  ]);
}

const forged = (exts: Buffer[] | undefined, suites?: number[]) => record(handshake(1, clientHelloBody(exts, suites)));

/** The fixture's handshake message (record headers stripped), for one-record fixtures. */
const message = (rec: Buffer) => rec.subarray(5, 5 + rec.readUInt16BE(3));

/** The handshake message re-framed as one record per piece, cut at the offsets given. */
function reframe(msg: Buffer, cuts: number[]): Buffer {
  const at = [0, ...cuts, msg.length];
  return Buffer.concat(at.slice(1).map((end, k) => record(msg.subarray(at[k]!, end))));
}

describe('TLS hellos from real clients and servers', () => {
  it("curl's ClientHello: SNI, ALPN offered, versions, suite count", () => {
    assert.deepEqual(gather([CURL_HELLO]), {
      kind: 'client_hello',
      hello: {
        sni: 'myhost.test',
        alpn: ['h2', 'http/1.1'],
        legacyVersion: 'TLS 1.2',
        versions: ['TLS 1.3', 'TLS 1.2', 'TLS 1.1', 'TLS 1.0'],
        cipherSuites: 31,
      },
    });
  });

  it("openssl s_client's ClientHello with -servername and -alpn", () => {
    assert.deepEqual(parseHello(S_CLIENT_HELLO), {
      kind: 'client_hello',
      hello: {
        sni: 'other.test',
        alpn: ['h2', 'http/1.1'],
        legacyVersion: 'TLS 1.2',
        versions: ['TLS 1.3', 'TLS 1.2', 'TLS 1.1', 'TLS 1.0'],
        cipherSuites: 31,
      },
    });
  });

  it('a TLS 1.3 ServerHello: version from supported_versions, suite name, no ALPN (it is encrypted)', () => {
    const expected = {
      kind: 'server_hello',
      hello: { version: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384', helloRetry: false },
    };
    assert.deepEqual(gather([TLS13_SERVER_HELLO]), expected);
    assert.deepEqual(gather([TLS13_ALPN_SERVER_HELLO]), expected, 'the server chose ALPN, but in EncryptedExtensions');
  });

  it('a TLS 1.2 ServerHello: legacy version, suite name, the ALPN protocol selected', () => {
    assert.deepEqual(gather([TLS12_SERVER_HELLO]), {
      kind: 'server_hello',
      hello: {
        version: 'TLS 1.2',
        cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        alpn: 'http/1.1',
        helloRetry: false,
      },
    });
  });

  it('a HelloRetryRequest is a ServerHello reported as such', () => {
    assert.deepEqual(gather([HELLO_RETRY]), {
      kind: 'server_hello',
      hello: { version: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384', helloRetry: true },
    });
  });

  it('the same result split at every byte, and one byte at a time', () => {
    for (const f of FIXTURES) assertSplitInvariant(f);
  });

  it('a result exactly once, as soon as the hello ends: later pushes and finish() give nothing', () => {
    assert.equal(bytesNeeded(CURL_HELLO), 517);
    assert.equal(bytesNeeded(S_CLIENT_HELLO), 334);
    assert.equal(bytesNeeded(TLS13_SERVER_HELLO), 127, 'the ChangeCipherSpec after it is not needed');
    assert.equal(bytesNeeded(TLS12_SERVER_HELLO), 85);
    const g = new TlsHelloGatherer();
    assert.equal(g.push(CURL_HELLO)?.kind, 'client_hello');
    assert.equal(g.push(CURL_HELLO), undefined);
    assert.equal(g.finish(), undefined);
  });

  it('the same hello re-framed across several records, split anywhere', () => {
    for (const f of [CURL_HELLO, S_CLIENT_HELLO, TLS12_SERVER_HELLO, HELLO_RETRY]) {
      const whole = gather([f]);
      const msg = message(f);
      for (const cuts of [[2], [4], [40], [msg.length - 1], [1, 2, 3, 100]]) {
        assert.deepEqual(assertSplitInvariant(reframe(msg, cuts)), whole, `records cut at ${cuts}`);
      }
      const oneBytePerRecord = reframe(
        msg,
        [...Array(msg.length - 1).keys()].map((k) => k + 1),
      );
      assert.deepEqual(gather([oneBytePerRecord]), whole, 'one byte per record');
    }
  });

  it('names versions and suites, and writes the unknown as 0xNNNN', () => {
    assert.deepEqual([0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f1c].map(versionName), [
      'SSL 3.0',
      'TLS 1.0',
      'TLS 1.1',
      'TLS 1.2',
      'TLS 1.3',
      '0x7f1c',
    ]);
    assert.deepEqual([0x1301, 0xcca8, 0x002f, 0xfefe].map(cipherName), [
      'TLS_AES_128_GCM_SHA256',
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
      'TLS_RSA_WITH_AES_128_CBC_SHA',
      '0xfefe',
    ]);
  });
});

describe('what is not a TLS hello', () => {
  it('looksLikeTlsHandshake: a handshake record header, or the first one or two bytes of one', () => {
    for (const f of FIXTURES) assert.equal(looksLikeTlsHandshake(f), true);
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x16)), true);
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x16, 0x03)), true);
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x16, 0x03, 0x00)), true, 'SSL 3.0 record');
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x16, 0x03, 0x05)), false);
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x16, 0x02)), false);
    assert.equal(looksLikeTlsHandshake(Uint8Array.of(0x15, 0x03, 0x03)), false, 'an alert record');
    assert.equal(looksLikeTlsHandshake(Buffer.from('GET / HTTP/1.1\r\n')), false);
    assert.equal(looksLikeTlsHandshake(new Uint8Array(0)), false);
  });

  it('not_tls at the first byte that rules TLS out', () => {
    assert.deepEqual(gather([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n')]), { kind: 'not_tls' });
    const g = new TlsHelloGatherer();
    assert.equal(g.push(Uint8Array.of(0x16, 0x03)), undefined);
    assert.deepEqual(g.push(Uint8Array.of(0x09)), { kind: 'not_tls' });
    assert.deepEqual(gather([Buffer.from('1503030002022800', 'hex')]), { kind: 'not_tls' }, 'an alert first');
    assert.deepEqual(gather([Buffer.from('8048010301', 'hex')]), { kind: 'not_tls' }, 'an SSL 2 hello');
  });

  it('a handshake message other than a hello first: not a hello', () => {
    assert.deepEqual(gather([record(handshake(11, Buffer.alloc(10)))]), { kind: 'malformed', error: 'not a hello' });
  });

  it('a non-handshake record in the middle of the hello: bad record', () => {
    const msg = message(CURL_HELLO);
    const mixed = Buffer.concat([
      record(msg.subarray(0, 100)),
      record(Uint8Array.of(1), 20),
      record(msg.subarray(100)),
    ]);
    assert.deepEqual(gather([mixed]), { kind: 'malformed', error: 'bad record' });
  });

  it('the stream ends first: truncated from finish(), nothing when no byte came', () => {
    const g = new TlsHelloGatherer();
    assert.equal(g.push(CURL_HELLO.subarray(0, 200)), undefined);
    assert.deepEqual(g.finish(), { kind: 'malformed', error: 'truncated' });
    assert.equal(g.finish(), undefined);
    assert.equal(new TlsHelloGatherer().finish(), undefined);
    assert.deepEqual(parseHello(Uint8Array.of(0x16)), { kind: 'malformed', error: 'truncated' });
  });
});

describe('forged and absurd lengths', () => {
  it('a hello header announcing 16 KiB holds what came, not what it announces', () => {
    const g = new TlsHelloGatherer(16 * 1024);
    assert.equal(g.push(Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xf0, 1, 2])), undefined);
    assert.equal(g.buffered, 2);
  });

  /** The first push that returns, and how many bytes had been pushed by then. */
  function firstResult(g: TlsHelloGatherer, bytes: Uint8Array): [HelloResult | undefined, number] {
    for (let i = 0; i < bytes.length; i++) {
      const r = g.push(bytes.subarray(i, i + 1));
      if (r) return [r, i + 1];
    }
    return [undefined, bytes.length];
  }

  it('handshake length 0xFFFFFF: too long at its header, before any body', () => {
    const g = new TlsHelloGatherer();
    assert.deepEqual(firstResult(g, Buffer.from('16030340000100ffffff', 'hex')), [
      { kind: 'malformed', error: 'too long' },
      9,
    ]);
    assert.equal(g.push(Buffer.alloc(1 << 20)), undefined, 'a megabyte after it is ignored');
  });

  it('record length 0xFFFF or 0: bad length at the record header', () => {
    assert.deepEqual(firstResult(new TlsHelloGatherer(), Buffer.from('160301ffff01', 'hex')), [
      { kind: 'malformed', error: 'bad length' },
      5,
    ]);
    assert.deepEqual(firstResult(new TlsHelloGatherer(), Buffer.from('160301000001', 'hex')), [
      { kind: 'malformed', error: 'bad length' },
      5,
    ]);
  });

  it("a hello over the gatherer's bound: too long", () => {
    assert.deepEqual(gather([CURL_HELLO], 511), { kind: 'malformed', error: 'too long' });
    assert.equal(
      gather([CURL_HELLO], 512).kind,
      'client_hello',
      'the bound is the message, its 4-byte header included (508 + 4)',
    );
  });

  it('an extension past the end of the extensions: bad length', () => {
    const b = Buffer.from(CURL_HELLO);
    const sniExtLength = CURL_HELLO.indexOf(Buffer.from('0000001000', 'hex')) + 2;
    b.writeUInt16BE(0xff00, sniExtLength);
    assert.deepEqual(gather([b]), { kind: 'malformed', error: 'bad length' });
  });

  it('an SNI list longer than its extension: bad length', () => {
    const b = Buffer.from(CURL_HELLO);
    b.writeUInt16BE(0x00ff, CURL_HELLO.indexOf(Buffer.from('000e00000b', 'hex')));
    assert.deepEqual(gather([b]), { kind: 'malformed', error: 'bad length' });
  });

  it('other bounds: session id over 32, no suites, odd suite bytes, host name over 255 or empty, empty ALPN name', () => {
    const badLength = { kind: 'malformed', error: 'bad length' };
    const longSession = Buffer.from(CURL_HELLO);
    longSession[5 + 4 + 2 + 32] = 33;
    assert.deepEqual(gather([longSession]), badLength);
    assert.deepEqual(gather([forged(undefined, [])]), badLength);
    const oddSuites = record(
      handshake(
        1,
        Buffer.concat([
          u16(0x0303),
          Buffer.alloc(32),
          vec8(Buffer.alloc(0)),
          vec16(Buffer.from([0x13])),
          vec8(Buffer.from([0])),
        ]),
      ),
    );
    assert.deepEqual(gather([oddSuites]), badLength);
    assert.deepEqual(gather([forged([sniExt(Buffer.alloc(256, 0x61))])]), badLength);
    assert.equal(gather([forged([sniExt(Buffer.alloc(255, 0x61))])]).kind, 'client_hello');
    assert.deepEqual(gather([forged([sniExt(Buffer.alloc(0))])]), badLength);
    assert.deepEqual(gather([forged([ext(16, vec16(Buffer.from([2, 0x68, 0x32, 0])))])]), badLength);
    assert.deepEqual(gather([record(handshake(1, Buffer.alloc(0)))]), badLength);
    assert.deepEqual(
      gather([forged([Buffer.from([0, 43, 0, 3, 2, 3])])]),
      badLength,
      'extension longer than the block',
    );
  });

  it('the same extension twice: duplicate extension', () => {
    const sni = sniExt(Buffer.from('a.test'));
    assert.deepEqual(gather([forged([sni, sni])]), { kind: 'malformed', error: 'duplicate extension' });
  });

  it('no extensions at all (TLS 1.2 and older may omit them); GREASE values left out', () => {
    assert.deepEqual(gather([forged(undefined)]), {
      kind: 'client_hello',
      hello: { alpn: [], legacyVersion: 'TLS 1.2', versions: [], cipherSuites: 2 },
    });
    const grease = forged(
      [
        ext(43, vec8(Buffer.concat([u16(0x2a2a), u16(0x0304)]))),
        ext(16, vec16(Buffer.concat([vec8(Buffer.from([0x3a, 0x3a])), vec8(Buffer.from('h2'))]))),
      ],
      [0x0a0a, 0x1301],
    );
    assert.deepEqual(gather([grease]), {
      kind: 'client_hello',
      hello: { alpn: ['h2'], legacyVersion: 'TLS 1.2', versions: ['TLS 1.3'], cipherSuites: 1 },
    });
  });

  it('SNI and ALPN as text once: UTF-8 decoded, controls and invalid bytes as \\xNN, the backslash kept', () => {
    const host = Buffer.from([0x61, 0x1b, 0x5b, 0x32, 0x4a, 0x5c, 0xff, 0x00, 0x7f, 0x20, 0xc3, 0xa9, 0xc2, 0x9b]);
    const r = gather([forged([sniExt(host), ext(16, vec16(vec8(Buffer.from('h\n2'))))])]);
    assert.equal(r.kind, 'client_hello');
    if (r.kind !== 'client_hello') return;
    assert.equal(r.hello.sni, 'a\\x1b[2J\\\\xff\\x00\\x7f \u00e9\\xc2\\x9b');
    assert.deepEqual(r.hello.alpn, ['h\\x0a2']);
  });
});

describe('fuzzing the captured hellos', () => {
  /** mulberry32: a small seeded PRNG, so that a failure replays. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('20000 mutations: never throws, one well-formed result at most, in bounded time', () => {
    const rnd = prng(0x7151);
    const int = (n: number) => Math.floor(rnd() * n);
    const started = Date.now();
    const kinds: Record<string, number> = {};
    for (let n = 0; n < 20000; n++) {
      const base = FIXTURES[int(FIXTURES.length)]!;
      let b = Buffer.from(base);
      const edits = 1 + int(4);
      for (let e = 0; e < edits; e++) {
        const at = int(b.length);
        switch (int(5)) {
          case 0: // a random byte
            b[at] = int(256);
            break;
          case 1: // a boundary byte
            b[at] = [0x00, 0xff, 0x01, 0x7f, 0x80][int(5)]!;
            break;
          case 2: // cut short
            b = b.subarray(0, at);
            break;
          case 3: // two bytes inserted
            b = Buffer.concat([b.subarray(0, at), Buffer.from([int(256), int(256)]), b.subarray(at)]);
            break;
          default: // up to 8 bytes deleted
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(8))]);
        }
      }
      const g = new TlsHelloGatherer(int(4) === 0 ? 300 : undefined); // now and then a bound some hellos exceed
      const results: HelloResult[] = [];
      for (let i = 0; i < b.length;) {
        const step = 1 + int(64);
        const r = g.push(b.subarray(i, i + step));
        if (r) results.push(r);
        i += step;
      }
      const f = g.finish();
      if (f) results.push(f);
      assert.ok(results.length <= 1, `mutation ${n}: at most one result`);
      const r = results[0];
      if (!r) {
        assert.equal(b.length, 0, `mutation ${n}: a result whenever bytes came`);
        continue;
      }
      kinds[r.kind === 'malformed' ? r.error : r.kind] = (kinds[r.kind === 'malformed' ? r.error : r.kind] ?? 0) + 1;
      if (r.kind === 'malformed') assert.ok(ERRORS.includes(r.error), r.error);
      if (r.kind === 'client_hello') {
        const controls = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
        assert.ok(r.hello.sni === undefined || !controls.test(r.hello.sni), 'SNI without controls');
        assert.ok(
          r.hello.alpn.every((a) => a !== '' && !controls.test(a)),
          'ALPN without controls',
        );
      }
    }
    assert.ok(Date.now() - started < 15000, 'bounded time');
    assert.ok(
      (kinds['client_hello'] ?? 0) > 0 && (kinds['server_hello'] ?? 0) > 0 && (kinds['bad length'] ?? 0) > 0,
      JSON.stringify(kinds),
    );
  });
});
