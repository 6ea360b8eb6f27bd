/**
 * Two test hosts in network namespaces joined by a veth pair, made and
 * removed by the test. Addresses are private to these namespaces:
 * a = 10.213.<n>.1 / fd00:213:<n>::1, b = .2 / ::2.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface NetnsPair {
  a: string;
  b: string;
  addrA: string;
  addrB: string;
  addr6A: string;
  addr6B: string;
  inodeA: number;
  inodeB: number;
  /** The veth ends: devA in namespace a, devB in b. */
  devA: string;
  devB: string;
  remove(): void;
}

const made = new Set<string>();
process.on('exit', () => {
  for (const ns of made) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
});

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createNetnsPair(tag: string): NetnsPair {
  const n = (process.pid % 200) + 20;
  const a = `wlt-${tag}-${process.pid}-a`;
  const b = `wlt-${tag}-${process.pid}-b`;
  const va = `wlv${process.pid % 100000}a`;
  const vb = `wlv${process.pid % 100000}b`;
  const pair: NetnsPair = {
    a,
    b,
    addrA: `10.213.${n}.1`,
    addrB: `10.213.${n}.2`,
    addr6A: `fd00:213:${n}::1`,
    addr6B: `fd00:213:${n}::2`,
    inodeA: 0,
    inodeB: 0,
    devA: va,
    devB: vb,
    remove() {
      for (const ns of [a, b]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          /* already gone */
        }
        made.delete(ns);
      }
    },
  };
  try {
    ip('netns', 'add', a);
    made.add(a);
    ip('netns', 'add', b);
    made.add(b);
    ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
    ip('link', 'set', va, 'netns', a);
    ip('link', 'set', vb, 'netns', b);
    ip('-n', a, 'addr', 'add', `${pair.addrA}/24`, 'dev', va);
    ip('-n', b, 'addr', 'add', `${pair.addrB}/24`, 'dev', vb);
    ip('-n', a, 'addr', 'add', `${pair.addr6A}/64`, 'dev', va, 'nodad');
    ip('-n', b, 'addr', 'add', `${pair.addr6B}/64`, 'dev', vb, 'nodad');
    for (const [ns, dev] of [
      [a, va],
      [b, vb],
    ] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    pair.inodeA = fs.statSync(`/run/netns/${a}`).ino;
    pair.inodeB = fs.statSync(`/run/netns/${b}`).ino;
  } catch (e) {
    pair.remove();
    throw e;
  }
  return pair;
}
