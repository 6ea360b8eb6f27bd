/**
 * `wirelens guard`'s words about what it watches: the start line, a watched
 * interface that is down, gone or up again (a note on stderr; with --json
 * also an `interface` event on stdout), and --allow that makes --block do
 * nothing. Interface names are escaped here (escapeTerminal).
 */
import { escapeTerminal } from '../text/sanitize';
import { Clock } from './clock';

export type IfaceState = 'up' | 'down' | 'gone';

/** "lo, veth0" (escaped). */
export function ifaceNames(names: string[]): string {
  return names.map(escapeTerminal).join(', ');
}

/** The warning at start for a watched interface that is down: one line, what is lost, the remedy. */
export function downAtStartNote(name: string): string {
  const n = escapeTerminal(name);
  return `guard: warning: ${n} is down: nothing arrives on it, so nothing is counted there until it is up (\`ip link set ${n} up\`; guard notes when it is)`;
}

/** The note when a watched interface changes state while guard runs. */
export function ifaceChangeNote(name: string, state: IfaceState): string {
  const n = escapeTerminal(name);
  switch (state) {
    case 'down':
      return `guard: note: ${n} went down: nothing is counted there until it is up again`;
    case 'up':
      return `guard: note: ${n} is up again: counted as before`;
    case 'gone':
      return `guard: note: ${n} is gone (deleted or moved to another namespace): nothing on it is counted any more; an interface made again under that name is not watched (restart guard to watch it)`;
  }
}

/** The --json event for the same: {ts, event: "interface", interface, ifindex, state}. */
export function ifaceEventJson(name: string, ifindex: number, state: IfaceState, clock: Clock, tNs: number): string {
  return JSON.stringify({
    ts: clock.iso(Math.round(tNs)),
    event: 'interface',
    interface: escapeTerminal(name),
    ifindex,
    state,
  });
}

/** The warning when an --allow prefix holds every address of its family, so --block never blocks it. */
export function allowAllNote(prefix: string, family: 4 | 6): string {
  return `guard: warning: --allow ${escapeTerminal(prefix)} holds every IPv${family} address: --block will block no IPv${family} source (allow narrower prefixes)`;
}
