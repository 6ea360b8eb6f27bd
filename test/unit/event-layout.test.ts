/** Every event struct's TS decoder layout matches the compiled object's BTF. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  CAP,
  CAP_STAT,
  GUARD_HLL,
  GUARD_PROTO,
  GUARD_STAT,
  LAYOUTS_BY_OBJECT,
  WL_TCP_EVENT,
} from '../../src/events/layout';
import { layoutMismatches } from '../../src/events/layout-check';
import { bpfObjectPath, native } from '../../src/kernel/native';

describe('event layouts agree with BTF', () => {
  for (const [object, layouts] of Object.entries(LAYOUTS_BY_OBJECT)) {
    for (const layout of layouts) {
      it(`${object}: struct ${layout.struct}`, () => {
        assert.deepEqual(layoutMismatches(layout, bpfObjectPath(object)), []);
      });
    }
  }

  it('every wl_*_event struct in events.h has a TS layout', () => {
    const header = fs.readFileSync(
      bpfObjectPath('tcp_life').replace(/build\/bpf\/.*$/, 'bpf/include/events.h'),
      'utf8',
    );
    const structs = [...header.matchAll(/^struct (wl_\w+) \{/gm)].map((m) => m[1]);
    const known = new Set(
      Object.values(LAYOUTS_BY_OBJECT)
        .flat()
        .map((l) => l.struct),
    );
    for (const s of structs) assert.ok(known.has(s!), `struct ${s} has no TS layout`);
  });

  it('the check catches drift (a wrong offset, a missing field, a wrong size)', () => {
    const path = bpfObjectPath('tcp_life');
    const moved = { ...WL_TCP_EVENT, fields: { ...WL_TCP_EVENT.fields, tx_bytes: 113 } };
    assert.match(layoutMismatches(moved, path).join('\n'), /tx_bytes: offset 113 in TS, 112 in BTF/);
    const { rx_bytes: _dropped, ...fewer } = WL_TCP_EVENT.fields;
    void _dropped;
    assert.match(
      layoutMismatches({ ...WL_TCP_EVENT, fields: fewer }, path).join('\n'),
      /rx_bytes: in BTF, not decoded/,
    );
    assert.match(layoutMismatches({ ...WL_TCP_EVENT, size: 128 }, path).join('\n'), /size 128 in TS, 160 in BTF/);
  });

  it("capture's enums in TS equal the object's (wl_cap_hook, wl_cap_stat)", () => {
    const obj = bpfObjectPath('capture');
    const byName = (e: { name: string; value: number }[] | null, prefix: string) =>
      Object.fromEntries((e ?? []).map((x) => [x.name.slice(prefix.length), x.value]));
    assert.deepEqual(byName(native().btfEnum('wl_cap_hook', obj), 'WL_CAP_'), CAP);
    const stats = byName(native().btfEnum('wl_cap_stat', obj), 'WL_CAP_STAT_');
    delete stats.MAX;
    assert.deepEqual(stats, CAP_STAT);
  });

  it("guard's enums in TS equal the object's (wl_guard_proto, wl_guard_hll_kind, wl_guard_stat)", () => {
    const obj = bpfObjectPath('guard');
    const byName = (e: { name: string; value: number }[] | null, prefix: string) => {
      const o = Object.fromEntries((e ?? []).map((x) => [x.name.slice(prefix.length), x.value]));
      delete o.MAX;
      delete o.PROTO_MAX;
      delete o.HLL_MAX;
      return o;
    };
    assert.deepEqual(byName(native().btfEnum('wl_guard_proto', obj), 'WL_GUARD_'), GUARD_PROTO);
    assert.deepEqual(byName(native().btfEnum('wl_guard_hll_kind', obj), 'WL_GUARD_HLL_'), GUARD_HLL);
    assert.deepEqual(byName(native().btfEnum('wl_guard_stat', obj), 'WL_GUARD_STAT_'), GUARD_STAT);
  });

  it('reads kernel enums from vmlinux BTF', () => {
    const reasons = native().btfEnum('skb_drop_reason');
    assert.ok(reasons && reasons.some((s) => s.name === 'SKB_DROP_REASON_NOT_SPECIFIED'));
    assert.equal(native().btfEnum('wl_no_such_enum'), null);
  });
});
