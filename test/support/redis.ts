/**
 * A real `redis-server` for tests: Debian's binary, started as a child process with nothing on
 * disk, listening on a unix socket in a temporary directory, and killed when it is no longer
 * needed, however the test process ends.
 *
 *   test process ──unix socket (and, with `tcp: true`, 127.0.0.1:port)── redis-server
 *
 * What it starts: `redis-server --port 0 --unixsocket <tmp>/redis.sock --save '' --appendonly no
 * --dir <tmp> --enable-debug-command local`. `--port 0` means "no TCP listener" in Redis (not
 * "any port"), so with `tcp: true` the fixture picks a free port itself (binds port 0 with
 * `node:net`, reads it, closes it, passes it) and retries with a new one if Redis could not bind
 * it. The package's own service on 6379 is never used. `DEBUG` is enabled for local connections
 * (Redis 7 disables it by default) so that a test can `DEBUG SLEEP`.
 *
 * Persistence:
 * - `'none'` (default) — no RDB, no AOF: `restart()` brings back an EMPTY server, the way a
 *   cache without persistence comes back after a crash.
 * - `'aof'` — `--appendonly yes --appendfsync always`: every acknowledged write is on disk
 *   before the reply, so `restart()` (even after SIGKILL) comes back with all the data.
 *
 * Readiness: the start resolves once Redis has logged "ready to accept connections" AND answered
 * a `PING` on its unix socket. Redis' log (stdout) is kept, the last 200 lines, for error
 * messages and for `log`.
 *
 * Faults: `kill(signal)` (SIGKILL = a crash, SIGTERM = a clean shutdown), `pause()`/`resume()`
 * (SIGSTOP/SIGCONT: a server that holds every connection open and answers nothing), `restart()`
 * (same socket path and port), and `command('CLIENT', 'KILL', 'TYPE', 'pubsub')`,
 * `command('CONFIG', 'SET', …)` or `command('DEBUG', 'SLEEP', '1')` for the rest.
 *
 * No orphans: the server runs under a tiny `/bin/sh` guard that holds the read end of a pipe
 * from this process and SIGKILLs Redis when the pipe closes, which the kernel does however this
 * process dies (even by SIGKILL, as Vitest may end a worker). On top of that, `close()` kills it
 * and removes the directory, a `process.on('exit')` hook does the same for any server still
 * running, and inside a test `startRedis()` registers `close()` with `onTestFinished`.
 *
 * One server per test file is the intended use: `describeRedis()` starts one in `beforeAll` and
 * closes it in `afterAll`. Tests that kill or restart Redis start their own inside the test
 * (`describeRedis(name, fn, { shared: false })` keeps the skip rule for them).
 *
 * The skip rule mirrors the browser tests: without a `redis-server` binary (`$REDIS_SERVER`, else
 * `redis-server` on PATH), `describeRedis()` skips its block with one printed line, so that a
 * contributor without Redis can still run `npm test`; with `CI=true` it fails instead, and
 * `startRedis()` always throws.
 *
 * @example
 * const redis = await startRedis();
 * const client = createClient({ url: redis.url }); // node-redis
 * // ioredis: new Redis({ path: redis.socketPath })
 * await redis.kill('SIGKILL'); // Redis is down: ECONNREFUSED / ENOENT
 * await redis.restart(); // up again, same socket, no data
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it, onTestFinished } from 'vitest';
import { boundedLog, type ProcessExit, readLines, type SupervisedProcess } from './processes.js';

export interface RedisOptions {
  /**
   * Also listen on 127.0.0.1 at a free TCP port (`port`, and `url` becomes `redis://…`), for
   * what cannot use a unix socket, such as a fault proxy in front of Redis.
   * @default false
   */
  tcp?: boolean;
  /**
   * `'none'`: nothing on disk, a restart comes back empty. `'aof'`: `--appendonly yes
   * --appendfsync always`, a restart comes back with every acknowledged write.
   * @default 'none'
   */
  persistence?: 'none' | 'aof';
  /** More `redis-server` arguments, appended last, e.g. `['--maxmemory', '16mb']`. */
  args?: readonly string[];
  /**
   * Milliseconds to wait for each start (the first and every `restart()`).
   * @default 10000
   */
  timeout?: number;
}

/** How one run of `redis-server` ended. */
export type RedisExit = ProcessExit;

