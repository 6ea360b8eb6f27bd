/** Fixture servers (test/fixtures/*.js) and commands, optionally inside a test network namespace. */
import { Spawned, start, waitFor } from './proc';

/** argv run inside network namespace `ns` (as is when undefined). */
export function inNetns(ns: string | undefined, argv: string[]): string[] {
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
}

export function startIn(ns: string | undefined, argv: string[]): Spawned {
  const full = inNetns(ns, argv);
  return start(full[0]!, full.slice(1));
}

/** Starts a fixture server (`node SCRIPT ...args`) and waits for its "listening PORT" line. */
export async function startFixtureServer(
  script: string,
  args: string[],
  ns?: string,
): Promise<{ srv: Spawned; port: number }> {
  const srv = startIn(ns, [process.execPath, script, ...args]);
  const m = await waitFor(srv.stdout, /listening (\d+)/, 10000, `${script} to listen`);
  return { srv, port: Number(m[1]) };
}
