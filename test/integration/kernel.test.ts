/** The native boundary through src/kernel: globals, maps, errors with errno and libbpf's words. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { BpfObject } from '../../src/kernel/object';
import { native } from '../../src/kernel/native';
import { WlError } from '../../src/errors';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();

function loaded(): BpfObject {
  const obj = BpfObject.open('tcp_life');
  for (const p of obj.programs()) obj.setAutoload(p, p === 'wl_tcp_state_tp');
  return obj;
}

describe('kernel wrappers', { skip }, () => {
  it('map update, lookup, delete and one-call dump', () => {
    const obj = loaded();
    try {
      obj.setMaxEntries('wl_tcp_socks', 128);
      obj.load();
      const m = obj.map('wl_tcp_socks');
      assert.equal(m.info.maxEntries, 128);
      const val = (b: number) => Buffer.alloc(m.info.valueSize, b);
      const key = (n: number) => {
        const k = Buffer.alloc(8);
        k.writeBigUInt64LE(BigInt(n));
        return k;
      };
      for (let i = 1; i <= 3; i++) m.update(key(i), val(i));
      assert.deepEqual(m.lookup(key(2)), val(2));
      assert.equal(m.lookup(key(9)), null);
      const all = m.entries();
      assert.equal(all.length, 3);
      assert.deepEqual(all.map((e) => e.key.readBigUInt64LE()).sort(), [1n, 2n, 3n]);
      assert.equal(m.delete(key(2)), true);
      assert.equal(m.delete(key(2)), false);
      assert.equal(m.entries().length, 2);
    } finally {
      obj.close();
    }
  });

  it('per-CPU counters are summed over every possible CPU', () => {
    const obj = loaded();
    try {
      obj.load();
      const stats = obj.map('wl_stats');
      const cpus = native().numPossibleCpus();
      assert.equal(stats.valueBytes, 8 * cpus);
      const v = Buffer.alloc(8 * cpus);
      for (let c = 0; c < cpus; c++) v.writeBigUInt64LE(BigInt(c + 1), c * 8);
      const k = Buffer.alloc(4);
      k.writeUInt32LE(2);
      stats.update(k, v);
      assert.equal(stats.sumPerCpuU64(2), BigInt((cpus * (cpus + 1)) / 2));
    } finally {
      obj.close();
    }
  });

  it('setGlobal checks the name and size against BTF, and only before load', () => {
    const obj = loaded();
    try {
      assert.throws(() => obj.setGlobal('wl_filter_pid_n', Buffer.alloc(8)), /has 4 bytes, value has 8/);
      assert.throws(
        () => obj.setGlobal('wl_no_such_global', Buffer.alloc(4)),
        /no global variable named wl_no_such_global/,
      );
      obj.setGlobal('wl_filter_pid_n', Buffer.alloc(4));
      obj.load();
      assert.throws(() => obj.setGlobal('wl_filter_pid_n', Buffer.alloc(4)), /after load/);
    } finally {
      obj.close();
    }
  });

  it('a failed attach carries errno and libbpf context', () => {
    const obj = loaded();
    try {
      obj.load();
      assert.throws(
        () => obj.attach('wl_tcp_state_tp', { kind: 'tracepoint', category: 'sock', name: 'wl_no_such_tracepoint' }),
        (e: unknown) => {
          const n = e as { errno?: number; code?: string; message: string };
          return (
            n.code === 'WL_ERR_LIBBPF' && n.errno === 2 && /attaching wl_tcp_state_tp \(tracepoint\)/.test(n.message)
          );
        },
      );
    } finally {
      obj.close();
    }
  });

  it('a missing object file is a WL_ERR_NOT_BUILT error with a remedy', () => {
    assert.throws(
      () => BpfObject.open('wl_no_such_object'),
      (e: unknown) => e instanceof WlError && e.code === 'WL_ERR_NOT_BUILT' && /npm run build:bpf/.test(e.remedy ?? ''),
    );
  });
});
