/**
 * What the fixtures that run real processes (cluster nodes, redis-server) share: how a run
 * ended, the handle they give a test, the bounded log of its output, and a child script that
 * reports one JSON line and is then killed without warning.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How one run of a supervised process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A process a fixture started and watches: restartable, its output kept. */
export interface SupervisedProcess {
  /** The pid of the running process, or -1 while it is down. */
  readonly pid: number;
  /** Whether it runs now (a paused process counts as running). */
  readonly running: boolean;
  /** Resolves when the current run exits. */
  readonly exited: Promise<ProcessExit>;
  /** The last lines it printed (`LOG_LINES` at most), over all its runs. */
  readonly log: readonly string[];
  /**
   * Sends `signal` and resolves when the process has exited: SIGKILL is a crash, SIGTERM a
   * graceful stop. Resolves at once when it is not running.
   * @default 'SIGKILL'
   */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

/** How many lines of output a supervised process keeps. */
export const LOG_LINES = 200;

/** A log of at most `LOG_LINES` lines; `push()` drops the oldest. */
export function boundedLog(): { readonly lines: string[]; push(line: string): void } {
  const lines: string[] = [];
  return {
    lines,
    push(line) {
      lines.push(line);
      if (lines.length > LOG_LINES) lines.splice(0, lines.length - LOG_LINES);
    },
  };
}

/**
 * Calls `onLine` with each complete line `stream` yields (the last, unterminated one at its
 * end), and `afterChunk` once each chunk's lines are handled.
 */
export function readLines(
  stream: Readable | null | undefined,
  onLine: (line: string) => void,
  afterChunk?: () => void,
): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    afterChunk?.();
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `script` (an ES module, under tsx, from the project root) in a child Node process and
 * resolves with the child and the JSON of the first line it prints; rejects when it exits
 * first. The child is SIGKILLed when the test finishes.
 */
export async function spawnScript<T>(script: string): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  const first = await new Promise<T>((resolve, reject) => {
    readLines(child.stdout, (line) => {
      out += `${line}\n`;
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', () => reject(new Error(`the child exited first: ${out}`)));
  });
  return { child, first };
}
