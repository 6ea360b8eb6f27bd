/**
 * The V8 heap for a record stream. A command that turns tens of thousands of
 * kernel records a second into lines allocates young objects at that rate;
 * V8 starts its young generation small and grows and shrinks it as it goes,
 * and on a hypervisor where every page it maps again faults dearly, that
 * churn (not the work itself) made `wirelens http` fall behind its ring
 * buffer. A fixed young generation of `mb` MiB per semi-space stops the
 * churn. Set before the stream starts; V8 applies it at its next collection.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

export function fixYoungGeneration(mb: number): void {
  v8.setFlagsFromString(`--min-semi-space-size=${mb}`);
  v8.setFlagsFromString(`--max-semi-space-size=${mb}`);
}

/**
 * For a long capture, called by bin/wirelens.js before the program loads
 * (V8 schedules the reducer as the modules load): V8's memory
 * reducer would collect the start's garbage (the BPF object's BTF, libpcap's
 * programs, the hook plan) in two or three full collections 8 to 16 s into
 * the capture, 30 to 60 ms of CPU in all (measured at 25,000 packets/s on
 * this hypervisor: a third of what the capture spent per packet in that
 * time), with a pause that can let the ring fill. Turned off here;
 * collectStartGarbage() collects it once instead, before the first packet.
 * The heap keeps the size it had at start (~15 MB).
 */
export function holdStartHeap(): void {
  v8.setFlagsFromString(`--gc-memory-reducer-start-delay-ms=${2 ** 31 - 1}`);
}

/** One full collection now (see holdStartHeap), before the first packet. */
export function collectStartGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  if (typeof gc === 'function') (gc as () => void)();
}
