/**
 * Entry point: dispatch to a command, map every error to one line with its
 * remedy and an exit status. Usage errors exit 2: the error, and a remedy
 * line naming --help (the usage itself is long; --help shows it).
 */
import { EXIT_STATUS, UsageError, WlError } from '../errors';
import { doctorCommand } from './doctor';
import { tcpCommand } from './tcp';
import { httpCommand } from './http';
import { topCommand } from './top';
import { dnsCommand } from './dns';
import { tlsCommand } from './tls';
import { writeOut } from '../output/stdout';
import { captureCommand } from './capture';
import { guardCommand } from './guard';

const VERSION = '0.1.0';

const COMMANDS: Record<string, { run: (argv: string[]) => number | Promise<number>; about: string }> = {
  tcp: {
    run: tcpCommand,
    about: 'TCP connections opening and closing, with process, duration and bytes',
  },
  http: {
    run: httpCommand,
    about: 'HTTP/1.x exchanges with both processes, URL, status, latency, bytes',
  },
  top: {
    run: topCommand,
    about: 'live traffic per process, remote, port, protocol and interface, counted in the kernel',
  },
  dns: {
    run: dnsCommand,
    about: 'DNS transactions with both processes, names, types, answers, rcode, latency',
  },
  tls: {
    run: tlsCommand,
    about: 'TLS handshakes with both processes: SNI, ALPN and versions offered, version and cipher chosen',
  },
  capture: {
    run: captureCommand,
    about: "tcpdump's job: a pcap-filter expression run in the kernel, the process on every packet, pcapng",
  },
  guard: {
    run: guardCommand,
    about: 'SYN floods, port scans and floods from one source or many, from kernel counters; opt-in --block',
  },
  doctor: {
    run: doctorCommand,
    about: 'check this machine and show which hooks wirelens uses',
  },
};

export const MAIN_HELP = `wirelens ${VERSION}: eBPF network monitor and protocol analyzer

usage: wirelens <command> [options]     (wirelens <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.about}`)
  .join('\n')}

wirelens needs root. Start with \`wirelens doctor\`.`;

/** Where the options of `command` (or the commands) are listed. */
function helpFor(command: string | undefined): string {
  return command && COMMANDS[command]
    ? `wirelens ${command} --help lists its options`
    : 'wirelens --help lists the commands';
}

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      writeOut(MAIN_HELP + '\n');
      return 0;
    }
    if (command === '--version' || command === 'version') {
      writeOut(`wirelens ${VERSION}\n`);
      return 0;
    }
    const cmd = COMMANDS[command];
    if (!cmd) throw new UsageError(`unknown command "${command}"`);
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`wirelens: error: ${e.message}\nwirelens: remedy: ${helpFor(command)}\n`);
      return EXIT_STATUS.WL_ERR_USAGE;
    }
    if (e instanceof WlError) {
      process.stderr.write(`wirelens: error: ${e.message}\n`);
      if (e.remedy) process.stderr.write(`wirelens: remedy: ${e.remedy}\n`);
      if (process.env.WIRELENS_DEBUG && e.cause) {
        const c = e.cause as { stack?: string; libbpfLog?: string; cause?: { libbpfLog?: string } };
        process.stderr.write(`${String(c.stack ?? e.cause)}\n`);
        const log = c.libbpfLog ?? c.cause?.libbpfLog;
        if (log) process.stderr.write(`libbpf:\n${log}\n`);
      }
      return EXIT_STATUS[e.code];
    }
    process.stderr.write(`wirelens: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.stderr.write('wirelens: remedy: this is a bug; rerun with WIRELENS_DEBUG=1 and report the output\n');
    if (process.env.WIRELENS_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return EXIT_STATUS.WL_ERR_INTERNAL;
  }
}

export function main(argv: string[]): void {
  // Last resort: a bug must still end in one line and a status, not a stack
  // dump; attached programs are released by the kernel when we exit.
  process.on('uncaughtException', (e) => {
    process.stderr.write(`wirelens: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.stderr.write('wirelens: remedy: this is a bug; rerun with WIRELENS_DEBUG=1 and report the output\n');
    if (process.env.WIRELENS_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(70);
  });
  run(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`wirelens: internal error: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
