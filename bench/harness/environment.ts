/** What the report says about the machine and the software a run measured. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Environment {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; kernel: string };
  node: string;
  openFilesLimit: string;
  loadavgAtStart: number[];
  /** Share of all CPUs busy over one second at start (the 1-min load average lags). */
  cpuBusyAtStart: number;
  loadavgAtEnd?: number[];
  versions: Record<string, string>;
  heartline: { version: string; commit: string; dirty: boolean };
}

function versionOf(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    // Packages whose exports hide package.json: find it next to the entry point.
    const entry = require.resolve(name);
    let dir = entry;
    for (let i = 0; i < 5; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
          name?: string;
          version: string;
        };
        if (pkg.name === name) return pkg.version;
      } catch {}
    }
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/** Share of all CPUs busy over `ms` (other processes: this one sleeps meanwhile). */
export async function cpuBusy(ms = 1_000): Promise<number> {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100) / 100;
}

export async function describeEnvironment(): Promise<Environment> {
  const cpus = os.cpus();
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
  let openFilesLimit = 'unknown';
  try {
    openFilesLimit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {}
  return {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.type()} ${os.arch()}`,
      kernel: os.release(),
    },
    node: process.version,
    openFilesLimit,
    loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    cpuBusyAtStart: await cpuBusy(),
    versions: Object.fromEntries(
      ['ws', 'socket.io', 'socket.io-client', 'reconnecting-websocket', 'partysocket'].map((n) => [
        n,
        versionOf(n),
      ]),
    ),
    heartline: {
      version: pkg.version,
      commit: git(['rev-parse', '--short', 'HEAD']),
      dirty: git(['status', '--porcelain', '--', 'src']) !== '',
    },
  };
}
