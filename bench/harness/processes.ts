/**
 * Child processes of the bench: servers, client swarms and scenario workers, each forked with
 * IPC and every wait bounded. Children exit when the orchestrator disconnects, and every child
 * started here is killed by `killAll()` (called on exit and on failure).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const live = new Set<ChildProcess>();

export function workerPath(name: string): string {
  return fileURLToPath(new URL(`../workers/${name}`, import.meta.url));
}

export interface Message {
  type: string;
  [key: string]: unknown;
}

interface Waiter {
  match(m: Message): boolean;
  resolve(m: Message): void;
  reject(error: Error): void;
}

/** A forked child with a typed, bounded `next()` for its IPC messages. */
export class Child {
  readonly process: ChildProcess;
  readonly #queue: Message[] = [];
  readonly #waiters: Waiter[] = [];
  readonly name: string;
  #exited = false;
  readonly exited: Promise<number | null>;

  constructor(script: string, args: string[], execArgv: string[] = []) {
    this.name = script;
    this.process = fork(workerPath(script), args, {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(this.process);
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => {
        this.#exited = true;
        live.delete(this.process);
        for (const w of [...this.#waiters]) {
          w.reject(new Error(`${this.name} exited (${signal ?? code}) before answering`));
        }
        resolve(code);
      }),
    );
    this.process.on('message', (m: Message) => {
      const waiter = this.#waiters.find((w) => w.match(m));
      if (waiter) waiter.resolve(m);
      else this.#queue.push(m);
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  send(message: Message): void {
    if (!this.#exited && this.process.connected) this.process.send(message);
  }

  /** The next message of `type` ('failed' messages reject), within `timeout` ms. */
  next<T extends Message = Message>(type: string, timeout = 60_000): Promise<T> {
    const match = (m: Message) => m.type === type || m.type === 'failed';
    const queued = this.#queue.findIndex(match);
    if (queued >= 0) return settle(this.#queue.splice(queued, 1)[0]!) as Promise<T>;
    if (this.#exited) return Promise.reject(new Error(`worker exited before sending '${type}'`));
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          done();
          settle(m).then((x) => resolve(x as T), reject);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.reject(new Error(`no '${type}' from ${this.name} within ${timeout} ms`)),
        timeout,
      );
      this.#waiters.push(waiter);
    });
  }

  /** Asks the child to exit (IPC disconnect), then kills it if it has not within `grace` ms. */
  async stop(grace = 2_000): Promise<void> {
    if (this.#exited) return;
    if (this.process.connected) this.process.disconnect();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), grace);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (!this.#exited) this.process.kill(signal);
    return this.exited;
  }
}

function settle(m: Message): Promise<Message> {
  return m.type === 'failed' ? Promise.reject(new Error(String(m.error))) : Promise.resolve(m);
}

/** Kills every child still running (on exit, on failure). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** A server process (bench/workers/server.mjs); resolves once it listens. */
export async function startServer(
  config: object,
): Promise<{ child: Child; port: number; listeningAt: number }> {
  const child = new Child('server.mjs', [JSON.stringify(config)], ['--expose-gc']);
  const { port, at } = await child.next<Message & { port: number; at: number }>(
    'listening',
    30_000,
  );
  return { child, port, listeningAt: at };
}

/** Runs a worker to its one `result` message, then waits for it to exit. */
export async function runWorker<T extends Message>(
  script: string,
  config: object,
  timeout: number,
  execArgv: string[] = [],
): Promise<T> {
  const child = new Child(script, [JSON.stringify(config)], execArgv);
  try {
    return await child.next<T>('result', timeout);
  } finally {
    await child.stop();
  }
}

/** execArgv that lets a worker import TypeScript (the fault proxy lives in test/support). */
export const TSX = ['--import', 'tsx'];
