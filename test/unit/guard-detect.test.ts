/**
 * The guard detectors on synthetic counter series (cumulative, as the kernel
 * keeps them, one sample a second): each alert kind starts when it should,
 * names its target and source, carries its evidence, updates and ends on the
 * data's clock; normal heavy load raises nothing.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { GuardEngine } from '../../src/analysis/detect/engine';
import { parseArgs } from '../../src/cli/args';
import { GUARD_FLAGS } from '../../src/cli/guard';
import { UsageError } from '../../src/errors';
import { AlertEvent } from '../../src/analysis/detect/alerts';
import { DEFAULT_THRESHOLDS, Thresholds } from '../../src/analysis/detect/thresholds';
import { hllEstimate, linearCount } from '../../src/analysis/detect/sketch-math';
import { OWN_NETNS, SCAN_SEED, Timeline, portBits, registersFor, scanBit } from '../helpers/guard-samples';

function engine(t: Partial<Thresholds> = {}): GuardEngine {
  return new GuardEngine({ ...DEFAULT_THRESHOLDS, ...t }, 60, 'test');
}

/** Runs `seconds` one-second steps, calling `each(i)` to add that second's traffic before its sample. */
function run(e: GuardEngine, tl: Timeline, seconds: number, each: (i: number) => void): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (let i = 0; i < seconds; i++) {
    each(i);
    out.push(...e.step(tl.sample()));
  }
  return out;
}

const starts = (ev: AlertEvent[], kind?: string) =>
  ev.filter((e) => e.event === 'start' && (!kind || e.alert.kind === kind));

describe('sketch estimates', () => {
  it('HyperLogLog over 1024 registers: within 10% from 10 to 1e6 sources, 0 for none', () => {
    assert.equal(hllEstimate(new Uint8Array(1024)), 0);
    for (const n of [10, 100, 1000, 20000, 1000000]) {
      const est = hllEstimate(registersFor(n));
      assert.ok(Math.abs(est - n) <= Math.max(1, 0.1 * n), `${n} sources estimated as ${est}`);
    }
  });

  it('linear counting of hashed ports: within 3 standard errors of the exact count, for ranges and random sets', () => {
    // One standard error of linear counting over m bits at n items (Whang et al. 1990).
    const m = 4096;
    const se = (n: number): number => Math.sqrt(m * (Math.exp(n / m) - n / m - 1));
    let rnd = 12345;
    const next = (): number => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0);
    for (const seed of [SCAN_SEED, 1, 0xdeadbeef, 0x9e3779b9]) {
      const sets: [string, number[]][] = [];
      for (const n of [15, 100, 1000, 4000, 8192]) {
        sets.push([`1..${n}`, [...Array(n).keys()].map((i) => i + 1)]);
        const r = new Set<number>();
        while (r.size < n) r.add(next() % 65536);
        sets.push([`${n} random`, [...r]]);
      }
      // Ports 1024 apart: with ports mapped to bits by number they all shared one bit.
      sets.push(['k*1024+7', [...Array(40).keys()].map((k) => (k + 1) * 1024 + 7)]);
      for (const [name, ports] of sets) {
        const est = linearCount(portBits(ports, seed));
        const tol = Math.max(1, 3 * se(ports.length));
        assert.ok(Math.abs(est - ports.length) <= tol, `${name} (seed ${seed}): ${est} for ${ports.length}, ±${tol}`);
      }
    }
    // A few ports are exact while no two share a bit (with 15, a 2.5% chance they do: then 14).
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const ports = [...Array(15).keys()].map((i) => 1000 + i * 7);
      const distinctBits = new Set(ports.map((p) => scanBit(p, seed))).size;
      assert.equal(linearCount(portBits(ports, seed)), distinctBits);
    }
    assert.equal(linearCount(new Uint32Array(128)), 0);
  });
});

describe('--scan-ports', () => {
  it('takes up to what the scan bitmaps count (8192), with the range in a one-line error', () => {
    assert.equal(parseArgs(['--scan-ports', '8192'], GUARD_FLAGS).flags['scan-ports'], 8192);
    assert.throws(
      () => parseArgs(['--scan-ports', '8193'], GUARD_FLAGS),
      (e: Error) => e instanceof UsageError && /from 2 to 8192/.test(e.message) && !e.message.includes('\n'),
    );
  });
});

