/**
 * The README's Quick start, run as written: its server block and its client block are taken
 * out of README.md, written to .mjs files in a project that depends on the built package
 * (dist/, linked as `npm link` would), and run against each other as two Node processes.
 *
 * The one change is where they meet: the server's `port: 8080` becomes a free port on
 * 127.0.0.1, and the client's `localhost:8080` that port, so the test never takes a fixed port
 * or listens beyond loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { assertBuilt, freePort, waitForPort } from './cli-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The ```js blocks of the README section that starts with `heading`. */
function codeBlocks(heading: string): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no '${heading}' section`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs `file` with Node in `cwd`; collects its output; killed when the test finishes. */
function node(file: string, cwd: string) {
  const child: ChildProcess = spawn(process.execPath, [file], { cwd, stdio: 'pipe' });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  return {
    output: () => out,
    /** Resolves once the output matches `pattern`; rejects after `timeout` ms or on exit. */
    waitFor: (pattern: RegExp, timeout = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          done();
          resolve();
        };
        const onExit = (code: number | null) => {
          done();
          reject(new Error(`${file} exited with ${code} before ${pattern}:\n${out}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${file}: no ${pattern} within ${timeout} ms:\n${out}`));
        }, timeout);
        const done = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      }),
  };
}

describe('README Quick start', () => {
  it('runs its server and its client against each other as written: the client opens and gets its echo', async () => {
    assertBuilt();
    const blocks = codeBlocks('## Quick start');
    const server = blocks.find((b) => b.includes("from 'heartline/server'"));
    const client = blocks.find(
      (b) => b.includes("from 'heartline'") && b.includes('new HeartlineSocket'),
    );
    expect(server, 'a server block').toBeDefined();
    expect(client, 'a client block').toBeDefined();

    const port = await freePort();
    const serverCode = server!.replace('port: 8080', `port: ${port}, host: '127.0.0.1'`);
    const clientCode = client!.replace('localhost:8080', `127.0.0.1:${port}`);
    expect(serverCode, 'the server block listens on port 8080').not.toBe(server);
    expect(clientCode, 'the client block connects to localhost:8080').not.toBe(client);

    const dir = mkdtempSync(path.join(tmpdir(), 'heartline-quickstart-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'heartline'), 'dir');
    // `ws` as the Quick start installs it (npm install heartline ws).
    symlinkSync(path.join(ROOT, 'node_modules', 'ws'), path.join(dir, 'node_modules', 'ws'), 'dir');
    writeFileSync(path.join(dir, 'server.mjs'), serverCode);
    writeFileSync(path.join(dir, 'client.mjs'), clientCode);

    const serverProcess = node('server.mjs', dir);
    // The server prints nothing: wait until it accepts connections.
    await waitForPort(port);
    const clientProcess = node('client.mjs', dir);
    await clientProcess.waitFor(/^connected; protocol chat\.v1$/m);
    await clientProcess.waitFor(/^echo: hello$/m);
    expect(clientProcess.output()).not.toMatch(/retry #|closed for good|error/i);
    expect(serverProcess.output()).toBe('');
  });
});
