/** nginx on a loopback port with a config the test writes, removed afterwards. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';
import { execFileSync } from 'node:child_process';

export interface TestNginx {
  port: number;
  dir: string;
  stop(): void;
}

const running = new Set<string>();
process.on('exit', () => {
  for (const dir of running) {
    try {
      execFileSync('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-s', 'stop'], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
});

/** The start of a test nginx.conf: everything under `dir`, no logs but errors; the http block is left open. */
export function nginxPreamble(dir: string, workers: number, connections: number): string {
  return `worker_processes ${workers};
daemon on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections ${connections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;`;
}

/**
 * Serves `files` (name -> content) on 127.0.0.1 and [::1] at one port; with
 * `accessLog`, logs each request's target to dir/access.log (with
 * `logFormat`, nginx's variables for a line instead).
 */
export async function startNginx(
  files: Record<string, string | Buffer>,
  opts: { accessLog?: boolean; logFormat?: string } = {},
): Promise<TestNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-test-nginx-'));
  const port = await freePort('127.0.0.1');
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'www', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'www', name), content);
  }
  fs.chmodSync(dir, 0o755);
  const conf = `${nginxPreamble(dir, 1, 256)}
  types { text/css css; text/html html; application/json json; }
  client_max_body_size 8m;
  log_format wl_target '${opts.logFormat ?? '$request_uri'}';
  keepalive_requests 100000;
  server {
    ${opts.accessLog ? `access_log ${dir}/access.log wl_target;` : ''}
    listen 127.0.0.1:${port};
    listen [::1]:${port};
    root ${dir}/www;
    location /upload { client_body_buffer_size 2m; return 201 "stored\\n"; }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  execFileSync('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(dir);
  return {
    port,
    dir,
    stop() {
      try {
        execFileSync('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-s', 'stop'], { stdio: 'ignore' });
      } catch {
        /* already stopped */
      }
      running.delete(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of the nginx worker processes (the ones that serve), once the master has started them. */
export async function nginxWorkerPids(dir: string, ms = 5000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    let pids: number[] = [];
    try {
      const master = Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim());
      const out = execFileSync('pgrep', ['-P', String(master)], { encoding: 'utf8' });
      pids = out.trim().split('\n').filter(Boolean).map(Number);
    } catch {
      /* no pid file or no worker yet */
    }
    if (pids.length > 0) return pids;
    if (Date.now() > deadline) throw new Error(`nginx in ${dir} started no worker within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
