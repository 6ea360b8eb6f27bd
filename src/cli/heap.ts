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

export function fixYoungGeneration(mb: number): void {
  v8.setFlagsFromString(`--min-semi-space-size=${mb}`);
  v8.setFlagsFromString(`--max-semi-space-size=${mb}`);
}
