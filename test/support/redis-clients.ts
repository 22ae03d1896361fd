/**
 * Both Redis client libraries Heartline accepts, connected to a test Redis the same way, so
 * that every `heartline/redis` test runs under each (`describe.each(REDIS_LIBRARIES)`).
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { onTestFinished } from 'vitest';
import type { TestRedis } from './redis.js';

export const REDIS_LIBRARIES = ['node-redis', 'ioredis'] as const;
export type RedisLibrary = (typeof REDIS_LIBRARIES)[number];

/** A connected client of `library`; inside a test it is closed when the test finishes. */
export async function connectRedis(
  library: RedisLibrary,
  /** A test Redis (its unix socket), or a TCP port on 127.0.0.1 (a proxy in front of one). */
  target: Pick<TestRedis, 'socketPath'> | { readonly port: number },
  { own = true }: { own?: boolean } = {},
): Promise<{ client: unknown; close(): Promise<void> }> {
  const tcp = 'socketPath' in target ? undefined : target.port;
  if (library === 'node-redis') {
    const url =
      tcp === undefined ? `unix://${(target as TestRedis).socketPath}` : `redis://127.0.0.1:${tcp}`;
    const client = createClient({ url });
    client.on('error', () => {}); // a test that kills Redis expects errors
    await client.connect();
    const close = async () => {
      await client.close().catch(() => {});
    };
    if (own) onTestFinished(close);
    return { client, close };
  }
  const where =
    tcp === undefined
      ? { path: (target as TestRedis).socketPath }
      : { host: '127.0.0.1', port: tcp };
  const client = new Redis({ ...where, lazyConnect: true, maxRetriesPerRequest: 2 });
  client.on('error', () => {});
  await client.connect();
  const close = async () => {
    client.disconnect();
  };
  if (own) onTestFinished(close);
  return { client, close };
}
