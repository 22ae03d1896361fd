/**
 * A cluster of real server processes for tests: N child processes, each running
 * `cluster-node.mjs`, which builds one server with a "server factory" module and reports its
 * port over IPC. A node can be stopped gracefully (SIGTERM: the script awaits the server's
 * `close()`), killed (SIGKILL: a crash), and restarted on the same port.
 *
 *   test process ──fork + IPC──┬── node 0: factory(options, { index: 0, port }) on 127.0.0.1
 *                              ├── node 1
 *                              └── node 2
 *
 * The factory is what makes a node a Heartline node, a socket.io node or a plain `ws` echo
 * server; the harness knows nothing about it. Its module's default export:
 *
 *   export default async function (options, { index, port }) {
 *     const server = new HeartlineServer({ port, host: '127.0.0.1', engine: redisEngine(…) });
 *     await once(server, 'listening');
 *     return { port: server.address().port, close: () => server.close(), command };
 *   }
 *
 * - `options` is the JSON-serialisable `options` given to `startCluster()` (or what its
 *   function returns for the node's index): a Redis URL, a key prefix, server settings.
 * - `port` is 0 on a node's first start and its previous port on a restart, so that a
 *   balancer in front keeps the same targets. A factory that ignores it gets a new port on
 *   restart (`node.port` follows).
 * - `command(body)`, optional, answers `node.command(body)` from the test (drive a broadcast,
 *   read a count): the one way into a node's process.
 * - A `.ts` factory runs under `--import tsx`, so it can import `src/` directly; a `.js`/`.mjs`
 *   one under plain `node` (it can import `dist/` after `npm run build`).
 *
 * Output: each node's stdout and stderr are copied to this process's stderr, every line
 * prefixed with `[node-<index>]`, and the last 200 lines are kept in `node.log`.
 *
 * No orphans: a node exits as soon as its IPC channel to this process closes, which the kernel
 * does however this process dies; `close()` SIGKILLs every node and waits for them; a
 * `process.on('exit')` hook SIGKILLs any node still running; and inside a test
 * `startCluster()` registers `close()` with `onTestFinished`.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3, factory: 'test/support/cluster-echo.mjs' });
 * const balancer = await startBalancer(cluster.ports, { mode: 'avoid-previous' });
 * await cluster.nodes[1]!.kill('SIGKILL'); // a crash
 * await cluster.nodes[1]!.restart();       // same port
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { boundedLog, type ProcessExit, readLines, type SupervisedProcess } from './processes.js';

export interface ClusterOptions {
  /**
   * How many nodes.
   * @default 3
   */
  nodes?: number;
  /** The server factory module: a path (relative to the current directory) or a file URL. */
  factory: string | URL;
  /** JSON-serialisable options passed to the factory, or a function of the node's index. */
  options?: unknown;
  /** Extra environment variables for every node (added to this process's environment). */
  env?: Record<string, string>;
  /**
   * Node.js flags of the node processes.
   * @default ['--import', 'tsx'] for a .ts/.mts factory, else []
   */
  execArgv?: string[];
  /**
   * Milliseconds each start (the first, and every restart) may take.
   * @default 15000
   */
  timeout?: number;
  /**
   * Milliseconds a node may spend in `close()` after SIGTERM before it exits with code 1.
   * @default 5000
   */
  closeTimeout?: number;
}

/** How one run of a node ended. */
/** How one run of a node ended. */
export type NodeExit = ProcessExit;

export interface ClusterNode extends SupervisedProcess {
  /** 0-based position in `cluster.nodes`, passed to the factory. */
  readonly index: number;
  /** `node-${index}`, the prefix of its output lines. */
  readonly name: string;
  /** The port its server listens on (kept across restarts when the factory honours it). */
  readonly port: number;
  /** `ws://127.0.0.1:${port}` */
  readonly url: string;
  /**
   * Stops the node with `signal` if it runs (SIGTERM: a deploy), then starts it again with the
   * same options on the same port; resolves when it listens.
   * @default 'SIGTERM'
   */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `body` to the factory's `command()` and resolves with its reply. */
  command<T = unknown>(body: unknown, options?: { timeout?: number }): Promise<T>;
}

export interface Cluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's port, in order (what `startBalancer()` takes). */
  readonly ports: number[];
  /** SIGKILLs every node and waits until all have exited. Idempotent. */
  close(): Promise<void>;
}

const NODE_SCRIPT = fileURLToPath(new URL('./cluster-node.mjs', import.meta.url));
/** After closeTimeout, a node that has still not exited is SIGKILLed this much later. */
const KILL_GRACE = 2_000;
const DEFAULT_COMMAND_TIMEOUT = 10_000;

