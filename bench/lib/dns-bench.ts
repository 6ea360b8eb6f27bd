/**
 * What `wirelens dns` costs a resolver on loopback, and whether it misses
 * anything: a small Node UDP client sends N queries (at most WINDOW waiting
 * at once) to dnsmasq on 127.0.0.1 and reports queries/s; with nothing
 * attached and with `wirelens dns --port P --json`, alternating per round.
 * wirelens must report every transaction from both ends (2 N records) with
 * nothing lost.
 */
import { freeDnsPort } from '../../test/helpers/ports';
import { cpuSeconds, describeExit, Proc } from './proc';
import { parseStopLine, startWirelens } from './wirelens';
import { median } from './stats';
import { fixed, formatTable, int } from './table';

export const DNS_QUERIES = 20_000;
const WINDOW = 32;

/** The client: N queries for NAME, WINDOW in flight, ids 0..N-1 mod 65536; prints "answered A in MS". */
const CLIENT = `
const dgram = require('node:dgram');
const [port, n, win] = process.argv.slice(1).map(Number);
const name = [5, ...Buffer.from('bench'), 4, ...Buffer.from('test'), 0];
const s = dgram.createSocket('udp4');
let sent = 0, answered = 0;
const t0 = process.hrtime.bigint();
function send() {
  const id = sent++ & 0xffff;
  s.send(Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1]), port, '127.0.0.1');
}
s.on('message', () => {
  answered++;
  if (sent < n) send();
  else if (answered === n) {
    console.log('answered ' + answered + ' in ' + (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1));
    s.close();
  }
});
s.bind(0, '127.0.0.1', () => { for (let i = 0; i < Math.min(win, n); i++) send(); });
setTimeout(() => { console.log('answered ' + answered + ' of ' + n + ': gave up'); process.exit(1); }, 60000).unref();
`;

async function queries(port: number, n: number): Promise<number> {
  const p = new Proc('dns client', process.execPath, ['-e', CLIENT, String(port), String(n), String(WINDOW)], {
    stdout: 'pipe',
  });
  const exit = await p.done;
  const m = /answered (\d+) in ([\d.]+)/.exec(p.stdout);
  if (exit.code !== 0 || !m || Number(m[1]) !== n)
    throw new Error(`dns client failed (${describeExit(exit)}): ${p.stdout}${p.tail()}`);
  return (1000 * n) / Number(m[2]);
}

interface Seen {
  records: number;
  lost: number;
  stderr: string;
  /** wirelens's CPU time per query (both ends' records), in us. */
  cpuUs: number;
}

export async function dnsBench(rounds: number, log: (l: string) => void): Promise<string> {
  const port = await freeDnsPort();
  const dnsmasq = new Proc(
    'dnsmasq',
    'dnsmasq',
    [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--pid-file=',
      '--cache-size=0',
      '--address=/bench.test/10.0.0.1',
    ],
    { stdout: 'null' },
  );
  const rates: Record<'none' | 'wirelens dns' | 'kernel part', number[]> = {
    none: [],
    'wirelens dns': [],
    'kernel part': [],
  };
  const seen: Seen[] = [];
  try {
    await dnsmasq.waitForStderr(/started, version/, 10_000);
    await queries(port, 1000); // warm up
    for (let round = 1; round <= rounds; round++) {
      rates.none.push(await queries(port, DNS_QUERIES));
      const { proc } = await startWirelens(['dns', '--port', String(port), '--json']);
      let qps: number;
      let cpuUs = NaN;
      let exit: Awaited<ReturnType<typeof proc.stop>>;
      try {
        const cpu0 = cpuSeconds(proc.pid);
        qps = await queries(port, DNS_QUERIES);
        await new Promise((r) => setTimeout(r, 300)); // the last records through the ring
        cpuUs = ((cpuSeconds(proc.pid) - cpu0) * 1e6) / DNS_QUERIES;
      } finally {
        exit = await proc.stop('SIGINT', 15_000);
      }
      if (exit.killed || exit.code !== 0)
        throw new Error(`${proc.name} did not stop cleanly (${describeExit(exit)})${proc.tail()}`);
      const s = parseStopLine(proc.stderr);
      if (!s) throw new Error(`wirelens dns: no stop line${proc.tail()}`);
      rates['wirelens dns'].push(qps);
      seen.push({ records: s.records, lost: s.lost, stderr: proc.stderr, cpuUs });
      // The kernel's part alone: every datagram tested and dropped by a --comm no process has.
      const k = await startWirelens(['dns', '--port', String(port), '--comm', 'wl-bench-none', '--json']);
      try {
        rates['kernel part'].push(await queries(port, DNS_QUERIES));
      } finally {
        await k.proc.stop('SIGINT', 15_000);
      }
      log(
        `dns round ${round}/${rounds}: none ${rates.none.at(-1)!.toFixed(0)} q/s, wirelens dns ${qps.toFixed(0)} q/s ` +
          `(${s.records} records, ${s.lost} lost), kernel part ${rates['kernel part'].at(-1)!.toFixed(0)} q/s`,
      );
    }
  } finally {
    await dnsmasq.stop('SIGTERM', 5000);
  }
  const base = median(rates.none)!;
  const med = median(rates['wirelens dns'])!;
  const expected = 2 * DNS_QUERIES;
  const complete = seen.filter((s) => s.records === expected && s.lost === 0).length;
  const timeouts = seen.map((s) => Number(/(\d+) timed out/.exec(s.stderr)?.[1] ?? NaN));
  const rows = [
    ['none', int(base), '-', rates.none.map((r) => r.toFixed(0)).join(' '), ''],
    [
      'wirelens dns',
      int(med),
      fixed((100 * (base - med)) / base, 1, '%'),
      rates['wirelens dns'].map((r) => r.toFixed(0)).join(' '),
      `records ${seen.map((s) => s.records).join(' ')} (expected ${expected}), lost ${seen.map((s) => s.lost).join(' ')}, ` +
        `timeouts ${timeouts.join(' ')}; wirelens CPU ${fixed(median(seen.map((s) => s.cpuUs)), 1)} us per query`,
    ],
    [
      'kernel part',
      int(median(rates['kernel part'])),
      fixed((100 * (base - median(rates['kernel part'])!)) / base, 1, '%'),
      rates['kernel part'].map((r) => r.toFixed(0)).join(' '),
      'wirelens dns with every record dropped in the kernel (--comm no process has)',
    ],
  ];
  return [
    `wirelens dns: ${int(DNS_QUERIES)} UDP queries to dnsmasq on 127.0.0.1 (${WINDOW} in flight) x ${rounds} rounds, modes alternating`,
    formatTable(['mode', 'queries/s (median)', 'cost', 'runs (q/s)', 'notes'], rows, [
      'left',
      'right',
      'right',
      'left',
      'left',
    ]),
    `dns: ${complete} of ${rounds} runs reported every transaction from both ends (${expected} records) with 0 lost`,
  ].join('\n');
}
