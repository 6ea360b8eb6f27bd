/**
 * TLS servers on loopback for the tls tests: a self-signed certificate made
 * here, nginx serving it (config written here), and `openssl s_server`
 * (also in a network namespace); and a real ClientHello to replay.
 * Each is stopped by the test, and on exit if the test did not get there.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { nginxPreamble, nginxWorkerPids } from './nginx';
import { Spawned, start, stop, waitFor } from './proc';

export interface Cert {
  dir: string;
  cert: string;
  key: string;
  remove(): void;
}

/** A self-signed certificate for myhost.test and other.test. */
export function makeCert(): Cert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-test-tls-'));
  fs.chmodSync(dir, 0o755);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=myhost.test',
      '-addext',
      'subjectAltName=DNS:myhost.test,DNS:other.test',
    ],
    { stdio: 'ignore' },
  );
  fs.chmodSync(key, 0o644); // nginx workers run unprivileged
  return { dir, cert, key, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface TlsNginx {
  port: number;
  workers: number[];
  stop(): void;
}

const nginxDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of nginxDirs) {
    try {
      execFileSync('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-s', 'stop'], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
});

/**
 * nginx with TLS 1.2 and 1.3 (h2 and http/1.1 by ALPN) on 127.0.0.1:port,
 * two workers; `deferred`: TCP_DEFER_ACCEPT on the listener (the bare ACK is
 * dropped: the ClientHello's segment completes the handshake, on the listener).
 */
export async function startTlsNginx(c: Cert, port: number, o: { deferred?: boolean } = {}): Promise<TlsNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-test-nginx-tls-'));
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `${nginxPreamble(dir, 2, 64)}
  server {
    listen 127.0.0.1:${port} ssl http2${o.deferred ? ' deferred' : ''};
    ssl_certificate ${c.cert};
    ssl_certificate_key ${c.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  execFileSync('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginxDirs.add(dir);
  const workers = await nginxWorkerPids(dir);
  return {
    port,
    workers,
    stop() {
      try {
        execFileSync('nginx', ['-p', dir, '-c', conf, '-s', 'stop'], { stdio: 'ignore' });
      } catch {
        /* already stopped */
      }
      nginxDirs.delete(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** `openssl s_server` on host:port (127.0.0.1, or in network namespace `netns`) with `extra` options; resolves once it accepts. */
export async function startSServer(
  c: Cert,
  port: number,
  extra: string[],
  where: { host?: string; netns?: string } = {},
): Promise<SServer> {
  const argv = [
    'openssl',
    's_server',
    '-accept',
    `${where.host ?? '127.0.0.1'}:${port}`,
    '-cert',
    c.cert,
    '-key',
    c.key,
    '-www',
    ...extra,
  ];
  // `ip netns exec` execs openssl in place: the pid is openssl's.
  const p: Spawned = where.netns
    ? start('ip', ['netns', 'exec', where.netns, ...argv])
    : start(argv[0]!, argv.slice(1));
  try {
    await waitFor(p.stdout, /ACCEPT/, 10_000, 'openssl s_server to accept');
  } catch (e) {
    await stop(p, 'SIGKILL');
    throw e;
  }
  return { port, pid: p.child.pid!, stop: async () => void (await stop(p, 'SIGTERM')) };
}

/** The first TLS record (a ClientHello) Node's TLS client sends for `sni`, caught by a listener here that answers nothing. */
export function recordClientHello(sni: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ClientHello recorded')), 5000);
    const recorder = net.createServer((s) => {
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
          clearTimeout(timer);
          s.destroy();
          recorder.close();
          resolve(got.subarray(0, 5 + got.readUInt16BE(3)));
        }
      });
    });
    recorder.listen(0, '127.0.0.1', () => {
      const port = (recorder.address() as net.AddressInfo).port;
      const c = tls.connect({
        host: '127.0.0.1',
        port,
        servername: sni,
        ALPNProtocols: ['h2', 'http/1.1'],
        rejectUnauthorized: false,
      });
      c.on('error', () => undefined);
    });
  });
}
