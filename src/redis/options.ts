import { checkDelay, checkNumber, invalid, withDefaults } from '../common/validate.js';
import type { PendingLimits } from './append-queue.js';
import { portsOf } from './port.js';

/** What `redisEngine(options)` and `new HeartlineEmitter(options)` accept. */
export interface RedisEngineOptions {
  /**
   * The app's Redis client, connected: node-redis (`redis` ≥ 5) or ioredis (≥ 5). Heartline
   * runs its commands on it and makes one duplicate of its own for subscribing, which it
   * closes; it never closes the client it was given.
   */
  readonly client: unknown;
  /**
   * A client of the same library to duplicate for subscribing instead of `client` (to route
   * it apart, say); Heartline never closes it, only its own duplicates.
   */
  readonly subscriber?: unknown;
  /**
   * Names the cluster: every server with the same Redis and prefix is one cluster, and keys
   * are `hl:{<prefix>}:…` (one hash tag, so a Redis Cluster keeps them in one slot).
   * @default 'heartline'
   */
  readonly prefix?: string;
  /**
   * Reliable messages accepted and not yet in Redis, at most; past either bound (while Redis is
   * slow or away) `send()` returns `false`.
   */
  readonly maxPending?: Partial<PendingLimits>;
  /** ms a resume waits for the previous owner of a session to hand it over. @default 1000 */
  readonly handoffTimeout?: number;
  /**
   * ms of silence on the feed after which the node checks that its subscriber still hears
   * (it publishes a probe to itself); one that does not is replaced, and what it missed is
   * read from the log. A connection can look up and yet receive nothing (centrifugo#1189).
   * @default 15000
   */
  readonly probeInterval?: number;
}

export interface ResolvedRedisOptions {
  readonly client: unknown;
  readonly subscriber: unknown;
  readonly probeInterval: number;
  readonly prefix: string;
  readonly maxPending: PendingLimits;
  readonly handoffTimeout: number;
}

/** Every default of `heartline/redis`; docs/server.md's table is checked against it. */
export const REDIS_DEFAULTS = Object.freeze({
  prefix: 'heartline',
  maxPending: Object.freeze({ messages: 10_000, bytes: 16 * 1024 * 1024 }),
  handoffTimeout: 1_000,
  probeInterval: 15_000,
});

export function resolveRedisOptions(raw: unknown): ResolvedRedisOptions {
  const o = withDefaults('options', raw, {
    ...REDIS_DEFAULTS,
    client: undefined as unknown,
    subscriber: undefined as unknown,
  });
  const subscriber = o.subscriber ?? o.client;
  portsOf(o.client, 'client', subscriber); // a clear error for anything that is not a client
  if (typeof o.prefix !== 'string' || !/^[\w.:-]{1,64}$/.test(o.prefix)) {
    invalid('prefix', 'a name of letters, digits, ".", ":", "_" or "-" (at most 64)', o.prefix);
  }
  const p = withDefaults('maxPending', o.maxPending, REDIS_DEFAULTS.maxPending);
  return Object.freeze({
    client: o.client,
    subscriber,
    probeInterval: checkDelay('probeInterval', o.probeInterval, 100),
    prefix: o.prefix,
    maxPending: Object.freeze({
      messages: checkNumber('maxPending.messages', p.messages, { min: 1, integer: true }),
      bytes: checkNumber('maxPending.bytes', p.bytes, { min: 1, integer: true }),
    }),
    handoffTimeout: checkDelay('handoffTimeout', o.handoffTimeout, 1),
  });
}
