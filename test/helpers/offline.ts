/** Live equals offline: comparing a live command's records with those of `-r FILE` on the same traffic. */
import * as assert from 'node:assert/strict';
import { run, Spawned, start, waitFor } from './proc';
import { CLI } from './paths';
import { Rec } from './wirelens';

/** Fields a file cannot give (process, namespace) or gives at another instant (time). */
export const NOT_COMPARED = ['ts', 'pid', 'tid', 'uid', 'comm', 'netns'];

/** A record without the fields not compared and without `close` (compared within 1 ms). */
export function comparable(r: Rec, close: string[]): Rec {
  const o: Rec = {};
  for (const [k, v] of Object.entries(r)) if (!NOT_COMPARED.includes(k) && !close.includes(k)) o[k] = v;
  return o;
}

/** Live and offline records side by side: the same set on every compared field, `close` ones within 1 ms. */
export function assertSame(live: Rec[], offline: Rec[], close: string[]): void {
  const key = (r: Rec): string => JSON.stringify(comparable(r, close));
  const a = [...live].sort((x, y) => key(x).localeCompare(key(y)));
  const b = [...offline].sort((x, y) => key(x).localeCompare(key(y)));
  assert.deepEqual(
    b.map((r) => comparable(r, close)),
    a.map((r) => comparable(r, close)),
    `offline records equal the live ones:\nlive ${JSON.stringify(a)}\noffline ${JSON.stringify(b)}`,
  );
  for (let i = 0; i < a.length; i++) {
    for (const k of close) {
      const x = a[i]![k] as number | null;
      const y = b[i]![k] as number | null;
      if (x === null || y === null) assert.equal(y, x, k);
      else assert.ok(Math.abs(x - y) <= 1, `${k}: live ${x} ms, offline ${y} ms (${JSON.stringify(a[i])})`);
    }
  }
}

/** `wirelens ARGS --json`: its records, stderr and status. */
export async function wirelensJson(args: string[]): Promise<{ records: Rec[]; stderr: string; code: number | null }> {
  const r = await run(process.execPath, [CLI, ...args, '--json'], 60_000);
  const records = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
  return { records, stderr: r.stderr, code: r.code };
}

/** tcpdump writing loopback packets matching `expr` to `file`, once it listens. */
export async function tcpdumpLo(file: string, expr: string): Promise<Spawned> {
  // --immediate-mode: nothing held back in the ring when it stops.
  const td = start('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', file, expr]);
  await waitFor(td.stderr, /listening on/, 15_000, 'tcpdump to listen');
  return td;
}
