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
  redis: Pick<TestRedis, 'socketPath' | 'unixUrl'>,
  { own = true }: { own?: boolean } = {},
): Promise<{ client: unknown; close(): Promise<void> }> {
  if (library === 'node-redis') {
    const client = createClient({ url: redis.unixUrl });
    client.on('error', () => {}); // a test that kills Redis expects errors
    await client.connect();
    const close = async () => {
      await client.close().catch(() => {});
    };
    if (own) onTestFinished(close);
    return { client, close };
  }
  const client = new Redis({ path: redis.socketPath, lazyConnect: true, maxRetriesPerRequest: 2 });
  client.on('error', () => {});
  await client.connect();
  const close = async () => {
    client.disconnect();
  };
  if (own) onTestFinished(close);
  return { client, close };
}