describe('SYN flood', () => {
  it('spoofed SYNs with syncookies: starts in the first interval, names the port, ends after the quiet period', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 10, () => {
      tl.port('tcp', 80, { pkts: 20000, syn: 20000, synack: 20000 });
      tl.counter('TcpExtTCPReqQFullDoCookies', 19000).counter('TcpExtSyncookiesSent', 19000);
      tl.sourcesSeen(20000, 20000);
    });
    const s = starts(ev);
    assert.equal(s.length, 1, JSON.stringify(s.map((x) => x.alert.kind)));
    const a = s[0]!.alert;
    assert.equal(a.kind, 'syn_flood');
    assert.equal(s[0]!.tNs, 1e12 + 1e9, 'the first interval');
    assert.deepEqual(a.target, { address: '10.0.0.2', port: 80, protocol: 'tcp', netns: OWN_NETNS });
    assert.equal(a.severity, 'medium', 'cookies answer: no client turned away');
    assert.ok(a.evidence.some((x) => x.counter === 'TcpExtSyncookiesSent' && x.delta === 19000));
    assert.ok(a.source.distinct! > 15000, `distinct ${a.source.distinct}`);
    assert.equal(a.figures.syn_per_s, 20000);
    const quiet = run(e, tl, 12, () => tl.port('tcp', 80, { pkts: 10, syn: 1, est: 1 }));
    const end = quiet.filter((x) => x.event === 'end');
    assert.equal(end.length, 1);
    assert.equal(end[0]!.alert.id, a.id);
    assert.equal(end[0]!.tNs - end[0]!.alert.lastSeenNs, 10e9);
    assert.ok(end[0]!.alert.evidence.find((x) => x.counter === 'TcpExtSyncookiesSent')!.delta >= 19000 * 10);
  });

  it('requests dropped make it high; a rate alone needs two intervals', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 3, () => tl.port('tcp', 443, { pkts: 5000, syn: 5000 }));
    assert.deepEqual(
      ev.map((x) => [x.event, x.tNs - 1e12]),
      [['start', 2e9]],
    );
    const e2 = engine();
    const t2 = new Timeline();
    e2.step(t2.sample());
    const ev2 = run(e2, t2, 1, () => {
      t2.port('tcp', 443, { pkts: 500, syn: 500 });
      t2.counter('TcpExtListenDrops', 300).counter('TcpExtTCPReqQFullDrop', 300);
    });
    assert.equal(starts(ev2)[0]?.alert.severity, 'high');
  });

  it('a raised --syn-evidence-rate leaves the rate rule to --syn-rate (each rule has its own rate)', () => {
    // 2,240 SYN/s with cookies sent, none completing: over --syn-rate (1000), under --syn-evidence-rate (5000).
    const e = engine({ synEvidenceRate: 5000 });
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 3, () => {
      tl.port('tcp', 80, { pkts: 2240, syn: 2240, synack: 2240 });
      tl.counter('TcpExtTCPReqQFullDoCookies', 2200).counter('TcpExtSyncookiesSent', 2200);
    });
    const s = starts(ev, 'syn_flood');
    assert.equal(s.length, 1, 'the rate rule still holds');
    assert.equal(s[0]!.tNs, 1e12 + 2e9, 'a rate alone needs two intervals');
    // Under both rates nothing is said, whatever the kernel reports.
    const e2 = engine({ synRate: 5000, synEvidenceRate: 5000 });
    const t2 = new Timeline();
    e2.step(t2.sample());
    const quiet = run(e2, t2, 3, () => {
      t2.port('tcp', 80, { pkts: 2240, syn: 2240, synack: 2240 });
      t2.counter('TcpExtSyncookiesSent', 2200);
    });
    assert.deepEqual(quiet, []);
  });

  it("another namespace listening on the same port (containers on :80) does not take the alert's namespace", () => {
    const other = OWN_NETNS + 7;
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 2, () => {
      tl.port('tcp', 80, { pkts: 5000, syn: 5000, synack: 5000 });
      tl.counter('TcpExtSyncookiesSent', 4900);
      tl.queue(80, 10, 0, 511);
      // A flood elsewhere on the host: its SYN-ACK retransmits are seen by the host-wide hooks.
      const l = tl.listen.get(`${other}/80`) ?? { netns: other, port: 80, est: 0, synackRetrans: 0, rstSent: 0 };
      l.synackRetrans += 300;
      tl.listen.set(`${other}/80`, l);
    });
    const a = starts(ev, 'syn_flood')[0]!.alert;
    assert.equal(a.target.netns, OWN_NETNS);
    assert.ok(!a.evidence.some((x) => x.counter === 'synack_retransmits'), JSON.stringify(a.evidence));
  });

  it("a scanner's refused SYNs to other ports do not make it a listener's top source", () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 2, () => {
      tl.port('tcp', 80, { pkts: 800, syn: 800, synack: 800 });
      tl.counter('TcpExtSyncookiesSent', 790);
      tl.source('10.0.0.9', { pkts: 101, syn: 101, rstOut: 100 }); // one SYN to :80, 100 refused elsewhere
      tl.source('10.0.0.7', { pkts: 150, syn: 150, synack: 150 }); // a real part of the flood
    });
    const a = starts(ev, 'syn_flood')[0]!.alert;
    assert.deepEqual(
      a.source.top.map((x) => [x.address, x.pps]),
      [
        ['10.0.0.7', 150],
        ['10.0.0.9', 1],
      ],
    );
  });

  it('half-open connections at 90% of the backlog while SYNs arrive: at once, with the queues as figures', () => {
    // No kernel counter moves (the queue is not full yet) and the rate is under --syn-rate: only the queue says it.
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const quiet = run(e, tl, 2, () => {
      tl.port('tcp', 8080, { pkts: 300, syn: 300, synack: 300 });
      tl.queue(8080, 100, 0, 128); // 78%: below the share
    });
    assert.deepEqual(quiet, []);
    const ev = run(e, tl, 1, () => {
      tl.port('tcp', 8080, { pkts: 300, syn: 300, synack: 300 });
      tl.queue(8080, 116, 0, 128); // 90.6%
    });
    const s = starts(ev, 'syn_flood');
    assert.equal(s.length, 1, JSON.stringify(ev.map((x) => x.alert.kind)));
    const a = s[0]!.alert;
    assert.deepEqual(a.target, { address: '10.0.0.2', port: 8080, protocol: 'tcp', netns: OWN_NETNS });
    assert.deepEqual([a.figures.half_open, a.figures.accept_queue, a.figures.backlog], [116, 0, 128]);
    assert.equal(a.severity, 'medium', 'nothing turned away yet');
    assert.equal(a.thresholds.syn_queue_share, 0.9);
  });

  it('a full SYN queue under --syn-evidence-rate SYN/s, or on another port, raises nothing', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 5, () => {
      tl.port('tcp', 8080, { pkts: 50, syn: 50, synack: 50 }); // 50/s, under 100
      tl.port('tcp', 80, { pkts: 3000, syn: 500, est: 500, synack: 500 }); // busy, completing
      tl.queue(8080, 8, 0, 8).queue(80, 3, 0, 511);
    });
    assert.deepEqual(ev, []);
  });

  it('the accept queue past its limit makes it high, in the listener namespace the queues were read in', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 1, () => {
      tl.port('tcp', 9000, { pkts: 400, syn: 400, synack: 400, est: 390 });
      tl.queue(9000, 2, 9, 8, 4026532999);
    });
    const a = starts(ev, 'syn_flood')[0]?.alert;
    assert.ok(a, JSON.stringify(ev));
    assert.equal(a.severity, 'high');
    assert.equal(a.target.netns, 4026532999);
    assert.deepEqual([a.figures.half_open, a.figures.accept_queue, a.figures.backlog], [2, 9, 8]);
  });

  it('many connections that complete (a busy server) raise nothing', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 20, () => {
      tl.port('tcp', 80, { pkts: 60000, syn: 8000, est: 8000, synack: 8000 });
      tl.source('10.0.0.1', { pkts: 60000, syn: 8000, est: 8000, synack: 8000 });
      tl.sourcesSeen(1, 1);
    });
    assert.deepEqual(ev, []);
  });
});

