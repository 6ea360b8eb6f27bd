/** `wirelens top`'s pure parts: rates and totals from two snapshots, sorting, the table's escaping, the JSON shape. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildTopModel } from '../../src/analysis/traffic-view';
import { Counts, TrafficSnapshot, ZERO_COUNTS } from '../../src/probes/traffic';
import { renderTopTable } from '../../src/output/top-table';
import { topJson } from '../../src/output/top-json';
import { formatBitRate, formatBytes } from '../../src/output/units';

const c = (o: Partial<Counts>): Counts => ({ ...ZERO_COUNTS, ...o });

function snap(tS: number, o: Partial<TrafficSnapshot> = {}): TrafficSnapshot {
  return {
    tNs: BigInt(Math.round(tS * 1e9)),
    procs: new Map(),
    remotes: new Map(),
    ports: new Map(),
    protos: new Map([['tcp', c({})]]),
    ifaces: new Map(),
    devDrops: new Map(),
    drops: new Map(),
    tables: [],
    ...o,
  };
}

describe('top model', () => {
  it('rates over the interval, totals since the first snapshot, busiest first', () => {
    const first = snap(0, { ifaces: new Map([['eth0', c({ rxBytes: 5000, rxPkts: 5 })]]) });
    const prev = snap(1, {
      procs: new Map([[10, { pid: 10, uid: 0, comm: 'a', ...c({ txBytes: 100, txPkts: 1 }) }]]),
      ifaces: new Map([['eth0', c({ rxBytes: 6000, rxPkts: 6 })]]),
    });
    const cur = snap(3, {
      procs: new Map([
        [10, { pid: 10, uid: 0, comm: 'a', ...c({ txBytes: 300, txPkts: 3 }) }],
        [20, { pid: 20, uid: 0, comm: 'b', ...c({ rxBytes: 1000, rxPkts: 1 }) }],
      ]),
      ifaces: new Map([['eth0', c({ rxBytes: 10000, rxPkts: 10 })]]),
      drops: new Map([['NO_SOCKET', 4]]),
    });
    const m = buildTopModel(first, prev, cur, 'bytes');
    assert.equal(m.intervalS, 2);
    assert.deepEqual(
      m.procs.map((p) => p.pid),
      [20, 10],
    );
    assert.equal(m.procs[1]!.delta.txBytes, 200);
    assert.equal(m.procs[1]!.total.txBytes, 300);
    // Device counters count from boot: totals from wirelens's start.
    assert.equal(m.ifaces[0]!.total.rxBytes, 5000);
    assert.equal(m.ifaces[0]!.delta.rxBytes, 4000);
    assert.equal(m.drops.delta, 4);
    const byPackets = buildTopModel(first, prev, cur, 'packets');
    assert.deepEqual(
      byPackets.procs.map((p) => p.pid),
      [10, 20],
    );
  });

  it('a counter that went backwards (LRU entry made again) counts from zero, never negative', () => {
    const prev = snap(1, { remotes: new Map([['10.0.0.1', c({ rxBytes: 900, rxPkts: 9 })]]) });
    const cur = snap(2, { remotes: new Map([['10.0.0.1', c({ rxBytes: 50, rxPkts: 1 })]]) });
    const m = buildTopModel(snap(0), prev, cur, 'bytes');
    assert.equal(m.remotes[0]!.delta.rxBytes, 50);
  });

  it('escapes task names before the terminal and keeps JSON exact', () => {
    const evil = 'x\x1b[2J\x07y';
    const cur = snap(1, { procs: new Map([[7, { pid: 7, uid: 0, comm: evil, ...c({ txBytes: 10, txPkts: 1 }) }]]) });
    const m = buildTopModel(snap(0), snap(0), cur, 'bytes');
    const text = renderTopTable(m, {
      sort: 'bytes',
      rows: 5,
      width: 200,
      source: 'all sockets',
      mapBytes: 1 << 20,
      time: '00:00:00',
    });
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f]/);
    const j = JSON.parse(topJson(m, { ts: 't', sort: 'bytes', source: 's', rows: 5, mapBytes: 0 })) as {
      processes: { comm: string; tx_bps: number }[];
    };
    assert.equal(j.processes[0]!.comm, evil);
    assert.equal(j.processes[0]!.tx_bps, 80);
  });

  it('formats rates and sizes', () => {
    assert.equal(formatBitRate(0), '0 bit/s');
    assert.equal(formatBitRate(1_234_000), '1.23 Mbit/s');
    assert.equal(formatBytes(4_988_416), '4.76 MiB');
    assert.equal(formatBytes(512), '512 B');
  });
});