export interface TestRedis extends SupervisedProcess {
  /** The unix socket, stable across restarts. ioredis: `new Redis({ path: socketPath })`. */
  readonly socketPath: string;
  /** `unix://${socketPath}` (node-redis' form). */
  readonly unixUrl: string;
  /** The TCP port on 127.0.0.1 with `tcp: true` (stable across restarts), else `undefined`. */
  readonly port: number | undefined;
  /** `redis://127.0.0.1:${port}` with `tcp: true`, else `unixUrl`; node-redis takes either. */
  readonly url: string;
  // kill(): SIGTERM is a clean shutdown, but with `'none'` nothing is saved either way.
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /**
   * Stops the server with `signal` if it runs, then starts it again on the same socket path
   * and port. With `persistence: 'none'` it comes back with no data; with `'aof'` with all of it.
   * @default 'SIGKILL'
   */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Runs one command on a fresh node-redis connection (closed afterwards) and resolves with
   * the reply, e.g. `command('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 64kb 32kb 1')`.
   */
  command(...args: string[]): Promise<unknown>;
  /** Kills the server and removes its directory. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** New ports tried when Redis cannot bind the one picked (the first start only). */
const PORT_ATTEMPTS = 5;
/** Re-binds of the same port on restart, REBIND_INTERVAL ms apart. */
const REBIND_ATTEMPTS = 20;
const REBIND_INTERVAL = 50;
/** After this long without exiting on a signal, the server is SIGKILLed. */
const EXIT_GRACE = 10_000;
const READY = /ready to accept connections/i;
const BIND_FAILED = /Could not create server TCP listening socket|Address already in use/i;
const PID_LINE = /^heartline-redis-guard: pid (\d+)$/;

/**
 * Runs `redis-server "$@"` in the background and SIGKILLs it as soon as this process's end of
 * stdin closes (fd 3 keeps that pipe, `cat` waits for its EOF). The guard's exit status is the
 * server's; the server's own stdin is /dev/null. The watcher writes nothing to stdout or stderr,
 * so those pipes close as soon as the server and the shell are gone.
 */
const GUARD = [
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'server=$!',
  'echo "heartline-redis-guard: pid $server"',
  '(cat <&3 >/dev/null; kill -KILL "$server") >/dev/null 2>&1 &',
  'guard=$!',
  'exec 3<&-',
  'wait "$server"; status=$?',
  'kill "$guard" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** `$REDIS_SERVER`, else the first `redis-server` on PATH, else `undefined`. */
export function redisServerPath(): string | undefined {
  const candidates = process.env.REDIS_SERVER
    ? [process.env.REDIS_SERVER]
    : (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'redis-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Whether a `redis-server` executable can be found (see `redisServerPath()`). */
export function redisAvailable(): boolean {
  return redisServerPath() !== undefined;
}

function isCI(): boolean {
  return process.env.CI === 'true';
}

function missingMessage(): string {
  const where = process.env.REDIS_SERVER
    ? `at REDIS_SERVER=${process.env.REDIS_SERVER}`
    : 'on PATH';
  return isCI()
    ? `redis-server not found ${where}; CI=true requires the Redis tests to run. Install: apt-get install redis-server (or set REDIS_SERVER)`
    : `redis-server not found ${where}; Redis tests skipped. Install: apt-get install redis-server`;
}

/** Servers still running, killed synchronously if the process exits without closing them. */
const live = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cleanup of live) cleanup();
  });
}

/** A free TCP port on 127.0.0.1 at the time of asking. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves when Redis answers PING with +PONG on the unix socket. */
function ping(socketPath: string, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let reply = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`no PING reply within ${timeout} ms`)), timeout);
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      done(reply.startsWith('+PONG') ? undefined : new Error(`PING answered ${reply.trim()}`));
    });
    socket.on('error', done);
  });
}

function signalName(code: number | null): NodeJS.Signals | null {
  if (code === null || code <= 128) return null;
  const entry = Object.entries(os.constants.signals).find(([, n]) => n === code - 128);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}

/** One run of redis-server under the guard. */
interface Run {
  readonly guard: ChildProcess;
  pid: number;
  done: boolean;
  readonly exited: Promise<RedisExit>;
}

/** A start that failed; `bindFailed` when Redis could not bind its TCP port (retried). */
class StartError extends Error {
  readonly bindFailed: boolean;
  constructor(message: string, bindFailed: boolean) {
    super(message);
    this.bindFailed = bindFailed;
  }
}

