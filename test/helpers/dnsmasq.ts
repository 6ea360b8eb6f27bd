/**
 * dnsmasq on 127.0.0.1 and ::1 (or given addresses, in a given network
 * namespace) at a port of its own, answering only from
 * the records the test gives: no upstream (--no-resolv), no /etc/hosts, and
 * *.test names it does not know get NXDOMAIN (--local=/test/). Stopped by
 * the test, and on exit if the test did not get that far.
 */
import { Spawned, start, stop, waitFor } from './proc';

export interface TestDnsmasq {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface DnsmasqWhere {
  /** Addresses to listen on (default 127.0.0.1 and ::1). */
  listen?: string[];
  /** A network namespace to run in (`ip netns exec`). */
  netns?: string;
}

/** Starts dnsmasq at `port` with `records` (its own flags, e.g. --host-record=...); resolves once it serves. */
export async function startDnsmasq(port: number, records: string[], where: DnsmasqWhere = {}): Promise<TestDnsmasq> {
  const args = [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-interfaces',
    `--listen-address=${(where.listen ?? ['127.0.0.1', '::1']).join(',')}`,
    `--port=${port}`,
    '--pid-file=',
    '--cache-size=0',
    '--local=/test/',
    ...records,
  ];
  // `ip netns exec` execs dnsmasq in place: the pid is dnsmasq's.
  const proc: Spawned = where.netns
    ? start('ip', ['netns', 'exec', where.netns, 'dnsmasq', ...args])
    : start('dnsmasq', args);
  try {
    await waitFor(proc.stderr, /started, version/, 10_000, 'dnsmasq to start');
  } catch (e) {
    await stop(proc, 'SIGKILL');
    throw e;
  }
  return {
    port,
    pid: proc.child.pid!,
    async stop() {
      await stop(proc, 'SIGTERM');
    },
  };
}
