/**
 * `heartline connect` in a real terminal: tmux runs it in a pane of a known size, keys are
 * typed into it, and the test reads the screen as a person sees it (`capture-pane`). Each test
 * has a tmux server of its own (`-L`), killed when the test finishes.
 *
 * Without tmux the tests are skipped with a message; with CI=true they are required.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { assertBuilt, BIN, startCli, startServe } from './cli-fixtures.js';

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasTmux();
if (!available) {
  if (process.env.CI === 'true') throw new Error('tmux not found; CI=true requires it');
  console.warn('tmux not found; terminal tests skipped. Install: apt-get install tmux');
}

let sockets = 0;

/** A tmux pane running `command`, 100 columns by 30 rows. */
function openPane(command: string) {
  const socket = `heartline-test-${process.pid}-${++sockets}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux(
    'new-session',
    '-d',
    '-x',
    '100',
    '-y',
    '30',
    '-e',
    'NO_COLOR=1',
    // The pane outlives the command, so that its last screen can be read.
    `${command}; echo EXIT=$?; sleep 60`,
  );
  onTestFinished(() => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
  });
  const screen = () => tmux('capture-pane', '-p').replace(/\s+$/, '');
  return {
    screen,
    /** Types text; `Enter` and `C-c` are keys. */
    keys: (...keys: string[]) => tmux('send-keys', ...keys),
    type: (text: string) => tmux('send-keys', '-l', text),
    /** Polls the screen until `pattern` shows, every 50 ms, for at most `timeout` ms. */
    async waitFor(pattern: RegExp, timeout = 10_000): Promise<string> {
      const deadline = performance.now() + timeout;
      for (;;) {
        const shown = screen();
        if (pattern.test(shown)) return shown;
        if (performance.now() > deadline)
          throw new Error(`no ${pattern} on the screen within ${timeout} ms:\n${shown}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

describe.skipIf(!available)('heartline connect in a terminal', () => {
  it('keeps typing off the countdown line, marks sent > and received <, and exits 0 on Ctrl-C', async () => {
    assertBuilt();
    const first = await startServe(['--retry-spread', '200ms']);
    const pane = openPane(`${process.execPath} ${BIN} connect ${first.url}`);
    await pane.waitFor(/connected to ws:\/\/127\.0\.0\.1/);
    pane.type('hello');
    pane.keys('Enter');
    let screen = await pane.waitFor(/^< hello$/m);
    expect(screen).toMatch(/^> hello$/m);

    // The server stops; the countdown runs while something is typed.
    first.cli.kill('SIGTERM');
    await pane.waitFor(/reconnecting in \d+\.\d s \(attempt \d+\)/);
    pane.type('typed while down');
    screen = await pane.waitFor(/^> typed while down$/m);
    const countdown = screen.split('\n').find((line) => line.includes('reconnecting'))!;
    expect(countdown).not.toContain('typed');
    pane.keys('Enter');
    // Failed attempts share the countdown line: none leaves an error line of its own.
    screen = await pane.waitFor(/last attempt: connect ECONNREFUSED/);
    expect(screen).not.toMatch(/^error: /m);
    expect(screen.match(/ECONNREFUSED/g)).toHaveLength(1);

    // The server is back: the line typed meanwhile goes out and comes back.
    const second = startCli(['serve', '--port', String(first.port)]);
    await second.waitForStderr(/listening on/);
    screen = await pane.waitFor(/^< typed while down$/m, 15_000);
    expect(screen).toMatch(/reconnected after/);
    expect(screen).toMatch(/new session: the server restarted/);
    expect(screen).not.toMatch(/reconnecting in/); // the countdown line is gone

    pane.keys('C-c');
    screen = await pane.waitFor(/^EXIT=\d+$/m);
    expect(screen).toMatch(/^EXIT=0$/m);
  });

  it('exits 0 from npm run on one Ctrl-C after a clean shutdown (issue #12)', async () => {
    assertBuilt();
    // npm forwards the terminal's SIGINT to its child, which gets it twice: still one Ctrl-C.
    const pane = openPane('npm run --silent heartline -- serve --port 0');
    await pane.waitFor(/listening on ws:\/\//);
    pane.keys('C-c');
    const screen = await pane.waitFor(/^EXIT=\d+$/m);
    expect(screen).toMatch(/SIGINT: shutting down/);
    expect(screen).not.toMatch(/again: exiting without waiting/);
    expect(screen).toMatch(/^EXIT=0$/m);
  });
});
