/** The signals that stop a command cleanly (detached, summary printed) rather than kill it. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** `onStop(signal)` runs on each stop signal from now on; the function returned removes the handlers. */
export function catchStopSignals(onStop: (sig: NodeJS.Signals) => void): () => void {
  const handler = (sig: NodeJS.Signals): void => onStop(sig);
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/** What a read loop races its next chunk with: a stop also ends a wait for input (a pipe may stay quiet). */
export const STOPPED = Symbol('stopped');

/** A stop asked for (a signal, -c, --duration, stdout closed): the first reason, and a promise a wait can race. */
export class StopRequest {
  why: string | undefined;
  readonly stopped: Promise<typeof STOPPED>;
  private wake: () => void = () => undefined;

  constructor() {
    this.stopped = new Promise((resolve) => (this.wake = () => resolve(STOPPED)));
  }

  stop(why: string): void {
    this.why ??= why;
    this.wake();
  }
}
