/**
 * The two things Heartline needs from a Redis client, over whichever client the app supplies:
 * node-redis (`redis` ≥ 5) or ioredis (≥ 5). A client is recognised by what it can do, never by
 * `instanceof`, because an app may hold another copy of either package. Bulk replies always
 * come back as Buffers, so payloads stay byte-exact whatever they hold.
 */
import { invalid } from '../common/validate.js';

export type RedisArg = string | Buffer;

/** A connection that runs commands, replies as Buffers. */
export interface CommandPort {
  call(args: readonly RedisArg[]): Promise<unknown>;
}

/** A connection in subscriber mode, of Heartline's own (a duplicate of the app's client). */
export interface SubscriberPort {
  /** Subscribes to a sharded channel (`SSUBSCRIBE`); messages arrive as Buffers. */
  subscribe(channel: string, listener: (message: Buffer) => void): Promise<void>;
  /** Called after every reconnect of this connection (not the first connect). */
  onReconnect(listener: () => void): void;
  /** Called for each error of this connection (it retries by itself). */
  onError(listener: (error: Error) => void): void;
  /** Closes the connection; Heartline only ever closes what it made. */
  close(): Promise<void>;
  /** Drops the connection at once, without a goodbye (one that stopped answering). */
  destroy(): void;
}

interface NodeRedisLike {
  sendCommand(args: readonly RedisArg[], options?: object): Promise<unknown>;
  sSubscribe(channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

interface IoRedisLike {
  callBuffer(command: string, ...args: RedisArg[]): Promise<unknown>;
  ssubscribe(channel: string): Promise<unknown>;
  duplicate(): IoRedisLike;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

// RESP type 36 ('$', a bulk string) mapped to Buffer: node-redis's RESP_TYPES.BLOB_STRING,
// written as the number so that Heartline needs no copy of the package itself.
const BUFFERS = { typeMapping: { 36: Buffer } };

function isNodeRedis(client: unknown): client is NodeRedisLike {
  const c = client as Partial<Record<keyof NodeRedisLike, unknown>>;
  return typeof c.sendCommand === 'function' && typeof c.sSubscribe === 'function';
}

function isIoRedis(client: unknown): client is IoRedisLike {
  const c = client as Partial<Record<keyof IoRedisLike, unknown>>;
  return typeof c.callBuffer === 'function' && typeof c.ssubscribe === 'function';
}

/**
 * The reconnect and error listeners of a subscriber connection, wired to its 'ready' (every
 * one after the first is a reconnect) and 'error' events. Both libraries emit those.
 */
function watch(sub: {
  on(event: string, listener: (...args: never[]) => void): unknown;
}): Pick<SubscriberPort, 'onReconnect' | 'onError'> {
  let connected = false;
  const reconnects: (() => void)[] = [];
  sub.on('ready', () => {
    if (connected) for (const fn of reconnects) fn();
    connected = true;
  });
  const errors: ((error: Error) => void)[] = [];
  // A listener is needed anyway: an EventEmitter without one throws on 'error'.
  sub.on('error', (error: Error) => {
    for (const fn of errors) fn(error);
  });
  return {
    onReconnect: (fn) => reconnects.push(fn),
    onError: (fn) => errors.push(fn),
  };
}

function nodeRedisSubscriber(client: NodeRedisLike): SubscriberPort {
  const sub = client.duplicate();
  const events = watch(sub);
  const ready = sub.connect();
  return {
    ...events,
    subscribe: async (channel, listener) => {
      await ready;
      await sub.sSubscribe(channel, listener, true);
    },
    close: async () => {
      await ready.catch(() => {});
      await (sub.close ?? sub.quit)?.call(sub).catch(() => {});
    },
    destroy: () => {
      if (sub.destroy) sub.destroy();
      else void sub.disconnect?.().catch(() => {});
    },
  };
}

function ioRedisSubscriber(client: IoRedisLike): SubscriberPort {
  const sub = client.duplicate();
  const listeners = new Map<string, (message: Buffer) => void>();
  sub.on('smessageBuffer', ((channel: Buffer, message: Buffer) =>
    listeners.get(channel.toString())?.(message)) as never);
  return {
    ...watch(sub),
    subscribe: async (channel, listener) => {
      listeners.set(channel, listener);
      await sub.ssubscribe(channel);
    },
    close: async () => {
      await sub.quit().catch(() => {});
    },
    destroy: () => sub.disconnect(),
  };
}

/** The app's client as Heartline uses it: commands on it, and a subscriber of Heartline's own. */
export interface RedisPorts {
  readonly commands: CommandPort;
  /**
   * Makes a new subscriber connection: a duplicate of the app's `subscriber` client when it
   * gave one (so that it can route it elsewhere), else of its client.
   */
  subscriber(): SubscriberPort;
  /** Which library the client is, for messages. */
  readonly library: 'node-redis' | 'ioredis';
}

/**
 * Wraps a node-redis or ioredis client; anything else is a mistake worth naming.
 *
 * @example
 * const ports = portsOf(await createClient({ url }).connect());
 * await ports.commands.call(['PING']);
 */
export function portsOf(
  client: unknown,
  name = 'client',
  subscriber: unknown = client,
): RedisPorts {
  if (isNodeRedis(client) && isNodeRedis(subscriber)) {
    return {
      library: 'node-redis',
      commands: { call: (args) => client.sendCommand(args, BUFFERS) },
      subscriber: () => nodeRedisSubscriber(subscriber),
    };
  }
  if (isIoRedis(client) && isIoRedis(subscriber)) {
    return {
      library: 'ioredis',
      commands: { call: ([command, ...args]) => client.callBuffer(String(command), ...args) },
      subscriber: () => ioRedisSubscriber(subscriber),
    };
  }
  if (isNodeRedis(client) || isIoRedis(client)) {
    return invalid('subscriber', 'a client of the same library as `client`', subscriber);
  }
  return invalid(
    name,
    'a connected node-redis client (createClient(…).connect()) or an ioredis client',
    client,
  );
}
