/** Runs the real CLI as a user would, and reads its --json lines. */
import { CLI } from './paths';

/** One --json record. */
export type Rec = Record<string, unknown>;

/** The records whose fields equal every field of `where`. */
export function pick(recs: Rec[], where: Rec): Rec[] {
  return recs.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
}
import { Spawned, start, stop, waitFor } from './proc';

export interface WirelensRun {
  proc: Spawned;
  /** Stops it (SIGINT) and returns the parsed JSON records and the stderr summary. */
  finish(): Promise<{ records: Record<string, unknown>[]; stderr: string; code: number | null }>;
}

export async function startWirelens(args: string[]): Promise<WirelensRun> {
  const proc = start(process.execPath, [CLI, ...args, '--json', '-v']);
  try {
    await waitFor(proc.stderr, /attached in/, 15000, 'wirelens to attach');
  } catch (e) {
    await stop(proc, 'SIGKILL');
    throw e;
  }
  // One stop and one parse however often finish() is called (tests call it again in finally).
  let finished: ReturnType<WirelensRun['finish']> | undefined;
  const finish = async (): ReturnType<WirelensRun['finish']> => {
    // Let the last events through the ring before stopping.
    await new Promise((r) => setTimeout(r, 300));
    const code = await stop(proc, 'SIGINT');
    const records = proc
      .stdout()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { records, stderr: proc.stderr(), code };
  };
  return {
    proc,
    finish() {
      finished ??= finish();
      return finished;
    },
  };
}