/** Every node process still running, SIGKILLed if this process exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

interface Run {
  readonly child: ChildProcess;
  done: boolean;
  readonly exited: Promise<NodeExit>;
}

interface Message {
  type: string;
  [key: string]: unknown;
}

/**
 * Starts `nodes` server processes with `factory` and resolves when every one listens. Inside a
 * test the cluster closes itself when the test finishes; elsewhere the caller calls `close()`.
 *
 * @example
 * const cluster = await startCluster({
 *   nodes: 2,
 *   factory: 'test/support/cluster-heartline.ts',
 *   options: { redisUrl: redis.url },
 * });
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { nodes: count = 3, env = {}, timeout = 15_000, closeTimeout = 5_000 } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new TypeError(`Expected \`nodes\` to be an integer >= 1, got ${String(count)}`);
  }
  const factory =
    options.factory instanceof URL ? fileURLToPath(options.factory) : path.resolve(options.factory);
  const execArgv = options.execArgv ?? (/\.m?ts$/.test(factory) ? ['--import', 'tsx'] : []);
  const optionsFor = (index: number): unknown =>
    typeof options.options === 'function'
      ? (options.options as (index: number) => unknown)(index)
      : options.options;
  installExitHook();
  let closing: Promise<void> | undefined;

  function createNode(index: number): ClusterNode & { start(): Promise<void> } {
    const name = `node-${index}`;
    const output = boundedLog();
    const log = output.lines;
    let port = 0;
    let run: Run | undefined;
    let nextId = 0;
    let lastExit: NodeExit = { code: null, signal: null };

    function remember(line: string): void {
      output.push(line);
      process.stderr.write(`[${name}] ${line}\n`);
    }

    function launch(): Run {
      const config = { factory, options: optionsFor(index), index, port, closeTimeout };
      const child = fork(NODE_SCRIPT, [JSON.stringify(config)], {
        execArgv,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      live.add(child);
      for (const stream of [child.stdout, child.stderr]) readLines(stream, remember);
      const current: Run = {
        child,
        done: false,
        exited: new Promise((resolve) => {
          child.once('exit', (code, signal) => {
            current.done = true;
            live.delete(child);
            lastExit = { code, signal };
            resolve(lastExit);
          });
        }),
      };
      child.on('error', () => {});
      return current;
    }

    /** The next IPC message matching `match`, or a rejection when the run exits first. */
    function next(target: Run, match: (m: Message) => boolean, ms: number, what: string) {
      return new Promise<Message>((resolve, reject) => {
        const onMessage = (m: Message) => {
          if (!match(m)) return;
          done();
          resolve(m);
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          done();
          const tail = log.slice(-20).join('\n');
          reject(new Error(`${name} exited (${signal ?? code}) before ${what}\n${tail}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${what} within ${ms} ms`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          target.child.off('message', onMessage);
          target.child.off('exit', onExit);
        };
        target.child.on('message', onMessage);
        target.child.once('exit', onExit);
      });
    }

    async function stop(target: Run, signal: NodeJS.Signals): Promise<NodeExit> {
      if (target.done) return target.exited;
      target.child.kill(signal);
      const limit = signal === 'SIGKILL' ? KILL_GRACE : closeTimeout + KILL_GRACE;
      const timer = setTimeout(() => target.child.kill('SIGKILL'), limit);
      const exit = await target.exited;
      clearTimeout(timer);
      return exit;
    }

    const node = {
      index,
      name,
      get port() {
        return port;
      },
      get url() {
        return `ws://127.0.0.1:${port}`;
      },
      get pid() {
        return run && !run.done ? (run.child.pid ?? -1) : -1;
      },
      get running() {
        return run !== undefined && !run.done;
      },
      get exited() {
        return run ? run.exited : Promise.resolve(lastExit);
      },
      get log() {
        return log;
      },
      async start() {
        const current = launch();
        run = current;
        try {
          const m = await next(
            current,
            (m) => m.type === 'listening' || m.type === 'failed',
            timeout,
            "its server's 'listening'",
          );
          if (m.type === 'failed') {
            throw new Error(`${name}: the server factory failed: ${m.error}`);
          }
          port = m.port as number;
        } catch (error) {
          await stop(current, 'SIGKILL');
          throw error;
        }
      },
      kill(signal: NodeJS.Signals = 'SIGKILL') {
        return run ? stop(run, signal) : Promise.resolve(lastExit);
      },
      async restart(signal: NodeJS.Signals = 'SIGTERM') {
        if (closing) throw new Error(`${name}: the cluster is closed`);
        if (run && !run.done) await stop(run, signal);
        await node.start();
      },
      async command<T>(body: unknown, { timeout: ms = DEFAULT_COMMAND_TIMEOUT } = {}) {
        const current = run;
        if (!current || current.done || !current.child.connected) {
          throw new Error(`${name} is not running`);
        }
        const id = ++nextId;
        const reply = next(current, (m) => m.type === 'reply' && m.id === id, ms, 'a reply');
        current.child.send({ type: 'command', id, body });
        const m = await reply;
        if (typeof m.error === 'string') throw new Error(`${name}: ${m.error}`);
        return m.value as T;
      },
    };
    return node;
  }

  const nodes = Array.from({ length: count }, (_, i) => createNode(i));
  const cluster: Cluster = {
    nodes,
    get ports() {
      return nodes.map((n) => n.port);
    },
    close() {
      closing ??= Promise.all(nodes.map((n) => n.kill('SIGKILL'))).then(() => {});
      return closing;
    },
  };
  const started = await Promise.allSettled(nodes.map((n) => n.start()));
  const failure = started.find((r) => r.status === 'rejected');
  if (failure) {
    await cluster.close();
    throw failure.reason;
  }
  try {
    onTestFinished(() => cluster.close());
  } catch {
    // Not inside a test (a beforeAll hook or a bench script): the caller closes the cluster.
  }
  return cluster;
}

/**
 * The live child processes of `parent`, read from /proc (Linux; no `pgrep` needed), with their
 * command lines: what a test checks to prove that nothing it started is left running.
 *
 * @example
 * expect(childProcesses().filter((p) => p.command.includes('cluster-node.mjs'))).toEqual([]);
 */
export function childProcesses(parent = process.pid): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== parent || state === 'Z') continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // The process exited while being read.
    }
  }
  return found;
}
