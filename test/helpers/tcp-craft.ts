/**
 * TCP the kernel would not send by itself (test/fixtures/tcp-craft.py), in
 * a namespace pair: a user-space client in namespace a, from an address no
 * interface has (b's answers reach a's veth and are dropped there, so no RST
 * ends the connection), and a TCP Fast Open client. The steps are the
 * fixture's (see its doc).
 */
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { NetnsPair } from './netns';
import { FIXTURES } from './paths';
import { run } from './proc';

const CRAFT = path.join(FIXTURES, 'tcp-craft.py');

export type CraftStep =
  | { syn: string }
  | { ack: true }
  | { data: string; off: number; fin?: boolean; repeat?: number }
  | { sleep: number }
  | { expect: number }
  | { answers: number }
  | { rst: true };

export interface CraftPeer {
  /** The client's address (in a's subnet, on no interface). */
  addr: string;
  /** Runs the steps against b's addrB:port; resolves with the client's port and the peer's bytes. */
  run(port: number, steps: CraftStep[]): Promise<{ sport: number; received: Buffer }>;
}

function mac(ns: string, dev: string): string {
  const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', dev], { encoding: 'utf8' })) as {
    address: string;
  }[];
  return links[0]!.address;
}

/** A user-space TCP client in `ns.a`, with b told where its address is. */
export function craftPeer(ns: NetnsPair): CraftPeer {
  const addr = ns.addrA.replace(/\.1$/, '.3');
  execFileSync('ip', [
    '-n',
    ns.b,
    'neigh',
    'replace',
    addr,
    'lladdr',
    mac(ns.a, ns.devA),
    'dev',
    ns.devB,
    'nud',
    'permanent',
  ]);
  const macB = mac(ns.b, ns.devB);
  return {
    addr,
    async run(port, steps) {
      const r = await run(
        'ip',
        [
          'netns',
          'exec',
          ns.a,
          'python3',
          CRAFT,
          'raw',
          ns.devA,
          addr,
          ns.addrB,
          macB,
          String(port),
          JSON.stringify(steps),
        ],
        20_000,
      );
      if (r.code !== 0) throw new Error(`tcp-craft raw: exit ${r.code}: ${r.stderr}${r.stdout}`);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { sport?: number; received?: string });
      const sport = lines.find((l) => l.sport !== undefined)?.sport ?? -1;
      return { sport, received: Buffer.from(lines.at(-1)?.received ?? '', 'hex') };
    },
  };
}

/** Sets a sysctl inside a namespace. */
export function nsSysctl(ns: string, key: string, value: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** DNS-over-TCP messages (hex, length-prefixed) from a TFO client in `ns`: the first in the SYN. */
export async function tfoClient(
  ns: string,
  addr: string,
  port: number,
  messages: string[],
): Promise<{ answers: number; local: number }> {
  const r = await run('ip', ['netns', 'exec', ns, 'python3', CRAFT, 'tfo', addr, String(port), ...messages], 20_000);
  if (r.code !== 0) throw new Error(`tcp-craft tfo: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { answers: number; local: number };
}
