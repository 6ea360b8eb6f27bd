/**
 * wirelens capture's command line, in tcpdump's habits: short flags cluster
 * (`-nnvX`), repeat to count (`-vv`, `-tttt`), take their value attached or
 * next (`-ilo`, `-i lo`, `-c10`), and the words left over are the filter
 * expression (joined with spaces, as tcpdump joins them). Long flags are
 * wirelens's own (--pid, --comm, --uid, --hooks, --duration, ...).
 */
import { UsageError } from '../errors';
import { HookMode } from '../kernel/hooks';

export interface CaptureOptions {
  ifaces: string[];
  listIfaces: boolean;
  dump: boolean;
  verbose: number;
  linkHeader: boolean;
  quick: boolean;
  /** tcpdump's -t count: 0 time of day, 1 (-t) none, 2 (-tt) epoch, 3 (-ttt) delta, 4 (-tttt) date and time. */
  timeStyle: number;
  ascii: boolean;
  hex: boolean;
  /** Secrets in shown payloads (HTTP lines, -A, -X) masked; --no-redact: as they are. */
  redact: boolean;
  lineBuffered: boolean;
  packetBuffered: boolean;
  count: number | undefined;
  snaplen: number;
  direction: 'in' | 'out' | 'inout';
  immediate: boolean;
  write: string | undefined;
  read: string | undefined;
  fileSizeMB: number | undefined;
  fileCount: number | undefined;
  rotateSeconds: number | undefined;
  bufferKiB: number | undefined;
  pids: number[];
  comm: string | undefined;
  uid: number | undefined;
  /** --cgroup: a cgroup v2 directory (absolute, or relative to the cgroup2 mount). */
  cgroup: string | undefined;
  hookMode: HookMode;
  durationS: number | undefined;
  json: boolean;
  help: boolean;
  expression: string;
}

export const DEFAULT_SNAPLEN = 262144;

interface Spec {
  short?: string;
  long: string;
  value?: string;
  help: string;
}

export const CAPTURE_FLAGS: Spec[] = [
  {
    short: 'i',
    long: 'interface',
    value: 'IFACE',
    help: 'capture frames on IFACE with TC (repeatable; "any": every interface that is up; Ethernet and raw IP devices together: LINUX_SLL2, as tcpdump -i any); without -i, every local socket\'s packets with their process',
  },
  { short: 'D', long: 'list-interfaces', help: 'list the interfaces -i takes' },
  {
    short: 'd',
    long: 'dump',
    help: "print the expression's classic BPF (libpcap) and the eBPF the kernel runs, then exit",
  },
  { short: 'r', long: 'read', value: 'FILE', help: 'read packets from a pcap or pcapng file ("-" for standard input)' },
  {
    short: 'w',
    long: 'write',
    value: 'FILE',
    help: 'write packets to a pcapng file ("-" for standard output), with the process on every packet',
  },
  {
    short: 'C',
    long: 'file-size',
    value: 'MB',
    help: 'with -w: start a new file when this one passes MB million bytes (FILE0, FILE1, ...)',
  },
  {
    short: 'W',
    long: 'file-count',
    value: 'N',
    help: 'with -C: keep at most N files, overwriting the oldest; with -G: stop after N files',
  },
  {
    short: 'G',
    long: 'rotate-seconds',
    value: 'SECONDS',
    help: 'with -w: start a new file every SECONDS (FILE may hold strftime %Y %m %d %H %M %S)',
  },
  { short: 'c', long: 'count', value: 'N', help: 'stop after N packets' },
  {
    short: 's',
    long: 'snaplen',
    value: 'BYTES',
    help: `bytes kept of each packet (0: ${DEFAULT_SNAPLEN}, the default)`,
  },
  {
    short: 'Q',
    long: 'direction',
    value: 'in|out|inout',
    help: 'only packets arriving (in), leaving (out), or both (inout, the default)',
  },
  { short: 'B', long: 'buffer-size', value: 'KiB', help: 'kernel ring buffer size (default 8192 KiB)' },
  { short: 'n', long: 'numeric', help: 'no name resolution (wirelens never resolves names; accepted for habit)' },
  { short: 'v', long: 'verbose', help: 'more detail per packet (repeat for more); also hook choices on stderr' },
  { short: 'e', long: 'link-header', help: 'print the link-level header (MAC addresses, VLAN tags)' },
  { short: 'q', long: 'quick', help: 'less protocol detail per line' },
  {
    short: 't',
    long: 'time',
    help: '-t no time, -tt seconds since 1970, -ttt delta from the previous packet, -tttt date and time',
  },
  { short: 'A', long: 'ascii', help: 'print each packet (less its link header) in ASCII' },
  { short: 'X', long: 'hex', help: 'print each packet (less its link header) in hex and ASCII' },
  {
    long: 'no-redact',
    help: "show payloads' secrets as they are (default: Authorization, Cookie, userinfo and password/token parameters in HTTP lines, -A and -X read '*', byte for byte; -w files keep every byte)",
  },
  { short: 'l', long: 'line-buffered', help: 'flush standard output after each line' },
  { short: 'U', long: 'packet-buffered', help: 'with -w: flush the file after each packet' },
  { short: 'p', long: 'no-promiscuous-mode', help: 'accepted for habit: wirelens never turns promiscuous mode on' },
  { long: 'immediate-mode', help: 'deliver each packet as soon as it is copied (no batching)' },
  { long: 'json', help: 'one JSON object per packet instead of a text line' },
  {
    long: 'pid',
    value: 'PID',
    help: "only packets of these processes' sockets (repeatable or comma list, up to 8; in the kernel)",
  },
  { long: 'comm', value: 'NAME', help: 'only packets of sockets of tasks with this name (in the kernel)' },
  { long: 'uid', value: 'UID', help: 'only packets of sockets of this user (in the kernel)' },
  {
    long: 'cgroup',
    value: 'PATH',
    help: 'only packets of sockets made in this cgroup v2 or below it (a directory, absolute or relative to the cgroup2 mount; in the kernel; not with -i)',
  },
  { long: 'duration', value: 'SECONDS', help: 'stop after SECONDS' },
  {
    long: 'hooks',
    value: 'auto|fallback',
    help: 'auto: cheapest hooks this kernel offers; fallback: the portable path',
  },
  { short: 'h', long: 'help', help: 'show this help' },
];

