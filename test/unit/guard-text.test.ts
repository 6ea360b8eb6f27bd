/**
 * guard's text lines: alert lines fitted to a terminal (peaks on update and
 * end, evidence as many as fit, whole on a pipe) and top's ALERT lines.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { AlertEvent, AlertView } from '../../src/analysis/detect/alerts';
import { Clock } from '../../src/output/clock';
import { CUT_MARK, displayWidth, fitFields } from '../../src/output/columns';
import { alertLine, guardAlertLines } from '../../src/output/guard-alerts';

const clock = Clock.at(1_700_000_000);

function synFlood(): AlertView {
  return {
    id: '715f85-1',
    kind: 'syn_flood',
    traffic: 'syn',
    key: 'k',
    severity: 'medium',
    startNs: 0,
    lastSeenNs: 18e9,
    target: { address: '10.214.1.2', port: 8080, protocol: 'tcp', netns: 4026532390 },
    source: { address: null, distinct: 23400, top: [] },
    figures: { syn_per_s: 107, completed_ratio: 0, synack_retrans_per_s: 0 },
    peak: { syn_per_s: 1490, completed_ratio: 0.02, synack_retrans_per_s: 2 },
    thresholds: {},
    evidence: [
      { counter: 'TcpExtTCPReqQFullDoCookies', delta: 221000, netns: 1 },
      { counter: 'TcpExtSyncookiesSent', delta: 221000, netns: 1 },
      { counter: 'synack_retransmits', delta: 18, netns: 1 },
      { counter: 'TcpExtListenOverflows', delta: 7, netns: 1 },
      { counter: 'drop:TCP_LISTEN_OVERFLOW', delta: 7, netns: 1 },
    ],
    intervals: 18,
  };
}

const ev = (event: AlertEvent['event'], reason?: 'quiet' | 'stopped'): AlertEvent => ({
  event,
  tNs: 18e9,
  alert: synFlood(),
  ...(reason ? { reason } : {}),
});

describe('fitFields', () => {
  const fields = [
    { text: 'aaa', rank: 0 },
    { text: 'bb', rank: 2 },
    { text: 'cc', rank: 1 },
    { text: 'dd', rank: 2 },
  ];
  it('keeps everything when it fits or when there is no width', () => {
    assert.equal(fitFields(fields, 12), 'aaa bb cc dd');
    assert.equal(fitFields(fields, undefined), 'aaa bb cc dd');
  });
  it('leaves out the highest rank first, the last of equals first, each run marked once', () => {
    assert.equal(fitFields(fields, 11), `aaa bb cc ${CUT_MARK}`);
    assert.equal(fitFields(fields, 10), `aaa ${CUT_MARK} cc ${CUT_MARK}`);
    assert.equal(fitFields(fields, 9), `aaa ${CUT_MARK}`);
    assert.equal(fitFields(fields, 2), `a${CUT_MARK}`);
  });
});

describe('guard alert lines', () => {
  it('on a pipe (no width): whole, every evidence entry, no cut mark', () => {
    const l = alertLine(ev('end', 'quiet'), clock);
    assert.ok(!l.includes(CUT_MARK), l);
    for (const e of synFlood().evidence) assert.ok(l.includes(`${e.counter} +`), l);
    assert.match(l, / end {4}715f85-1 medium syn_flood 10\.214\.1\.2:8080\/tcp netns 4026532390 from ~23\.4k sources /);
  });
  it('update and end lines show the peak of each rate beside the last figure; start lines do not', () => {
    for (const e of [ev('update'), ev('end', 'quiet')]) {
      const l = alertLine(e, clock);
      assert.match(l, /syn 107\/s \(peak 1\.49k\/s\) completed 0% synack-retrans 0\/s \(peak 2\/s\) after 18s/, l);
    }
    const s = alertLine(ev('start'), clock);
    assert.doesNotMatch(s, /peak/);
  });
  for (const width of [80, 100, 132, 200, 260]) {
    it(`at ${width} columns: fits, what/where/whom first, evidence as many as fit`, () => {
      for (const e of [ev('start'), ev('update'), ev('end', 'stopped')]) {
        const l = alertLine(e, clock, width);
        assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`);
        assert.match(
          l,
          /^\d\d:\d\d:\d\d (start |update|end {3}) .*medium syn_flood 10\.214\.1\.2:8080\/tcp .*from ~23\.4k sources/,
        );
        if (width >= 260) assert.ok(l.includes('TcpExtTCPReqQFullDoCookies +221k'), l);
      }
    });
  }
  it('a narrow terminal still gets one line, cut at its edge', () => {
    const l = alertLine(ev('update'), clock, 40);
    assert.ok(displayWidth(l) <= 40 && l.endsWith(CUT_MARK), l);
  });
  it('a wide terminal gets the whole line when it fits', () => {
    const whole = alertLine(ev('end', 'quiet'), clock);
    assert.equal(alertLine(ev('end', 'quiet'), clock, displayWidth(whole)), whole);
    const less = alertLine(ev('end', 'quiet'), clock, displayWidth(whole) - 1);
    assert.ok(less.endsWith(`drop:TCP_LISTEN_OVERFLOW +7`) === false && less.endsWith(CUT_MARK), less);
  });
});

describe("top's ALERT lines", () => {
  const guards = [
    {
      pid: 7394,
      alerts: [
        {
          id: '5f0a1b-12',
          kind: 'source_flood',
          traffic: 'syn',
          severity: 'medium',
          duration_s: 125,
          target: { address: 'fd00:213:4567:89ab:cdef:1234:5678:9abc', port: 8080, protocol: 'tcp', netns: 1 },
          source: { address: 'fd00:213:4567:89ab:cdef:1234:5678:1', distinct: null },
        },
      ],
    },
  ];
  it('fit the width: what, where and from whom stay; the guard and id go first, marked …', () => {
    const [l] = guardAlertLines(guards, 80);
    assert.ok(displayWidth(l!) <= 80, l);
    assert.equal(l, 'ALERT medium source_flood(syn) [fd00:213:456…abc]:8080/tcp from fd00:2…:5678:1 …');
    const [wide] = guardAlertLines(guards, 200);
    assert.match(wide!, /for 125s \(guard 7394, 5f0a1b-12\)$/);
  });
});