/**
 * Starts `redis-server` (see the header for how). Inside a test it closes itself when the test
 * finishes; elsewhere (a `beforeAll`, a bench) the caller calls `close()`. Throws when there is no
 * `redis-server`.
 *
 * @example
 * const redis = await startRedis({ tcp: true, persistence: 'aof' });
 */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const { tcp = false, persistence = 'none', args: extra = [], timeout = 10_000 } = options;
  const binary = redisServerPath();
  if (!binary) throw new Error(missingMessage());

  // Unix socket paths are limited to 107 bytes; fall back to /tmp if TMPDIR is long.
  let base = os.tmpdir();
  if (base.length > 60) base = '/tmp';
  const dir = mkdtempSync(path.join(base, 'heartline-redis-'));
  const socketPath = path.join(dir, 'redis.sock');
  const unixUrl = `unix://${socketPath}`;
  const output = boundedLog();
  const log = output.lines;
  let port: number | undefined;
  let run: Run | undefined;
  let lastExit: RedisExit = { code: null, signal: null };
  let closing: Promise<void> | undefined;

  const remember = output.push;

  function argv(): string[] {
    return [
      '--port',
      String(port ?? 0),
      ...(port === undefined ? [] : ['--bind', HOST]),
      '--unixsocket',
      socketPath,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--save',
      '',
      ...(persistence === 'aof'
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no']),
      '--enable-debug-command',
      'local',
      '--daemonize',
      'no',
      ...extra,
    ];
  }

  /** Starts one run and resolves once it answers PING; rejects with the log tail otherwise. */
  async function launch(): Promise<Run> {
    const guard = spawn('/bin/sh', ['-c', GUARD, binary!, ...argv()], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const started = log.length;
    let ready = false;
    let onLine: (() => void) | undefined;
    const current: Run = {
      guard,
      pid: -1,
      done: false,
      exited: new Promise((resolve) => {
        // 'close', not 'exit': the server's last log lines have been read by then.
        guard.once('close', (code, signal) => {
          current.done = true;
          // The guard's status is the server's; 128 + n means the server died of signal n.
          const exit: RedisExit = {
            code: signalName(code) ? null : code,
            signal: signalName(code) ?? signal,
          };
          lastExit = exit;
          guard.stdin?.destroy();
          resolve(exit);
          onLine?.();
        });
      }),
    };
    guard.stdin?.on('error', () => {});
    for (const stream of [guard.stdout, guard.stderr]) {
      readLines(
        stream,
        (line) => {
          const pid = PID_LINE.exec(line);
          if (pid) current.pid = Number(pid[1]);
          else remember(line);
          if (READY.test(line)) ready = true;
        },
        () => onLine?.(),
      );
    }

    const deadline = Date.now() + timeout;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeout);
      onLine = () => {
        if ((ready && current.pid > 0) || current.done) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    onLine = undefined;
    const tail = () => log.slice(started).slice(-20).join('\n');
    if (current.done) {
      const bindFailed = BIND_FAILED.test(log.slice(started).join('\n'));
      throw new StartError(`redis-server exited before it was ready:\n${tail()}`, bindFailed);
    }
    try {
      if (!ready) throw new Error(`not ready within ${timeout} ms`);
      await ping(socketPath, Math.max(500, deadline - Date.now()));
    } catch (error) {
      await stop(current, 'SIGKILL');
      throw new StartError(
        `redis-server did not start: ${(error as Error).message}\n${tail()}`,
        false,
      );
    }
    return current;
  }

  async function stop(target: Run, signal: NodeJS.Signals): Promise<RedisExit> {
    if (target.done) return target.exited;
    try {
      if (target.pid > 0) {
        process.kill(target.pid, signal);
        // A paused server keeps every signal but SIGKILL pending until it runs again.
        if (signal !== 'SIGKILL') process.kill(target.pid, 'SIGCONT');
      } else target.guard.kill('SIGKILL');
    } catch {
      // Already gone (ESRCH): the guard's exit follows.
    }
    const grace = setTimeout(() => {
      try {
        if (target.pid > 0) process.kill(target.pid, 'SIGKILL');
      } catch {}
    }, EXIT_GRACE);
    const exit = await target.exited;
    clearTimeout(grace);
    return exit;
  }

  async function start(first: boolean): Promise<void> {
    if (persistence === 'none') rmSync(path.join(dir, 'dump.rdb'), { force: true });
    for (let attempt = 1; ; attempt++) {
      if (first && tcp) port = await freePort();
      try {
        run = await launch();
        return;
      } catch (error) {
        // First start: another free port. Restart: the port must stay, so wait and retry it.
        const limit = first ? PORT_ATTEMPTS : REBIND_ATTEMPTS;
        if (!(error instanceof StartError && error.bindFailed && attempt < limit)) throw error;
        if (!first) await new Promise((resolve) => setTimeout(resolve, REBIND_INTERVAL));
      }
    }
  }

  const killNow = () => {
    if (run && !run.done && run.pid > 0) {
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  installExitHook();
  live.add(killNow);
  try {
    await start(true);
  } catch (error) {
    live.delete(killNow);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const redis: TestRedis = {
    socketPath,
    unixUrl,
    get port() {
      return port;
    },
    get url() {
      return port === undefined ? unixUrl : `redis://${HOST}:${port}`;
    },
    get pid() {
      return run && !run.done ? run.pid : -1;
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
    kill(signal = 'SIGKILL') {
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        throw new TypeError('TestRedis#kill: use pause() and resume() for SIGSTOP and SIGCONT');
      }
      return run ? stop(run, signal) : Promise.resolve(lastExit);
    },
    pause() {
      if (run && !run.done) process.kill(run.pid, 'SIGSTOP');
    },
    resume() {
      if (run && !run.done) process.kill(run.pid, 'SIGCONT');
    },
    async restart(signal = 'SIGKILL') {
      if (closing) throw new Error('TestRedis#restart: the server is closed');
      if (run && !run.done) await stop(run, signal);
      await start(false);
    },
    async command(...args) {
      const client = createClient({ url: unixUrl, socket: { reconnectStrategy: false } });
      client.on('error', () => {});
      await client.connect();
      try {
        return await client.sendCommand(args);
      } finally {
        client.destroy();
      }
    },
    close() {
      closing ??= (async () => {
        if (run && !run.done) await stop(run, 'SIGKILL');
        live.delete(killNow);
        rmSync(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };

  try {
    onTestFinished(() => redis.close());
  } catch {
    // Not inside a test (a beforeAll hook or a bench script): the caller closes the server.
  }
  return redis;
}

/** The skip line is printed once per test file, however many blocks it skips. */
let warned = false;

export interface RedisSuite {
  /** The suite's server, started in `beforeAll`; throws if read before that. */
  readonly redis: TestRedis;
}

export interface RedisSuiteOptions extends RedisOptions {
  /**
   * Start one server for the block. `false` keeps only the skip rule, for a block whose tests
   * each start their own (`startRedis()` inside the test).
   * @default true
   */
  shared?: boolean;
}

/**
 * `describe` for tests that need Redis: one server for the whole block, started in `beforeAll`
 * with `options` and closed in `afterAll` (none with `shared: false`). Without `redis-server`
 * the block is skipped with one printed line, or fails on CI.
 *
 * @example
 * describeRedis('redisEngine', (suite) => {
 *   it('publishes', async () => {
 *     const client = createClient({ url: suite.redis.url });
 *   });
 * });
 */
export function describeRedis(
  name: string,
  fn: (suite: RedisSuite) => void,
  options: RedisSuiteOptions = {},
): void {
  const { shared = true, ...redisOptions } = options;
  let redis: TestRedis | undefined;
  const suite: RedisSuite = {
    get redis() {
      if (!shared)
        throw new Error('describeRedis: this block has no shared server (shared: false)');
      if (!redis) throw new Error('describeRedis: the server is started in beforeAll');
      return redis;
    },
  };

  if (!redisAvailable()) {
    if (isCI()) {
      describe(name, () => {
        it('has a redis-server to run on', () => {
          throw new Error(missingMessage());
        });
      });
      return;
    }
    if (!warned) console.warn(missingMessage());
    warned = true;
    describe.skip(name, () => fn(suite));
    return;
  }

  describe(name, () => {
    if (shared) {
      beforeAll(async () => {
        redis = await startRedis(redisOptions);
      });
      afterAll(async () => {
        await redis?.close();
        redis = undefined;
      });
    }
    fn(suite);
  });
}
