/**
 * `heartline probe` through a real nginx (Debian's `nginx-light`, installed by .ci/run) with
 * `proxy_read_timeout 3s` in front of `heartline serve`: the probe must find the 3 s idle cut.
 *
 * nginx runs as the current user from a generated config in a temporary directory (no
 * daemon, no master process, pid file, logs and temp paths in that directory), listening on
 * 127.0.0.1 only. Without nginx the test is skipped with a message, except under CI=true,
 * where it fails: like the browser tests (test/support/browser.ts), it must never be skipped
 * there unnoticed. `$NGINX_PATH` overrides the executable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProbeReport } from '../../src/cli/probe.js';
import { freePort, runCli, startServe, waitForPort } from './cli-fixtures.js';

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
const CI = process.env.CI === 'true';
const IDLE_TIMEOUT = 3_000;

function nginxAvailable(): boolean {
  try {
    accessSync(NGINX, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const available = nginxAvailable();
if (!available && !CI) {
  console.warn(
    `nginx not found at ${NGINX}; the probe-through-nginx test is skipped. Install: apt-get install nginx-light`,
  );
}

function config(dir: string, port: number, backend: number): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${backend};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout ${IDLE_TIMEOUT / 1_000}s;
    }
  }
}
`;
}

/** Starts nginx in front of `backend`; stopped and cleaned up when the test finishes. */
async function startNginx(backend: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'heartline-nginx-'));
  const port = await freePort();
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, port, backend));
  const errorLog = path.join(dir, 'error.log');
  const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', file, '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  nginx.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  nginx.once('exit', () => {
    exited = true;
  });
  onTestFinished(() => {
    if (!exited) nginx.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await waitForPort(port, 5_000);
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(errorLog, 'utf8');
    } catch {}
    throw new Error(`nginx did not start (${(error as Error).message}):\n${stderr}\n${log}`);
  }
  return port;
}

describe('heartline probe through nginx', () => {
  it.skipIf(!available && !CI)(
    `finds nginx's proxy_read_timeout (${IDLE_TIMEOUT / 1_000} s) within 20 %`,
    async () => {
      if (!available)
        throw new Error(
          `nginx not found at ${NGINX}; CI=true requires this test to run. Install: apt-get install nginx-light (or set NGINX_PATH)`,
        );
      // No server pings: they would be traffic through nginx and reset its timer.
      const { port: backend } = await startServe(['--heartbeat-interval', 'off']);
      const port = await startNginx(backend);
      const run = await runCli(['probe', `ws://127.0.0.1:${port}/`, '--max', '15s', '--json'], {
        timeout: 20_000,
      });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as ProbeReport;
      expect(report.rtt.samples.length, 'protocol pings cross nginx').toBe(5);
      expect(report.idle).toMatchObject({ cut: true, code: 1006, serverPings: 0 });
      expect(report.idle.after).toBeGreaterThanOrEqual(IDLE_TIMEOUT * 0.8);
      expect(report.idle.after).toBeLessThanOrEqual(IDLE_TIMEOUT * 1.2);
      expect(report.recommendedHeartbeat).toBe(1_000);
    },
  );
});
