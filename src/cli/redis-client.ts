import { CliError, ExitCode } from './exit-code.js';

/** A node-redis client the CLI made, and how to close it. */
export interface CliRedis {
  readonly client: { sendCommand(args: string[]): Promise<unknown> };
  close(): Promise<void>;
}

/**
 * Connects to Redis for `--redis <url>` with node-redis, which the app installs itself
 * (`npm install redis`): Heartline depends on no Redis client. Fails with a usage error that
 * says so when it is missing, and with a connection error when Redis cannot be reached.
 */
export async function connectRedis(url: string): Promise<CliRedis> {
  let createClient: typeof import('redis').createClient;
  try {
    ({ createClient } = await import('redis'));
  } catch (error) {
    throw new CliError(
      '--redis needs the node-redis package next to heartline: npm install redis',
      ExitCode.Usage,
      { cause: error },
    );
  }
  const client = createClient({ url });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        setTimeout(() => reject(lastError ?? new Error('no answer within 5 s')), 5_000).unref();
      }),
    ]);
  } catch (error) {
    await client.destroy?.();
    throw new CliError(
      `could not connect to Redis at ${url}: ${(error as Error).message}`,
      ExitCode.Unreachable,
      {
        cause: error,
      },
    );
  }
  return { client, close: async () => void (await client.close().catch(() => {})) };
}
