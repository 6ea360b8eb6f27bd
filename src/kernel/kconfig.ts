/**
 * The running kernel's build configuration, when it can be read:
 * /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-$(uname -r).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';

export interface KernelConfig {
  /** Where it was read. */
  source: string;
  /** CONFIG_X -> 'y' | 'm' | value; absent when not set. */
  values: Map<string, string>;
}

export function parseKernelConfig(text: string, source: string): KernelConfig {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)) values.set(m[1]!, m[2]!);
  return { source, values };
}

let cached: KernelConfig | null | undefined;

export function readKernelConfig(): KernelConfig | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const [path, gz] of [
    ['/proc/config.gz', true],
    [`/boot/config-${os.release()}`, false],
  ] as const) {
    try {
      const raw = fs.readFileSync(path);
      cached = parseKernelConfig((gz ? zlib.gunzipSync(raw) : raw).toString('utf8'), path);
      break;
    } catch {
      /* not there or unreadable: next */
    }
  }
  return cached;
}

/** Kernel release as [major, minor] ("6.18.44-fc" -> [6, 18]). */
export function releaseVersion(release = os.release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Whether release is at least "X.Y". */
export function atLeast(min: string, release = os.release()): boolean {
  const [a, b] = releaseVersion(release);
  const [x, y] = min.split('.').map(Number) as [number, number];
  return a > x || (a === x && b >= (y ?? 0));
}
