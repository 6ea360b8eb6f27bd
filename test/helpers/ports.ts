/** A port free right now (tests and benches bind it next). */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';

export interface FreePortOptions {
  /** Free for UDP too. */
  udp?: boolean;
  /** Free on these hosts too (e.g. '::1'). */
  alsoOn?: string[];
}

/** Whether `port` can be bound now (then released) by a TCP listener or a UDP socket on `host`. */
function bindable(kind: 'tcp' | 'udp', port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'tcp') {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    } else {
      const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind(port, host, () => s.close(() => resolve(true)));
    }
  });
}

/** The first port of the local ephemeral range (what connect() and bind(0) pick from). */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port free on `host` right now. Without options: one the kernel picks
 * for a TCP listener. With options: one below the ephemeral range (so no
 * outgoing connection takes it between the check and its use), checked free
 * for TCP, and UDP if asked, on `host` and every `alsoOn` host.
 */
export async function freePort(host = '127.0.0.1', o?: FreePortOptions): Promise<number> {
  if (!o) {
    return new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
  }
  const high = ephemeralLow();
  const low = high > 12000 ? 10000 : 1025;
  const hosts = [host, ...(o.alsoOn ?? [])];
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    let ok = true;
    for (const h of hosts) {
      ok = (await bindable('tcp', port, h)) && (!o.udp || (await bindable('udp', port, h)));
      if (!ok) break;
    }
    if (ok) return port;
  }
  throw new Error(`no port free on ${hosts.join(', ')} below ${high}`);
}

/** A port for a DNS server on loopback: free for TCP and UDP on 127.0.0.1 and ::1. */
export function freeDnsPort(): Promise<number> {
  return freePort('127.0.0.1', { udp: true, alsoOn: ['::1'] });
}
