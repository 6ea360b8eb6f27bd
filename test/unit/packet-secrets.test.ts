/** Secrets in capture's shown payloads (HTTP lines, -A, -X) are masked byte for byte; -w and checksums keep the real bytes. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LINKTYPE, type Packet } from '../../src/model/packet';
import { PacketText } from '../../src/output/packet-text';
import { maskSecrets } from '../../src/output/redact';
import { ether, icmp, ipv4, tcp } from '../helpers/frames';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const masked = (s: string): string => Buffer.from(maskSecrets(bytes(s), 0, s.length)).toString('latin1');

describe('maskSecrets', () => {
  it('masks credential headers, userinfo and secret-named parameters, nothing else, keeping the length', () => {
    const req =
      'GET http://bob:hunter2@example.test/a?id=7&password=s3cret&token=t0k HTTP/1.1\r\n' +
      'Host: example.test\r\nAuthorization: Basic Ym9iOmh1bnRlcjI=\r\ncookie:sid=abc\r\n' +
      'Referer: http://x.test/?api_key=K1&q=1\r\nUser-Agent: curl\r\n\r\nuser=bob&passwd=pw1';
    const out = masked(req);
    assert.equal(out.length, req.length);
    for (const secret of ['hunter2', 's3cret', 't0k', 'Ym9iOmh1bnRlcjI=', 'sid=abc', 'K1', 'pw1'])
      assert.ok(!out.includes(secret), `${secret} shown in ${JSON.stringify(out)}`);
    assert.match(out, /^GET http:\/\/\*{11}@example\.test\/a\?id=7&password=\*{6}&token=\*{3} HTTP\/1\.1\r\n/);
    assert.match(out, /\r\nAuthorization: \*{22}\r\ncookie:\*{7}\r\n/);
    assert.match(out, /Host: example\.test\r\n/);
    assert.match(out, /User-Agent: curl\r\n/);
    assert.match(out, /user=bob&passwd=\*{3}$/);
  });

  it("finds a secret inside another parameter's value, and masks a secret's value to its end, ? included", () => {
    assert.equal(
      masked('GET /cb?next=/a?token=abc&redirect_uri=https://x/cb?access_token=T0K HTTP/1.1'),
      'GET /cb?next=/a?token=***&redirect_uri=https://x/cb?access_token=*** HTTP/1.1',
    );
    assert.equal(masked('password=a?b=c&d=1'), 'password=*****&d=1');
    const chain = 'x?password='.repeat(30_000);
    const t0 = performance.now();
    masked(chain);
    assert.ok(performance.now() - t0 < 2000, 'nested secrets stay linear');
  });

  it('returns the same array when nothing is secret, and masks only inside [from, to)', () => {
    const b = bytes('GET /index.html?q=1 HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(maskSecrets(b, 0, b.length), b);
    const c = bytes('Cookie: a\r\nCookie: b\r\n');
    const m = maskSecrets(c, 11, c.length);
    assert.equal(Buffer.from(m).toString('latin1'), 'Cookie: a\r\nCookie: *\r\n');
    assert.equal(Buffer.from(c).toString('latin1'), 'Cookie: a\r\nCookie: b\r\n', 'the input is not changed');
  });

  it('stays linear on hostile payloads', () => {
    const big = bytes('a'.repeat(200_000) + '=' + '&x'.repeat(30_000) + 'Cookie:' + ' '.repeat(20_000));
    const t0 = performance.now();
    maskSecrets(big, 0, big.length);
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('capture lines with secrets', () => {
  const payload = 'GET /login?password=s3cret HTTP/1.1\r\nAuthorization: Bearer abc.def\r\n\r\n';
  const frame = ether(
    0x0800,
    ipv4([127, 0, 0, 1], [127, 0, 0, 1], 6, tcp(40000, 80, 0x18, [...Buffer.from(payload)], { ack: 1 })),
  );
  const pkt: Packet = {
    sec: 1,
    nsec: 0,
    iface: 0,
    linkType: LINKTYPE.ETHERNET,
    data: new Uint8Array(frame),
    wireLen: frame.length,
    direction: 'unknown',
  };
  const views = { line: {}, verbose: { verbose: true }, ascii: { ascii: true }, hex: { hex: true } };
  for (const [name, o] of Object.entries(views)) {
    it(`${name}: masked by default, as they are with redact false`, () => {
      const shown = new PacketText({ time: 'none', ...o }).format(pkt);
      const raw = new PacketText({ time: 'none', redact: false, ...o }).format(pkt);
      const secret = name === 'hex' ? /7333 6372 6574|s3cret/ : /s3cret/;
      assert.doesNotMatch(shown, secret);
      assert.doesNotMatch(shown, /abc\.def/);
      assert.match(raw, secret);
      if (name === 'verbose' || name === 'ascii') assert.match(raw, /abc\.def/);
      assert.equal(shown.length, raw.length, 'byte for byte');
    });
  }

  it('-v -X on an ICMP error quoting an HTTP packet dumps the outer packet, the quote masked inside it', () => {
    const inner = ipv4([127, 0, 0, 1], [127, 0, 0, 1], 6, tcp(40000, 80, 0x18, [...Buffer.from(payload)], { ack: 1 }));
    const outer = ether(0x0800, ipv4([127, 0, 0, 1], [127, 0, 0, 1], 1, icmp(3, 3, [0, 0, 0, 0, ...inner])));
    const q: Packet = { ...pkt, data: new Uint8Array(outer), wireLen: outer.length };
    const shown = new PacketText({ time: 'none', verbose: true, hex: true }).format(q);
    const raw = new PacketText({ time: 'none', verbose: true, hex: true, redact: false }).format(q);
    const dump = (t: string) => t.split('\n').filter((l) => /^\t0x[0-9a-f]{4}:/.test(l));
    assert.equal(dump(shown).length, dump(raw).length, 'the whole outer packet');
    assert.match(dump(shown)[0]!, /^\t0x0000: {2}4500 /, 'from the outer IP header');
    assert.equal(dump(shown)[0], dump(raw)[0], 'the outer headers as they are');
    assert.doesNotMatch(shown, /s3cret/);
    assert.match(raw, /s3cret/);
  });

  it('the packet itself is not changed (files keep every byte)', () => {
    new PacketText({ time: 'none', ascii: true }).format(pkt);
    assert.deepEqual(Buffer.from(pkt.data), frame);
  });
});
