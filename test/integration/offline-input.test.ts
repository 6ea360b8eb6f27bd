/**
 * `-r` as a process, on hand-built captures (no kernel, no root): input that
 * is not a capture is one error line and its remedy with nothing on stdout;
 * a file cut short keeps its records and says the packet count once; -c N
 * makes the summary count the N records printed; SIGINT or SIGTERM while
 * reading a pipe or a FIFO that stays open stops cleanly: what the
 * analyzers hold is reported as at the end of a file, then the summary,
 * exit 0 (as live commands).
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, start, Spawned, stop, waitFor } from '../helpers/proc';
import { CLI, FIXTURES } from '../helpers/paths';
import { ether, ipv4, tcp } from '../helpers/frames';
import { pcapFile } from '../helpers/capture-build';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

/** One TCP connection on the wire (Ethernet, IPv4), its packets as pcap records µs apart. */
class Conn {
  readonly recs: { sec: number; frac: number; data: Buffer }[] = [];
  private seq = { c: 1000, s: 5000 };
  private us = 0;
  constructor(
    private readonly cport: number,
    private readonly sec = 1_700_000_000,
  ) {
    this.send('c', SYN, '');
    this.send('s', SYN | ACK, '');
    this.send('c', ACK, '');
  }
  send(from: 'c' | 's', flags: number, text: string, gapUs = 1000): this {
    const to = from === 'c' ? 's' : 'c';
    const data = [...Buffer.from(text, 'latin1')];
    const [src, dst, sport, dport] =
      from === 'c' ? [[10, 0, 0, 1], [10, 0, 0, 2], this.cport, 80] : [[10, 0, 0, 2], [10, 0, 0, 1], 80, this.cport];
    const ack = flags & ACK ? this.seq[to] : 0;
    const seg = tcp(sport!, dport!, flags, data, { seq: this.seq[from], ack });
    this.seq[from] += data.length + (flags & SYN ? 1 : 0);
    this.us += gapUs;
    this.recs.push({
      sec: this.sec + Math.floor(this.us / 1e6),
      frac: this.us % 1e6,
      data: ether(0x0800, ipv4(src as number[], dst as number[], 6, seg)),
    });
    return this;
  }
  request(url: string): this {
    return this.send('c', PSH | ACK, `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
  }
  response(): this {
    return this.send('s', PSH | ACK, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  }
}

/** Two answered exchanges (/a, /b) and a request still waiting (/c), all within the reorder window's second. */
function httpCapture(): Buffer {
  const c = new Conn(40000).request('/a').response().request('/b').response().request('/c');
  return pcapFile(false, false, 1, c.recs);
}

const wl = (args: string[], input?: Buffer) =>
  input === undefined
    ? run(process.execPath, [CLI, ...args], 30_000)
    : new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = start(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        p.child.stdin!.on('error', () => undefined);
        p.child.stdin!.end(input);
        void p.exited.then((code) => resolve({ code, stdout: p.stdout(), stderr: p.stderr() }));
      });

/** stderr with the line that says why the reading ended made the same. */
const sameEnd = (stderr: string): string =>
  stderr
    .replace(/^wirelens: (end of file|stopped \(\w+\)): /m, 'wirelens: END: ')
    .replace(/no process information in .* \(/, 'no process information in INPUT (');

describe('-r input', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-offline-input-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, b: Buffer | string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, b);
    return f;
  };

  it('input that is not a capture (text, empty, a directory, garbage on stdin): one error and its remedy, nothing on stdout, exit 2', async () => {
    const text = file('notpcap.txt', 'hello\n');
    const empty = file('empty', '');
    const cases: [string, string, Buffer | undefined, RegExp][] = [
      [text, 'notpcap', undefined, /not a pcap or pcapng file \(it starts with 0x68656c6c\)/],
      [empty, 'empty', undefined, /empty file/],
      [dir, 'directory', undefined, /cannot read it \(EISDIR\)/],
      ['-', 'garbage', Buffer.from('garbage\n'), /-r standard input: not a pcap or pcapng file/],
      ['-', 'nothing', Buffer.alloc(0), /-r standard input: empty file/],
    ];
    for (const cmd of ['http', 'dns', 'tls', 'tcp']) {
      for (const [f, what, input, re] of cases) {
        const r = await wl([cmd, '-r', f], input);
        const where = `${cmd} -r ${what}: ${r.stderr}`;
        assert.equal(r.code, 2, where);
        assert.equal(r.stdout, '', `nothing on stdout: ${where}`);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 2, where);
        assert.match(lines[0]!, /^wirelens: error: -r /, where);
        assert.match(lines[0]!, re, where);
        assert.doesNotMatch(lines[0]!, /after 0 packets/, where);
        assert.equal(lines[1], 'wirelens: remedy: give a pcap or pcapng file (tcpdump -w, wirelens capture -w)', where);
      }
    }
    // capture -r reads through the same reader: the same error and remedy.
    const c = await wl(['capture', '-r', text]);
    assert.equal(c.code, 2, c.stderr);
    assert.equal(c.stdout, '');
    assert.match(
      c.stderr,
      /^wirelens: error: -r .*notpcap\.txt: not a pcap or pcapng file .*\nwirelens: remedy: give a pcap/,
    );
  });

  it('a file cut short: its records, then the error with the packet count once; cut before its first packet: the error alone', async () => {
    const whole = httpCapture();
    const cut = file('cut.pcap', whole.subarray(0, whole.length - 10));
    const r = await wl(['http', '-r', cut, '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 4, 'two exchanges from both ends');
    assert.match(
      r.stderr,
      /\nwirelens: error: -r .*cut\.pcap: truncated: last record cut after \d+ of \d+ bytes \(7 packets read before it\)\nwirelens: remedy: the records above are from the packets before that point; copy the capture again whole/,
    );
    assert.doesNotMatch(r.stderr, /\(after \d+ packets\)/);
    const head = file('head.pcap', whole.subarray(0, 24 + 10));
    const h = await wl(['dns', '-r', head]);
    assert.equal(h.code, 2, h.stderr);
    assert.equal(h.stdout, '');
    assert.equal(
      h.stderr,
      'wirelens: error: -r ' +
        head +
        ': truncated: last record cut after 10 bytes (0 packets read before it)\n' +
        'wirelens: remedy: copy the capture again whole, or let the capturing tool finish writing it\n',
    );
  });

  it('-c N: the summary and its endpoint table count the N records printed', async () => {
    const f = file('two.pcap', httpCapture());
    const all = await wl(['http', '-r', f]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /wirelens: http: 4 exchanges,/);
    const one = await wl(['http', '-r', f, '-c', '1']);
    assert.equal(one.code, 0, one.stderr);
    const lines = one.stdout.trim().split('\n');
    assert.equal(lines.length, 2, `a header and one record: ${one.stdout}`);
    assert.match(one.stderr, /stopped \(1 records\): 1 records/);
    assert.match(one.stderr, /wirelens: http: 1 exchanges,/);
    const rows = one.stderr.split('\n').filter((l) => /^wirelens: (cli|srv) /.test(l));
    assert.equal(rows.length, 1, `one table row, the record's: ${one.stderr}`);
    assert.match(rows[0]!, /^wirelens: (cli|srv) +1 +1 .* GET \/a$/);
    assert.ok(lines[1]!.includes(rows[0]!.includes('cli') ? 'cli' : 'srv'), 'the row is the printed record');

    const dns = await wl(['dns', '-r', path.join(FIXTURES, 'dns-dnsmasq.pcap'), '-c', '1']);
    assert.equal(dns.code, 0, dns.stderr);
    assert.match(dns.stderr, /wirelens: dns: 1 transactions:/);
  });

