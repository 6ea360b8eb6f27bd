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
