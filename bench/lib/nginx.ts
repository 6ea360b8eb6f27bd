/**
 * A throwaway nginx on 127.0.0.1: its own config, pid file, error log and
 * document root in a temp dir, removed again on stop (or on bench exit).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup';
import { describeExit, Proc, sleep } from './proc';
import { freePort } from '../../test/helpers/ports';

export interface Nginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
/** The page every request fetches (a small static file). */
const PAGE = `<!doctype html>\n<title>wirelens bench</title>\n<p>${'wirelens bench page. '.repeat(24)}</p>\n`;

/** A port that was free a moment ago (the kernel picks it). */
function config(dir: string, port: number): string {
  const p = (f: string): string => path.join(dir, f);
  return `# written by wirelens bench/lib/nginx.ts
daemon off;
master_process on;
worker_processes 2;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  default_type text/html;
  sendfile on;
  keepalive_timeout 75s;
  # keep-alive really means one connection per wrk connection for the whole run
  keepalive_requests 100000000;
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
  server {
    listen 127.0.0.1:${port} backlog=4096;
    server_name localhost;
    root ${p('www')};
    location / { }
  }
}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function startOnce(): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelens-bench-nginx-'));
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const unregisterDir = onCleanup(removeDir);
  let proc: Proc | undefined;
  try {
    // Workers run as an unprivileged user when started as root: let them read the page.
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, 'www'), { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'www', 'index.html'), PAGE, { mode: 0o644 });
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, config(dir, port));
    // -e: even the log written before the config is read goes to our dir.
    proc = new Proc('nginx', 'nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdout: 'null' });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await canConnect(port))) {
      if (!proc.running)
        throw new Error(`nginx exited (${describeExit(proc.exit)}) while starting${proc.tail()}${logTail(dir)}`);
      if (Date.now() > deadline)
        throw new Error(`nginx did not accept on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms${logTail(dir)}`);
      await sleep(50);
    }
    const running = proc;
    return {
      port,
      url: `http://127.0.0.1:${port}/index.html`,
      stop: async () => {
        try {
          // SIGTERM = fast shutdown of master and workers; Proc SIGKILLs the group after the timeout.
          await running.stop('SIGTERM', STOP_TIMEOUT_MS);
        } finally {
          removeDir();
          unregisterDir();
        }
      },
    };
  } catch (e) {
    if (proc) await proc.stop('SIGKILL', 2000);
    removeDir();
    unregisterDir();
    throw e;
  }
}

function logTail(dir: string): string {
  try {
    const log = fs.readFileSync(path.join(dir, 'error.log'), 'utf8').trimEnd().split('\n').slice(-5).join('\n  ');
    return log ? `; error.log:\n  ${log}` : '';
  } catch {
    return '';
  }
}

/** Start nginx on a free 127.0.0.1 port (a few tries, in case another process grabs the port first). */
export async function startNginx(): Promise<Nginx> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (e) {
      last = e;
      if (!/Address already in use/.test(String(e))) break;
    }
  }
  throw last;
}