describe('flood from one source', () => {
  it('SYNs from one address over the threshold for 3 s: source_flood naming it, not syn_flood', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 5, () => {
      tl.port('tcp', 80, { pkts: 3000, syn: 3000, synack: 3000 });
      tl.source('10.0.0.66', { pkts: 3000, syn: 3000, synack: 3000, rstIn: 3000 });
      tl.sourcesSeen(1, 1);
    });
    const s = starts(ev);
    assert.equal(s.length, 1, JSON.stringify(s.map((x) => x.alert.kind)));
    assert.equal(s[0]!.alert.kind, 'source_flood');
    assert.equal(s[0]!.alert.traffic, 'syn');
    assert.equal(s[0]!.alert.source.address, '10.0.0.66');
    assert.equal(s[0]!.alert.target.port, 80);
    assert.equal(s[0]!.tNs - 1e12, 3e9, 'after sustain_s intervals');
  });

  it('SYNs refused at one closed port over --source-syn: source_flood(syn) at that port; refused at many ports: a scan', () => {
    const e = engine({ sourceSyn: 200 });
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 8, (i) => {
      tl.port('tcp', 81, { pkts: 900, syn: 900, rstOut: 900 });
      tl.source('10.0.0.70', { pkts: 900, syn: 900, rstOut: 900 }).scan('10.0.0.70', [81]);
      // Another source, as fast, refused at 20 new ports a second: a scan, not a flood.
      tl.port('tcp', 2000 + i, { pkts: 900, syn: 900, rstOut: 900 });
      tl.source('10.0.0.71', { pkts: 900, syn: 900, rstOut: 900 });
      tl.scan(
        '10.0.0.71',
        [...Array(20).keys()].map((k) => 3000 + i * 20 + k),
      );
    });
    assert.deepEqual(
      starts(ev).map((x) => `${x.alert.kind}:${x.alert.traffic}:${x.alert.source.address}:${x.alert.target.port}`),
      ['port_scan:refusals:10.0.0.71:null', 'source_flood:syn:10.0.0.70:81'],
    );
    const a = starts(ev, 'source_flood')[0]!.alert;
    assert.equal(a.figures.refused_per_s, 900);
  });

  it('ICMP and UDP from one source, and a heavy keep-alive client under every threshold', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 4, () => {
      tl.proto('icmp', { pkts: 4000, icmp: 4000 });
      tl.source('10.0.0.7', { pkts: 4000, icmp: 4000 });
      tl.port('udp', 9999, { pkts: 30000, udp: 30000 });
      tl.source('10.0.0.8', { pkts: 30000, udp: 30000 });
      tl.port('tcp', 80, { pkts: 80000, syn: 10, est: 10 });
      tl.source('10.0.0.9', { pkts: 80000, syn: 10, est: 10 });
    });
    assert.deepEqual(
      starts(ev)
        .map((x) => `${x.alert.kind}:${x.alert.traffic}:${x.alert.source.address}`)
        .sort(),
      ['source_flood:icmp:10.0.0.7', 'source_flood:udp:10.0.0.8'],
    );
  });
});

