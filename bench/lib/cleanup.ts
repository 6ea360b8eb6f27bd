/**
 * Last-resort cleanup: whatever the bench started (processes, temp dirs) is
 * registered here and undone synchronously on exit, Ctrl-C or SIGTERM, even
 * when a run fails half way.
 */
type Undo = () => void;

const pending = new Map<number, Undo>();
let nextId = 1;
let installed = false;

/** Register a synchronous undo action; returns a function that unregisters it. */
export function onCleanup(undo: Undo): () => void {
  install();
  const id = nextId++;
  pending.set(id, undo);
  return () => void pending.delete(id);
}

/** Run every registered action now (newest first); errors are ignored. */
export function cleanupAll(): void {
  const undos = [...pending.values()].reverse();
  pending.clear();
  for (const undo of undos) {
    try {
      undo();
    } catch {
      // best effort: keep undoing the rest
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  const onSignal = (sig: NodeJS.Signals, code: number): void => {
    process.stderr.write(`\nbench: ${sig}: stopping spawned processes and removing temp dirs\n`);
    cleanupAll();
    process.exit(code);
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
}
