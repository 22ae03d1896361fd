/**
 * The `heartline` CLI as a real child process: `node dist/cli/bin.js …` (built by `npm run
 * build`, which `npm test` runs first). Every process started inside a test is killed when the
 * test finishes, and every wait is bounded.
 *
 * Children run with `NO_COLOR=1` and without `FORCE_COLOR`, and their stdio are pipes, as in
 * a shell pipeline.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

/** Fails at once, and says why, when the CLI was not built. */
export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does).`);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout, now or later. */
  waitForStdout(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  /** Resolves with the first match of `pattern` in stderr, now or later. */
  waitForStderr(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process exits, or rejects after `timeout` ms. */
  exit(timeout?: number): Promise<Exit>;
  write(text: string): void;
  /** Closes stdin: end of input. */
  end(): void;
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/**
 * Starts `heartline …args`. Inside a test, the process is killed (SIGKILL) when the test
 * finishes if it is still running.
 */
export function startCli(args: readonly string[], options: StartOptions = {}): CliProcess {
  assertBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  if (!options.env?.FORCE_COLOR) delete env.FORCE_COLOR;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  child.stdin.on('error', () => {}); // the CLI may exit before it read everything
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const waitFor = (
    read: () => string,
    stream: 'stdout' | 'stderr',
    pattern: RegExp,
    timeout = 5_000,
  ): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = read().match(pattern);
        if (!match) return false;
        clearTimeout(timer);
        child[stream].off('data', check);
        resolve(match);
        return true;
      };
      const timer = setTimeout(() => {
        child[stream].off('data', check);
        reject(
          new Error(
            `heartline ${args.join(' ')}: no ${pattern} on ${stream} within ${timeout} ms\n--- stdout:\n${out}\n--- stderr:\n${err}`,
          ),
        );
      }, timeout);
      // Registered after the collector above, so `read()` already holds the new chunk.
      if (!check()) child[stream].on('data', check);
    });

  const cli: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (pattern, timeout) => waitFor(() => out, 'stdout', pattern, timeout),
    waitForStderr: (pattern, timeout) => waitFor(() => err, 'stderr', pattern, timeout),
    exit: (timeout = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `heartline ${args.join(' ')}: still running after ${timeout} ms\n--- stdout:\n${out}\n--- stderr:\n${err}`,
              ),
            ),
          timeout,
        );
        void exited.then((exit) => {
          clearTimeout(timer);
          resolve(exit);
        });
      }),
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    kill: (signal = 'SIGTERM') => {
      if (running) child.kill(signal);
    },
  };
  try {
    onTestFinished(() => cli.kill('SIGKILL'));
  } catch {
    // Not inside a test: the caller kills it.
  }
  return cli;
}

export interface Run extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `heartline …args` to the end, with `input` on stdin (closed right after). */
export async function runCli(
  args: readonly string[],
  options: StartOptions & { input?: string; timeout?: number } = {},
): Promise<Run> {
  const cli = startCli(args, options);
  if (options.input !== undefined) cli.write(options.input);
  cli.end();
  const exit = await cli.exit(options.timeout);
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

export interface Served {
  readonly cli: CliProcess;
  readonly url: string;
  readonly port: number;
}

/** Starts `heartline serve --port 0 …args` and waits for its `listening on ws://…` line. */
export async function startServe(args: readonly string[] = []): Promise<Served> {
  const cli = startCli(['serve', '--port', '0', ...args]);
  const [, url] = await cli.waitForStderr(/listening on (ws:\/\/\S+)/);
  return { cli, url: url!, port: Number(new URL(url!).port) };
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; bounded. */
export async function waitForPort(port: number, timeout = 5_000): Promise<void> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (performance.now() > deadline)
      throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