export function captureHelp(): string {
  const lines = CAPTURE_FLAGS.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${s.value ? ` ${s.value}` : ''}`;
    return `  ${names.padEnd(30)} ${s.help}`;
  });
  return [
    'usage: wirelens capture [options] [EXPRESSION]',
    '',
    "EXPRESSION is tcpdump's pcap-filter(7) syntax, compiled by libpcap and run in the kernel.",
    '',
    ...lines,
  ].join('\n');
}

function int(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} needs a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function num(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} needs a number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

export function parseCaptureArgs(argv: string[]): CaptureOptions {
  const o: CaptureOptions = {
    ifaces: [],
    listIfaces: false,
    dump: false,
    verbose: 0,
    linkHeader: false,
    quick: false,
    timeStyle: 0,
    ascii: false,
    hex: false,
    redact: true,
    lineBuffered: false,
    packetBuffered: false,
    count: undefined,
    snaplen: DEFAULT_SNAPLEN,
    direction: 'inout',
    immediate: false,
    write: undefined,
    read: undefined,
    fileSizeMB: undefined,
    fileCount: undefined,
    rotateSeconds: undefined,
    bufferKiB: undefined,
    pids: [],
    comm: undefined,
    uid: undefined,
    cgroup: undefined,
    hookMode: 'auto',
    durationS: undefined,
    json: false,
    help: false,
    expression: '',
  };
  const words: string[] = [];
  const byShort = new Map(CAPTURE_FLAGS.filter((s) => s.short).map((s) => [s.short!, s]));
  const byLong = new Map(CAPTURE_FLAGS.map((s) => [s.long, s]));

  const apply = (spec: Spec, written: string, value: string | undefined): void => {
    const v = value ?? '';
    switch (spec.long) {
      case 'interface':
        if (o.ifaces.length >= 64) throw new UsageError('-i: at most 64 interfaces');
        o.ifaces.push(v);
        break;
      case 'list-interfaces':
        o.listIfaces = true;
        break;
      case 'dump':
        o.dump = true;
        break;
      case 'read':
        o.read = v;
        break;
      case 'write':
        o.write = v;
        break;
      case 'file-size':
        o.fileSizeMB = num(written, v, 0.001, 1_000_000);
        break;
      case 'file-count':
        o.fileCount = int(written, v, 1, 1_000_000);
        break;
      case 'rotate-seconds':
        o.rotateSeconds = int(written, v, 1, 31_536_000);
        break;
      case 'count':
        o.count = int(written, v, 1, 2 ** 32);
        break;
      case 'snaplen': {
        const n = int(written, v, 0, DEFAULT_SNAPLEN);
        o.snaplen = n === 0 ? DEFAULT_SNAPLEN : n;
        break;
      }
      case 'direction':
        if (v !== 'in' && v !== 'out' && v !== 'inout')
          throw new UsageError(`${written} must be in, out or inout (got "${v}")`);
        o.direction = v;
        break;
      case 'buffer-size':
        o.bufferKiB = int(written, v, 64, 1 << 20);
        break;
      case 'numeric':
      case 'no-promiscuous-mode':
        break;
      case 'verbose':
        o.verbose++;
        break;
      case 'link-header':
        o.linkHeader = true;
        break;
      case 'quick':
        o.quick = true;
        break;
      case 'time':
        o.timeStyle = Math.min(4, o.timeStyle + 1);
        break;
      case 'ascii':
        o.ascii = true;
        break;
      case 'hex':
        o.hex = true;
        break;
      case 'line-buffered':
        o.lineBuffered = true;
        break;
      case 'packet-buffered':
        o.packetBuffered = true;
        break;
      case 'immediate-mode':
        o.immediate = true;
        break;
      case 'no-redact':
        o.redact = false;
        break;
      case 'json':
        o.json = true;
        break;
      case 'pid':
        for (const p of v.split(',')) {
          o.pids.push(int(written, p, 1, 4194304));
          if (o.pids.length > 8) throw new UsageError('--pid: at most 8 processes');
        }
        break;
      case 'comm':
        if (v === '' || Buffer.byteLength(v) > 15)
          throw new UsageError(`${written} needs a task name of 1 to 15 bytes (got "${v}")`);
        o.comm = v;
        break;
      case 'uid':
        o.uid = int(written, v, 0, 4294967294);
        break;
      case 'cgroup':
        if (v === '') throw new UsageError(`${written} needs a cgroup directory`);
        o.cgroup = v;
        break;
      case 'duration':
        o.durationS = num(written, v, 0.001, 2_000_000);
        break;
      case 'hooks':
        if (v !== 'auto' && v !== 'fallback') throw new UsageError(`${written} must be auto or fallback (got "${v}")`);
        o.hookMode = v;
        break;
      case 'help':
        o.help = true;
        break;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag --${name}`);
      let value: string | undefined;
      if (spec.value) {
        value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.value})`);
      } else if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      apply(spec, `--${name}`, value);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const spec = byShort.get(arg[k]!);
        if (!spec) throw new UsageError(`unknown flag -${arg[k]}${arg.length > 2 ? ` (in ${arg})` : ''}`);
        if (!spec.value) {
          apply(spec, `-${spec.short}`, undefined);
          continue;
        }
        let value = arg.slice(k + 1);
        if (value === '') {
          value = argv[++i] as string;
          if (value === undefined) throw new UsageError(`-${spec.short} needs a value (${spec.value})`);
        }
        apply(spec, `-${spec.short}`, value);
        break;
      }
      continue;
    }
    words.push(arg);
  }
  o.expression = words.join(' ');
  if (o.read !== undefined && o.ifaces.length > 0)
    throw new UsageError('-r reads a file; -i captures live: choose one');
  if (o.cgroup !== undefined && o.read !== undefined)
    throw new UsageError('--cgroup judges live sockets in the kernel: not with -r');
  if (o.cgroup !== undefined && o.ifaces.length > 0) {
    throw new UsageError(
      '--cgroup needs the socket hook (capture without -i): a frame on an interface carries no cgroup until a local socket has it',
    );
  }
  if ((o.fileSizeMB !== undefined || o.rotateSeconds !== undefined) && o.write === undefined) {
    throw new UsageError('-C and -G rotate the files of -w: give -w FILE');
  }
  if ((o.fileSizeMB !== undefined || o.rotateSeconds !== undefined) && o.write === '-') {
    throw new UsageError('-C and -G rotate files: not with -w - (standard output)');
  }
  if (o.fileCount !== undefined && o.fileSizeMB === undefined && o.rotateSeconds === undefined) {
    throw new UsageError('-W counts the files of -C or -G: give one of them');
  }
  return o;
}
