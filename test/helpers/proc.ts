/** Child processes for tests: spawn, wait for a line, and always clean up. */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
// A cancelled test run (Ctrl-C, the runner's SIGTERM) exits through 'exit', so
// every cleanup hook (children here, namespaces in netns.ts) still runs.
for (const [sig, n] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(sig, () => process.exit(128 + n));
}

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves when `get()` matches `re`, rejects after `ms` with what was seen. */
export async function waitFor(get: () => string, re: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(get());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; saw:\n${get()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stop(s: Spawned, signal: NodeJS.Signals = 'SIGTERM', ms = 5000): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.exited;
  s.child.kill(signal);
  const t = setTimeout(() => s.child.kill('SIGKILL'), ms);
  const code = await s.exited;
  clearTimeout(t);
  return code;
}

/** Runs to completion with a time bound. */
export async function run(
  cmd: string,
  args: string[],
  ms = 20000,
  opts: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = start(cmd, args, opts);
  const t = setTimeout(() => s.child.kill('SIGKILL'), ms);
  const code = await s.exited;
  clearTimeout(t);
  return { code, stdout: s.stdout(), stderr: s.stderr() };
}
