/**
 * Picking hooks for this kernel. A probe family declares slots (what it
 * needs hooked) with candidates in order of preference; every candidate whose
 * kind is usable here is loaded, then each slot attaches the first candidate
 * that attaches. A candidate that fails to load (a helper or a BTF target
 * this kernel lacks) is dropped and the object is opened and loaded again.
 * Fallback happens only when a kind is unsupported or a candidate fails, and
 * every choice is reported for --verbose.
 */
import { WlError, wrapNative } from '../errors';
import { Features, HookKind } from './features';
import { AttachTarget } from './native';
import { BpfObject } from './object';

export interface HookCandidate {
  kind: HookKind;
  /** Programs attached together (e.g. accept and accept4 tracepoints). */
  programs: string[];
  target?: AttachTarget;
  /** Attaches one program where a single target does not do (e.g. on several interfaces). */
  attach?: (obj: BpfObject, program: string) => { close(): void };
}

export interface HookSlot {
  slot: string;
  candidates: HookCandidate[];
  /** Without it the family cannot work; otherwise it degrades with a warning. */
  required: boolean;
  /** What is lost when an optional slot cannot attach. */
  degraded?: string;
}

export interface HookChoice {
  slot: string;
  kind: HookKind | 'none';
  programs: string[];
  skipped: { kind: HookKind; reason: string }[];
  /** What is lost when nothing is hooked (the slot's degraded). */
  degraded?: string;
  /** Preferred kinds not tried because --hooks fallback asked for the portable path only. */
  leftOut?: HookKind[];
}

/** 'auto': preferred first. 'fallback': only each slot's last (most portable) candidate, for testing the fallback path. */
export type HookMode = 'auto' | 'fallback';

export function candidatesFor(slot: HookSlot, mode: HookMode): HookCandidate[] {
  return mode === 'fallback' ? slot.candidates.slice(-1) : slot.candidates;
}

/** The program libbpf names in its log when a load fails, if any. */
function failedProgram(e: unknown): string | undefined {
  const log =
    (e as { cause?: { libbpfLog?: string }; libbpfLog?: string }).cause?.libbpfLog ??
    (e as { libbpfLog?: string }).libbpfLog ??
    '';
  // "failed to load" (verifier) or "failed to find kernel BTF type ID" (no such hook here).
  return /prog '([^']+)': failed to (?:load|find)/.exec(log)?.[1];
}

const MAX_LOAD_ATTEMPTS = 6;

function errnoOf(e: unknown): number | undefined {
  return (e as { cause?: { errno?: number } }).cause?.errno ?? (e as { errno?: number }).errno;
}

/**
 * Opens (with `open`, which also configures), loads and attaches one
 * candidate per slot. Throws WL_ERR_NO_HOOK when a required slot has nothing
 * that loads and attaches. The caller owns the returned object.
 */
export function loadAndAttach(
  open: () => BpfObject,
  slots: HookSlot[],
  features: Features,
  mode: HookMode,
): { obj: BpfObject; choices: HookChoice[] } {
  const dropped = new Map<HookCandidate, string>();
  let firstLoadError: unknown;
  for (let attempt = 1; ; attempt++) {
    const skipped = new Map<HookSlot, { kind: HookKind; reason: string }[]>(slots.map((s) => [s, []]));
    const wanted = new Set<string>();
    for (const s of slots) {
      for (const c of candidatesFor(s, mode)) {
        const sup = features.get(c.kind);
        const why = sup.state === 'unsupported' ? sup.reason : dropped.get(c);
        if (why !== undefined) skipped.get(s)!.push({ kind: c.kind, reason: why });
        else c.programs.forEach((p) => wanted.add(p));
      }
    }
    const obj = open();
    try {
      for (const p of obj.programs()) obj.setAutoload(p, wanted.has(p));
      obj.load();
    } catch (e) {
      obj.close();
      // EAGAIN: the verifier gave up because a signal was pending (a
      // profiler's SIGPROF, a Ctrl-C being delivered): the same load again.
      if (errnoOf(e) === 11) {
        if (attempt < MAX_LOAD_ATTEMPTS) continue;
        throw new WlError(
          'WL_ERR_LIBBPF',
          `the kernel's verifier was interrupted by signals ${MAX_LOAD_ATTEMPTS} times while loading ${obj.name}`,
          {
            remedy: 'run it again; if a profiler or a tight timer sends signals to wirelens, lower its sampling rate',
            cause: e,
          },
        );
      }
      const prog = failedProgram(e);
      const cand = prog
        ? slots.flatMap((s) => candidatesFor(s, mode)).find((c) => c.programs.includes(prog))
        : undefined;
      if (!cand || dropped.has(cand) || attempt >= MAX_LOAD_ATTEMPTS) throw e;
      dropped.set(cand, `load failed: ${(e as Error).message.replace(/^.*?: /, '')}`);
      firstLoadError ??= e;
      continue;
    }
    try {
      return { obj, choices: attachSlots(obj, slots, mode, wanted, skipped) };
    } catch (e) {
      obj.close();
      // Keep the verifier's words of the first candidate that failed to load.
      if (e instanceof WlError && e.cause === undefined && firstLoadError !== undefined) {
        throw new WlError(e.code, e.message, { remedy: e.remedy ?? '', cause: firstLoadError });
      }
      throw e;
    }
  }
}

