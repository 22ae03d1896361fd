import { randomBytes } from 'node:crypto';
import { CHAT_LIMITS, type ChatMessage } from './demo-chat.js';

/** One member of the room as the store keeps it: a session, its name and whether it is away. */
export interface StoredMember {
  /** The session's id. */
  readonly id: string;
  readonly name: string;
  readonly away: boolean;
  /** When it joined (ms), for the order of the names. */
  readonly since: number;
}

/**
 * Where the demo's chat room keeps what every server of it must agree on when several demo
 * servers share one Redis (`heartline demo --redis`) and so are one room: the numbering of
 * messages, the recent history and the members. One server alone keeps all of it in memory
 * (`ChatRoom` without a store).
 */
export interface ChatStore {
  /** The id of this numbering (`ChatMessage.run`): one per room, the same on every server. */
  run(): Promise<string>;
  /** The next message number of the room. */
  next(): Promise<number>;
  remember(message: ChatMessage): Promise<void>;
  history(): Promise<ChatMessage[]>;
  setMember(session: string, member: StoredMember): Promise<void>;
  removeMember(session: string): Promise<void>;
  members(): Promise<StoredMember[]>;
}

/** The commands the Redis store runs, on a node-redis client. */
interface Commands {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The store of a room shared by several demo servers, in Redis. Its keys live as long as the
 * room is used (a day after its last message); members of a server that died without saying so
 * fade when their session's resume window has passed (`ttl`).
 */
export class RedisChatStore implements ChatStore {
  readonly #redis: Commands;
  readonly #keys: { run: string; seq: string; history: string; members: string };
  readonly #ttl: number;

  constructor(redis: Commands, prefix: string, ttl: number) {
    this.#redis = redis;
    const base = `demo:{${prefix}}:`;
    this.#keys = {
      run: `${base}run`,
      seq: `${base}seq`,
      history: `${base}history`,
      members: `${base}members`,
    };
    this.#ttl = ttl;
  }

  async run(): Promise<string> {
    const k = this.#keys;
    await this.#redis.sendCommand([
      'SET',
      k.run,
      randomBytes(6).toString('base64url'),
      'NX',
      'EX',
      '86400',
    ]);
    return String(await this.#redis.sendCommand(['GET', k.run]));
  }

  async next(): Promise<number> {
    return Number(await this.#redis.sendCommand(['INCR', this.#keys.seq]));
  }

  async remember(message: ChatMessage): Promise<void> {
    const k = this.#keys;
    await this.#redis.sendCommand(['RPUSH', k.history, JSON.stringify(message)]);
    await this.#redis.sendCommand(['LTRIM', k.history, String(-CHAT_LIMITS.history), '-1']);
    for (const key of [k.history, k.seq, k.run]) {
      await this.#redis.sendCommand(['EXPIRE', key, '86400']);
    }
  }

  async history(): Promise<ChatMessage[]> {
    const list = (await this.#redis.sendCommand([
      'LRANGE',
      this.#keys.history,
      '0',
      '-1',
    ])) as string[];
    return list.map((item) => JSON.parse(item) as ChatMessage);
  }

  async setMember(session: string, member: StoredMember): Promise<void> {
    const value = JSON.stringify({ ...member, until: Date.now() + this.#ttl });
    await this.#redis.sendCommand(['HSET', this.#keys.members, session, value]);
  }

  async removeMember(session: string): Promise<void> {
    await this.#redis.sendCommand(['HDEL', this.#keys.members, session]);
  }

  async members(): Promise<StoredMember[]> {
    const flat = (await this.#redis.sendCommand(['HGETALL', this.#keys.members])) as
      | string[]
      | Record<string, string>;
    const values = Array.isArray(flat) ? flat.filter((_, i) => i % 2 === 1) : Object.values(flat);
    const now = Date.now();
    return values
      .map((v) => JSON.parse(v) as StoredMember & { until: number })
      .filter((m) => m.until > now);
  }
}
