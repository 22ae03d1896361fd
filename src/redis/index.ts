/**
 * `heartline/redis`: many `HeartlineServer` processes on many machines as one cluster over
 * Redis (≥ 7.0). Rooms, broadcasts and sessions span every node with the same Redis and
 * prefix; a client may resume on any node, with nothing lost or duplicated. The app supplies
 * its own Redis client (node-redis or ioredis). See docs/server.md, "Scaling out".
 *
 * @example
 * import { createClient } from 'redis';
 * import { HeartlineServer } from 'heartline/server';
 * import { redisEngine } from 'heartline/redis';
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const server = new HeartlineServer({ port: 8080, engine: redisEngine({ client: redis, prefix: 'chat' }) });
 */
import type { Engine } from '../server/engine/engine.js';
import { type RedisEngineOptions, resolveRedisOptions } from './options.js';
import { RedisEngine } from './redis-engine.js';

export { HeartlineEmitter } from './emitter.js';
export { REDIS_DEFAULTS, type RedisEngineOptions } from './options.js';
export { RedisEngine };

/**
 * An engine that makes every server with the same Redis and prefix one cluster.
 *
 * @example
 * new HeartlineServer({ port: 8080, engine: redisEngine({ client: redis, prefix: 'chat' }) })
 */
export function redisEngine(options: RedisEngineOptions): Engine {
  return new RedisEngine(resolveRedisOptions(options));
}