  const signalCases: [NodeJS.Signals, 'stdin' | 'fifo'][] = [
    ['SIGINT', 'stdin'],
    ['SIGTERM', 'fifo'],
  ];
  for (const [sig, via] of signalCases) {
    it(`${sig} while reading ${via === 'stdin' ? 'a pipe (-r -)' : 'a FIFO'} that stays open: the records held, reported as at the end of the file, the summary, exit 0`, async () => {
      const cap = httpCapture();
      const f = file(`sig-${via}.pcap`, cap);
      const atEnd = await wl(['http', '-r', f]);
      assert.equal(atEnd.code, 0, atEnd.stderr);
      assert.equal(atEnd.stdout.trim().split('\n').length, 5, `a header and four records: ${atEnd.stdout}`);
      // The capture, then half of a next record: the writer is still writing when the signal comes.
      const half = pcapFile(false, false, 1, new Conn(40001).recs).subarray(24, 24 + 30);
      let p: Spawned;
      let writer: number | undefined;
      if (via === 'stdin') {
        p = start(process.execPath, [CLI, 'http', '-r', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
        p.child.stdin!.on('error', () => undefined);
        p.child.stdin!.write(Buffer.concat([cap, half]));
      } else {
        const fifo = path.join(dir, 'fifo');
        assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
        p = start(process.execPath, [CLI, 'http', '-r', fifo]);
        writer = await new Promise<number>((resolve, reject) =>
          fs.open(fifo, 'w', (e, fd) => (e ? reject(e) : resolve(fd))),
        );
        fs.writeSync(writer, Buffer.concat([cap, half]));
      }
      try {
        // The header comes with the first packet: the capture has been read.
        await waitFor(p.stdout, /REQUEST\n/, 10_000, 'the header');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(p.stdout().trim().split('\n').length, 1, 'the records wait in the reorder window');
        const code = await stop(p, sig);
        assert.equal(code, 0, `exit status: ${p.stderr()}`);
        assert.equal(p.stdout(), atEnd.stdout, 'the records of the whole file');
        assert.match(p.stderr(), new RegExp(`\\nwirelens: stopped \\(${sig}\\): 4 records, 8 packets read\\n`));
        assert.doesNotMatch(p.stderr(), /truncated|error/, 'half a record at a stop is not an error');
        assert.equal(sameEnd(p.stderr()), sameEnd(atEnd.stderr));
        assert.match(p.stderr(), /[1-9] exchanges still open at the end/);
      } finally {
        if (writer !== undefined) fs.closeSync(writer);
        p.child.stdin?.destroy();
        await stop(p, 'SIGKILL');
      }
    });
  }
  it('capture -r: secrets masked in the HTTP line, -v, -A and -X, shown with --no-redact, byte for byte', async () => {
    const c = new Conn(40002).request('/login?user=bob&password=s3cret').response();
    const f = file('secrets.pcap', pcapFile(false, false, 1, c.recs));
    for (const flags of [[], ['-v'], ['-A'], ['-X']]) {
      const what = flags.join(' ') || 'lines';
      const masked = await wl(['capture', '-r', f, ...flags]);
      const raw = await wl(['capture', '-r', f, '--no-redact', ...flags]);
      assert.equal(masked.code, 0, masked.stderr);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(masked.stdout.length, raw.stdout.length, `${what}: byte for byte`);
      if (flags[0] === '-X') {
        // Hex: "s3cret" is 73 33 63 72 65 74 wherever the rows cut it; masked, six 2a.
        const hex = (t: string) => t.replace(/^.*?:((?: [0-9a-f]{2,4})+).*$/gm, '$1').replace(/\s+/g, '');
        assert.match(hex(raw.stdout), /733363726574/, what);
        assert.doesNotMatch(hex(masked.stdout), /733363726574/, what);
        assert.match(hex(masked.stdout), /3d2a2a2a2a2a2a/, `${what}: "=******"`);
      } else {
        assert.match(raw.stdout, /password=s3cret/, what);
        assert.doesNotMatch(masked.stdout, /s3cret/, what);
        assert.match(masked.stdout, /password=\*{6}/, what);
      }
    }
  });

  it('capture -r - on SIGINT while a pipe stays open: what was read is written, exit 0', async () => {
    const cap = httpCapture();
    const whole = await wl(['capture', '-r', file('cap-whole.pcap', cap)]);
    assert.equal(whole.code, 0, whole.stderr);
    const p = start(process.execPath, [CLI, 'capture', '-r', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.child.stdin!.on('error', () => undefined);
    p.child.stdin!.write(cap);
    try {
      await waitFor(p.stderr, /reading from file -/, 10_000, 'the first packet');
      await new Promise((r) => setTimeout(r, 300));
      const code = await stop(p, 'SIGINT');
      assert.equal(code, 0, `exit status: ${p.stderr()}`);
      assert.equal(p.stdout(), whole.stdout, 'the lines of every packet read');
      assert.match(p.stderr(), /\nwirelens: stopped \(SIGINT\)\n/);
      assert.doesNotMatch(p.stderr(), /error/);
    } finally {
      p.child.stdin?.destroy();
      await stop(p, 'SIGKILL');
    }
  });
});
