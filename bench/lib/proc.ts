/**
 * Spawn helpers: every child runs in its own process group (so Ctrl-C
 * reaches only the bench, which then stops them), is killed on bench exit,
 * and can be waited for with a time bound. Also CPU time from /proc.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { onCleanup } from './cleanup';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the bench had to SIGKILL it after a graceful stop timed out. */
  killed: boolean;
}

export interface SpawnOptions {
  /** 'pipe' keeps stdout in memory (proc.stdout); 'null' sends it to /dev/null. */
  stdout?: 'pipe' | 'null';
  cwd?: string;
}

export class Proc {
  readonly pid: number;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  /** Resolves once the process exited and its pipes closed. */
  readonly done: Promise<Exit>;
  private readonly child: ChildProcess;
  private killedByUs = false;
  private readonly stderrWatchers = new Set<() => void>();

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: SpawnOptions = {},
  ) {
    const devNull = opts.stdout === 'null' ? fs.openSync('/dev/null', 'w') : undefined;
    this.spawnedAt = performance.now();
    let spawnError: Error | undefined;
    try {
      this.child = spawn(cmd, args, {
        cwd: opts.cwd,
        detached: true,
        stdio: ['ignore', devNull ?? 'pipe', 'pipe'],
      });
    } finally {
      if (devNull !== undefined) fs.closeSync(devNull);
    }
    this.child.on('error', (e) => (spawnError = e));
    if (this.child.pid === undefined) {
      throw new Error(`${name}: cannot start ${cmd} (is it installed and on PATH?)`);
    }
    this.pid = this.child.pid;
    const unregister = onCleanup(() => this.signalGroup('SIGKILL'));
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      for (const w of [...this.stderrWatchers]) w();
    });
    this.done = new Promise<Exit>((resolve) => {
      this.child.on('close', (code, signal) => {
        unregister();
        // Anything left in the group (e.g. nginx workers) goes with the leader.
        this.signalGroup('SIGKILL');
        this.exit = { code, signal, killed: this.killedByUs };
        if (spawnError && code === null && signal === null) this.stderr += `\n${spawnError.message}`;
        for (const w of [...this.stderrWatchers]) w();
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Signal the process itself; a process already gone is not an error. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  /** Signal its whole process group (the leader and anything it forked). */
  signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  /**
   * Resolve with the first match of `re` in stderr and the time since spawn.
   * Rejects (and kills the process) on timeout, or if it exits first.
   */
  waitForStderr(re: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; msSinceSpawn: number }> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.stderrWatchers.delete(check);
      };
      const check = (): void => {
        const match = this.stderr.match(re);
        if (match) {
          finish();
          resolve({ match, msSinceSpawn: performance.now() - this.spawnedAt });
        } else if (!this.running) {
          finish();
          reject(new Error(`${this.name} exited (${describeExit(this.exit)}) before printing ${re}${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        this.killedByUs = true;
        this.signalGroup('SIGKILL');
        reject(new Error(`${this.name}: no ${re} on stderr within ${timeoutMs} ms; killed it${this.tail()}`));
      }, timeoutMs);
      this.stderrWatchers.add(check);
      check();
    });
  }

  /** Wait for it to exit by itself; SIGKILL it after timeoutMs. */
  async waitExit(timeoutMs: number): Promise<Exit> {
    const timer = setTimeout(() => {
      this.killedByUs = true;
      this.signalGroup('SIGKILL');
    }, timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send `sig`, wait up to timeoutMs, then SIGKILL the group. */
  async stop(sig: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    this.signal(sig);
    return this.waitExit(timeoutMs);
  }

  /** Last lines of stderr, for error messages. */
  tail(lines = 8): string {
    const text = this.stderr.trimEnd().split('\n').slice(-lines).join('\n  ');
    return text ? `; stderr:\n  ${text}` : '';
  }
}

export function describeExit(e: Exit | undefined): string {
  if (!e) return 'still running';
  const how = e.signal ? `signal ${e.signal}` : `status ${e.code}`;
  return e.killed ? `${how}, killed by the bench after a timeout` : how;
}

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`), the unit of /proc/PID/stat times. */
export function clockTicks(): number {
  if (ticks === undefined) {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`getconf CLK_TCK printed "${n}"`);
    ticks = n;
  }
  return ticks;
}

/**
 * CPU seconds a process (all its threads, live ones) has run so far, to the
 * nanosecond (/proc/PID/task/TID/schedstat); from /proc/PID/stat's clock
 * ticks (10 ms steps) where schedstat is missing.
 */
export function cpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1e9;
  } catch {
    /* no schedstat: ticks below */
  }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3]: utime 14, stime 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return (utime + stime) / clockTicks();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
