import { ExitCode } from './exit-code.js';

/**
 * How a long-running command stops: it waits for SIGINT or SIGTERM, says so (`announce`),
 * and closes gracefully; a second signal exits at once with 130 (SIGINT) or 143 (SIGTERM).
 * Resolves with the exit code.
 *
 * @example
 * return untilSignal(() => server.close(), (signal) => log(`${signal}: shutting down`), term.warn);
 */
export async function untilSignal(
  close: () => Promise<unknown>,
  announce: (signal: NodeJS.Signals) => void,
  warn: (message: string) => void,
): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  announce(signal);
  const forced = new Promise<number>((resolve) => {
    const force = (again: NodeJS.Signals) => {
      warn(`${again} again: exiting without waiting`);
      resolve(again === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
    };
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
  });
  return Promise.race([close().then(() => ExitCode.Ok), forced]);
}