describe('port scan', () => {
  it('15 refused ports within the window make one alert naming the source; a repeat is suppressed', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    let ev = run(e, tl, 5, (i) => tl.scan('10.0.0.99', [i * 3 + 1, i * 3 + 2, i * 3 + 3]));
    const s = starts(ev);
    assert.equal(s.length, 1);
    assert.equal(s[0]!.alert.kind, 'port_scan');
    assert.equal(s[0]!.alert.source.address, '10.0.0.99');
    assert.equal(s[0]!.alert.figures.ports, 15);
    assert.equal(s[0]!.tNs - 1e12, 5e9);
    ev = run(e, tl, 40, () => undefined);
    assert.equal(ev.filter((x) => x.event === 'end').length, 1);
    tl.bucket += 10; // later buckets: a fresh window
    ev = run(e, tl, 10, (i) => tl.scan('10.0.0.99', [2000 + i * 2, 2001 + i * 2]));
    assert.equal(starts(ev).length, 0, 'suppressed for suppress_s');
    assert.ok(e.suppressed > 0);
  });

  it('40 ports 1024 apart (one bit each were ports mapped by number) make a scan of ~40 ports', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 1, () =>
      tl.scan(
        '10.0.0.98',
        [...Array(40).keys()].map((k) => (k + 1) * 1024 + 7),
      ),
    );
    const s = starts(ev, 'port_scan');
    assert.equal(s.length, 1, JSON.stringify(ev));
    assert.ok(Math.abs(s[0]!.alert.figures.ports! - 40) <= 2, `ports ${s[0]!.alert.figures.ports}`);
  });

  it('a scan going over ports already counted lasts while the source is refused, past the bucket, then ends', () => {
    const e = engine({ scanQuietS: 5 });
    const tl = new Timeline();
    e.step(tl.sample());
    const ports = [...Array(100).keys()].map((i) => 1 + i);
    // The same 100 closed ports every second for 90 s (a bucket turns at 60 s): refused each time.
    const ev = run(e, tl, 90, (i) => {
      tl.bucket = Math.floor(i / 60);
      tl.scan('10.0.0.50', ports).source('10.0.0.50', { pkts: 100, syn: 100, rstOut: 100 });
    });
    assert.deepEqual(
      ev.map((x) => x.event),
      ['start', 'update', 'update'],
      'no end while it goes on',
    );
    const quiet = run(e, tl, 8, () => undefined);
    const end = quiet.filter((x) => x.event === 'end');
    assert.equal(end.length, 1);
    assert.equal((end[0]!.tNs - end[0]!.alert.lastSeenNs) / 1e9, 5);
    assert.equal(end[0]!.alert.lastSeenNs, tl.tNs - 9e9, 'last seen at the last second it was refused');
  });

  it('SYNs nothing answers keep it going too; a source neither refused nor unanswered lets it end', () => {
    const e = engine({ scanQuietS: 5 });
    const tl = new Timeline();
    e.step(tl.sample());
    tl.scan(
      '10.0.0.51',
      [...Array(20).keys()].map((i) => 300 + i),
    );
    const ev = run(e, tl, 20, () => tl.source('10.0.0.51', { pkts: 200, syn: 200 }));
    assert.deepEqual(
      ev.map((x) => x.event),
      ['start'],
    );
    const after = run(e, tl, 10, () => tl.source('10.0.0.51', { pkts: 200, syn: 10, synack: 10 }));
    assert.deepEqual(
      after.map((x) => x.event),
      ['end'],
    );
  });

  it("drops are the alert's namespace's: another namespace's are not its evidence", () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 1, () => {
      tl.scan(
        '10.0.0.97',
        [...Array(20).keys()].map((i) => 500 + i),
      ).drop('NO_SOCKET', 20);
      tl.drop('NO_SOCKET', 19, 4026533001).drop('NO_SOCKET', 5000, 4026533002); // the scanner's own, a third's
    });
    const a = starts(ev, 'port_scan')[0]!.alert;
    assert.deepEqual(
      a.evidence.filter((x) => x.counter.startsWith('drop:')),
      [{ counter: 'drop:NO_SOCKET', delta: 20, netns: OWN_NETNS }],
    );
  });

  it('14 ports are not a scan, and a slow scan within the window is', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    assert.deepEqual(
      run(e, tl, 14, (i) => tl.scan('10.0.0.5', [100 + i])),
      [],
    );
    const slow = engine();
    const t2 = new Timeline();
    slow.step(t2.sample());
    const ev: AlertEvent[] = [];
    for (let i = 0; i < 16; i++) {
      t2.bucket = Math.floor(i / 4); // one port every 15 s: 4 minutes in all
      t2.scan('10.0.0.6', [200 + i]);
      ev.push(...slow.step(t2.sample(15)));
    }
    assert.equal(starts(ev, 'port_scan').length, 1);
  });

  it('SYNs to filtered ports (no answer at all): unanswered ports count once pending at two reads', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    // 5 ports a second get a SYN that nothing answers; port 80's SYNs are answered each time.
    const ev = run(e, tl, 4, (i) => {
      tl.syn('10.0.0.77', [80, i * 5 + 1001, i * 5 + 1002, i * 5 + 1003, i * 5 + 1004, i * 5 + 1005]);
      tl.answered('10.0.0.77', [80]);
    });
    const s = starts(ev);
    assert.equal(s.length, 1, JSON.stringify(ev.map((x) => x.alert.kind)));
    const a = s[0]!.alert;
    assert.equal(a.kind, 'port_scan');
    assert.equal(a.traffic, 'unanswered');
    assert.equal(a.source.address, '10.0.0.77');
    // Seconds 0..2's ports were pending at two reads by the fourth: 15, not the 20 SYN'd, not port 80.
    assert.equal(s[0]!.tNs - 1e12, 4e9);
    assert.deepEqual([a.figures.ports, a.figures.unanswered_ports, a.figures.refused_ports], [15, 15, 0]);
  });

  it('refused and unanswered ports add up; a client whose SYNs are all answered raises nothing', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 3, (i) => {
      // Refused (the RST is their answer): 12 in all.
      const refused = [i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4];
      tl.syn('10.0.0.78', refused).scan('10.0.0.78', refused).answered('10.0.0.78', refused);
      tl.syn('10.0.0.78', [3000 + i * 2, 3001 + i * 2]); // unanswered: 4 counted after 3 reads
      // A busy client: SYNs to 40 ports a second, every one answered before the read.
      const ports = [...Array(40).keys()].map((k) => 5000 + i * 40 + k);
      tl.syn('10.0.0.79', ports).answered('10.0.0.79', ports);
    });
    const s = starts(ev);
    assert.equal(s.length, 1, JSON.stringify(ev.map((x) => [x.alert.kind, x.alert.source.address])));
    const a = s[0]!.alert;
    assert.equal(a.source.address, '10.0.0.78');
    assert.equal(a.traffic, 'refusals');
    assert.deepEqual([a.figures.ports, a.figures.refused_ports, a.figures.unanswered_ports], [16, 12, 4]);
  });
});