function attachSlots(
  obj: BpfObject,
  slots: HookSlot[],
  mode: HookMode,
  wanted: Set<string>,
  skipped: Map<HookSlot, { kind: HookKind; reason: string }[]>,
): HookChoice[] {
  const choices: HookChoice[] = [];
  for (const s of slots) {
    const choice: HookChoice = { slot: s.slot, kind: 'none', programs: [], skipped: skipped.get(s)! };
    if (s.degraded) choice.degraded = s.degraded;
    const tried = candidatesFor(s, mode);
    if (tried.length < s.candidates.length)
      choice.leftOut = s.candidates.slice(0, s.candidates.length - tried.length).map((c) => c.kind);
    for (const c of candidatesFor(s, mode)) {
      if (!c.programs.every((p) => wanted.has(p))) continue;
      const attached: { close(): void }[] = [];
      try {
        for (const p of c.programs) attached.push(c.attach ? c.attach(obj, p) : obj.attach(p, c.target));
        choice.kind = c.kind;
        choice.programs = c.programs;
        break;
      } catch (e) {
        for (const l of attached) l.close();
        if (e instanceof WlError && e.code === 'WL_ERR_USAGE') throw e; // the user's request, not the hook kind, is the problem
        choice.skipped.push({ kind: c.kind, reason: wrapNative('attach', e).message });
      }
    }
    if (choice.kind === 'none' && s.required) {
      const tried = choice.skipped.map((k) => `${k.kind}: ${k.reason}`).join('; ');
      throw new WlError('WL_ERR_NO_HOOK', `no way to hook ${s.slot} on this kernel (${tried})`, {
        remedy:
          'run `wirelens doctor` to see which hook kinds this kernel offers; a kernel with BTF and tracepoints (5.8+) is needed',
      });
    }
    choices.push(choice);
  }
  return choices;
}

export function describeChoice(c: HookChoice): string {
  const skipped = c.skipped.map((s) => `${s.kind} (${s.reason})`).join(', ');
  const chosen = c.kind === 'none' ? 'NOT HOOKED' : `${c.kind} [${c.programs.join(', ')}]`;
  const left = c.leftOut?.length ? `; left out by --hooks fallback: ${c.leftOut.join(', ')}` : '';
  return `${c.slot}: ${chosen}${skipped ? `; skipped ${skipped}` : ''}${left}`;
}

/** The warning for a slot left unhooked: why, and whether --hooks fallback is the reason. */
export function unhookedWarning(c: HookChoice): string {
  const why = c.skipped.map((s) => `${s.kind}: ${s.reason}`).join('; ');
  const lost = c.degraded ? `; ${c.degraded}` : '';
  if (c.leftOut?.length) {
    const tried = c.skipped.map((s) => s.kind).join(', ') || 'its last hook';
    return (
      `${c.slot} not hooked: --hooks fallback tries only ${tried} for it (${c.leftOut.join(', ')} left out as asked), ` +
      `and this kernel refuses that (${c.skipped.map((s) => s.reason).join('; ')})${lost}`
    );
  }
  return `${c.slot} could not be hooked on this kernel (${why})${lost}`;
}
