import { ExitCode } from './exit-code.js';

/**
 * How close together two deliveries of one signal must be to count as one. Under `npm start`
 * (or `npm run heartline`) one Ctrl-C arrives twice within a few milliseconds: the terminal
 * sends SIGINT to the whole foreground process group, and npm forwards the SIGINT it got to its
 * child as well (@npmcli/run-script's signal manager). Nobody presses Ctrl-C twice that fast.
 */
export const SIGNAL_ECHO = 250;

/**
 * Calls `handler` for each of `signals` (SIGINT and SIGTERM), a repeat of the same signal within
 * `SIGNAL_ECHO` ms counting as one. The listeners stay for the life of the process: a late
 * echo must not fall back on the default action, which kills the process with 130.
 *
 * @example onSignal((signal) => console.error(`${signal}: stopping`));
 */
export function onSignal(
  handler: (signal: NodeJS.Signals) => void,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): void {
  let last: { signal: NodeJS.Signals; at: number } | undefined;
  const listener = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (last?.signal === signal && now - last.at < SIGNAL_ECHO) return;
    last = { signal, at: now };
    handler(signal);
  };
  for (const signal of signals) process.on(signal, listener);
}

/**
 * How a long-running command stops: it waits for SIGINT or SIGTERM, says so (`announce`),
 * and closes gracefully; a second signal exits at once with 130 (SIGINT) or 143 (SIGTERM).
 * Resolves with the exit code: 0 after a clean shutdown, so that `npm start` exits 0 too.
 *
 * @example
 * return untilSignal(() => server.close(), (signal) => log(`${signal}: shutting down`), term.warn);
 */
export async function untilSignal(
  close: () => Promise<unknown>,
  announce: (signal: NodeJS.Signals) => void,
  warn: (message: string) => void,
): Promise<number> {
  let next: (signal: NodeJS.Signals) => void = () => {};
  onSignal((signal) => next(signal));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    next = resolve;
  });
  announce(signal);
  const forced = new Promise<number>((resolve) => {
    next = (again) => {
      warn(`${again} again: exiting without waiting`);
      resolve(again === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
    };
  });
  const code = await Promise.race([close().then(() => ExitCode.Ok), forced]);
  next = () => {};
  return code;
}