describe('distributed flood and protocol floods', () => {
  it('packets/s ten times the baseline from thousands of sources, none dominant', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const calm = run(e, tl, 60, () => {
      tl.port('tcp', 443, { pkts: 2000 });
      tl.sourcesSeen(50);
    });
    assert.deepEqual(calm, []);
    const ev = run(e, tl, 5, () => {
      tl.proto('other', { pkts: 80000 });
      tl.port('tcp', 443, { pkts: 2000 });
      tl.sourcesSeen(30000);
    });
    const s = starts(ev);
    assert.equal(s.length, 1);
    assert.equal(s[0]!.alert.kind, 'distributed_flood');
    assert.ok(s[0]!.alert.source.distinct! > 25000);
    assert.ok(Math.abs(s[0]!.alert.figures.baseline_pps! - 2000) < 10);
  });

  it('UDP to one port and ICMP to the host from many sources', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 4, () => {
      tl.port('udp', 53, { pkts: 60000, udp: 60000 });
      tl.proto('icmp', { pkts: 6000, icmp: 6000 });
      tl.sourcesSeen(10000, 0, 9000, 900);
    });
    assert.deepEqual(
      starts(ev)
        .map((x) => `${x.alert.kind}:${x.alert.target.port}`)
        .sort(),
      ['icmp_flood:null', 'udp_flood:53'],
    );
    assert.equal(starts(ev).length, 2, 'the surge is explained: no distributed_flood beside them');
  });
});

describe('alert life', () => {
  it('an update every 30 s while it lasts, with the same id; an end at stop', () => {
    const e = engine();
    const tl = new Timeline();
    e.step(tl.sample());
    const ev = run(e, tl, 65, () => {
      tl.port('tcp', 80, { pkts: 2000, syn: 2000 });
      tl.counter('TcpExtSyncookiesSent', 1000);
    });
    assert.deepEqual(
      ev.map((x) => [x.event, (x.tNs - 1e12) / 1e9]),
      [
        ['start', 1],
        ['update', 31],
        ['update', 61],
      ],
    );
    assert.ok(ev.every((x) => x.alert.id === ev[0]!.alert.id));
    const fin = e.finish(tl.tNs);
    assert.deepEqual(
      fin.map((x) => [x.event, x.reason, x.alert.id]),
      [['end', 'stopped', ev[0]!.alert.id]],
    );
  });
});
