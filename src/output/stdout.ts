/**
 * The one owner of process.stdout. Every command writes through here, and
 * nothing else listens for stdout's errors: one permanent 'error' handler,
 * installed at the first write or subscription, turns a closed reader
 * (`| head -1`, EPIPE) into the command's clean stop, and every later write
 * is dropped. Without it, a write after a command removed its own handler
 * (the last records flushed at stop, top's last snapshot) raised the error
 * with no listener: an uncaught exception, exit 70.
 */

type CloseListener = (why: string) => void;

let installed = false;
let closedWhy: string | undefined;
const listeners = new Set<CloseListener>();

function onError(e: NodeJS.ErrnoException): void {
  if (closedWhy !== undefined) return;
  closedWhy =
    e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' ? 'stdout closed' : `stdout: ${e.code ?? e.message}`;
  for (const f of [...listeners]) f(closedWhy);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', onError);
}

/** Writes text to stdout; dropped once stdout is closed. */
export function writeOut(text: string): void {
  install();
  if (closedWhy !== undefined) return;
  process.stdout.write(text);
}

/** Writes bytes to stdout (pcapng for `capture -w -`); dropped once stdout is closed. */
export function writeOutBytes(bytes: Uint8Array): void {
  install();
  if (closedWhy !== undefined) return;
  process.stdout.write(bytes);
}

/**
 * Calls `f` once when stdout closes (or fails), with the stop reason:
 * "stdout closed" for a reader that went away. At once when it already has.
 * Returns the unsubscribe function.
 */
export function onStdoutClosed(f: CloseListener): () => void {
  install();
  if (closedWhy !== undefined) {
    const why = closedWhy;
    queueMicrotask(() => f(why));
    return () => undefined;
  }
  listeners.add(f);
  return () => void listeners.delete(f);
}

/** Bytes written but not yet taken by the reader. */
export function stdoutBacklog(): number {
  return process.stdout.writableLength;
}

/** Text lines are fitted to this many columns when stdout is not a terminal and $COLUMNS is not set. */
export const DEFAULT_COLUMNS = 80;

/** The width human lines are laid out for: the terminal's; else $COLUMNS; else 80 (as ps does). */
export function outputColumns(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_COLUMNS;
}

/** The width of the terminal `stream` writes to; undefined when it is a pipe or a file. */
export function terminalColumns(stream: NodeJS.WriteStream): number | undefined {
  return stream.isTTY && stream.columns > 0 ? stream.columns : undefined;
}
