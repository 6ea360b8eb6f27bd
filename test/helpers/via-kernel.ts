/**
 * An analyzer fed kernel records (PayloadChunk) through the kernel adapter
 * (src/sources/kernel/payload-segments, with the records' own times), as
 * the live commands feed it: unit tests keep writing the records the kernel
 * sends.
 */
import type { Datagram, Segment } from '../../src/model/segment';
import type { PayloadChunk } from '../../src/events/sock-payload';
import { KernelSegments } from '../../src/sources/kernel/payload-segments';

type Pushes<R> = { push(x: Segment | Datagram): R };

export function viaKernel<R, A extends Pushes<R>>(
  a: A,
): Omit<A, 'push'> & { push(c: PayloadChunk): R; source: KernelSegments } {
  const source = new KernelSegments();
  const push = (c: PayloadChunk): R => {
    const x = source.push(c);
    return x ? a.push(x) : ([] as unknown as R);
  };
  return new Proxy(a, {
    get(t, p) {
      if (p === 'push') return push;
      if (p === 'source') return source;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  }) as unknown as Omit<A, 'push'> & { push(c: PayloadChunk): R; source: KernelSegments };
}
