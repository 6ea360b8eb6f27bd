/** `wirelens top`'s pure parts: rates and totals from two snapshots, sorting, the table's escaping, the JSON shape. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildTopModel } from '../../src/analysis/stats/traffic-view';
import { Counts, TrafficSnapshot, ZERO_COUNTS } from '../../src/probes/traffic';
import { renderTopTable } from '../../src/output/top-table';
import { topJson } from '../../src/output/top-json';
import { formatBitRate, formatBytes } from '../../src/output/units';
import { displayWidth } from '../../src/output/columns';

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

describe('top table fits the terminal', () => {
  /** A busy host: many rows in every view, a link-local IPv6 peer, escaped and wide task names. */
  function busy(): ReturnType<typeof buildTopModel> {
    const procs = new Map<number, { pid: number; uid: number; comm: string } & Counts>();
    const comms = [
      'nginx',
      'x\x1b[2Jevil\x07name',
      '\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587\u4e2d',
      'caf\u00e9',
    ];
    for (let i = 0; i < 40; i++) {
      procs.set(1000 + i, {
        pid: 1000 + i,
        uid: 0,
        comm: comms[i % comms.length]!,
        ...c({ txBytes: 1e9 - i, txPkts: 9, conns: 5 }),
      });
    }
    procs.set(0, { pid: 0, uid: 0, comm: '', ...c({ rxBytes: 5, rxPkts: 1 }) });
    const remotes = new Map<string, Counts>([
      ['fe80::1234:5678:9abc:def0%veth-very-long0', c({ rxBytes: 123456789012, rxPkts: 10, conns: 171000 })],
      ['2001:db8:85a3:1234:5678:8a2e:370:7334', c({ rxBytes: 2e9, rxPkts: 4 })],
    ]);
    for (let i = 0; i < 30; i++) remotes.set(`10.0.0.${i}`, c({ rxBytes: 1000 + i, rxPkts: 1 }));
    const ports = new Map<string, Counts>();
    for (let i = 0; i < 30; i++) ports.set(`tcp/${8000 + i}`, c({ txBytes: 1000 + i, txPkts: 1 }));
    const ifaces = new Map<string, Counts>([
      ['eth0', c({ rxBytes: 9e12, rxPkts: 10 })],
      ['veth-\\x1b-name', c({ rxBytes: 1, rxPkts: 1 })],
    ]);
    const protos = new Map<string, Counts>([
      ['tcp', c({ rxBytes: 9e9, rxPkts: 10 })],
      ['udp', c({ rxBytes: 5, rxPkts: 1 })],
      ['icmp', c({})],
      ['icmpv6', c({})],
      ['other', c({})],
    ]);
    return buildTopModel(snap(0), snap(0), snap(1, { procs, remotes, ports, ifaces, protos }), 'bytes');
  }
  const HEADINGS = ['wirelens top', 'INTERFACES', 'PROCESSES', 'REMOTE ADDRESSES', 'LOCAL PORTS', 'PROTOCOLS'];
  const opts = { sort: 'bytes' as const, source: 'all sockets', mapBytes: 5 << 20, time: '12:00:00' };

  /** The header and row lines of each table: those after a heading, up to a blank or the next heading. */
  function tables(text: string): string[][] {
    const out: string[][] = [];
    let cur: string[] | undefined;
    for (const l of text.split('\n')) {
      if (HEADINGS.includes(l)) out.push((cur = []));
      else if (l === '') cur = undefined;
      else if (!/^ {2}(\.\.\. \d+ more|\(nothing yet\))$/.test(l)) cur?.push(l);
    }
    return out;
  }

  for (const [w, h] of [
    [80, 24],
    [80, undefined],
    [120, undefined],
    [120, 40],
    [200, 50],
  ] as const) {
    it(`${w} columns${h ? ` x ${h} lines` : ''}: every line fits, every heading shows, columns line up`, () => {
      const text = renderTopTable(busy(), {
        ...opts,
        rows: h ? 1000 : 10,
        width: w,
        ...(h ? { height: h, keysHelp: 'b/p/c sort, q quit' } : {}),
      });
      const lines = text.replace(/\n$/, '').split('\n');
      if (h) assert.ok(lines.length <= h, `${lines.length} lines for ${h}`);
      for (const l of lines) assert.ok(displayWidth(l) <= w, `${displayWidth(l)} columns: ${l}`);
      assert.match(lines[0]!, /^wirelens top/);
      for (const hd of HEADINGS.slice(1)) assert.ok(lines.includes(hd), `heading ${hd} shown`);
      const t = tables(text);
      assert.equal(t.length, 5);
      for (const tab of t) {
        assert.match(tab[0]!, /TX TOTAL/, 'TX TOTAL column shown');
        assert.ok(tab.length >= 2, `rows shown: ${tab.join('\n')}`);
        // The last column is right-aligned: every line of a table ends at the same column.
        for (const l of tab) assert.equal(displayWidth(l), displayWidth(tab[0]!), `aligned:\n${tab.join('\n')}`);
      }
      // The link-local address keeps its %iface end and its prefix.
      assert.match(text, /fe80::\S*long0 /);
      assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f]/);
      if (w >= 120) assert.match(text, /RX PKT/);
      assert.match(text, /CONN\/s/);
    });
  }
});
