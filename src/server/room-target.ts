import { invalid } from '../common/validate.js';
import type { MessageData } from './client/outgoing-message.js';
import type { ServerClient } from './client/server-client.js';
import type { Room } from './engine/engine.js';

/** Options of a broadcast: `server.broadcast()` and `server.to(room).send()`. */
export interface BroadcastOptions {
  /** A client, or clients, left out (typically the sender). */
  except?: ServerClient | Iterable<ServerClient>;
  /**
   * May be dropped for clients whose send buffer is not empty.
   * @default false
   */
  volatile?: boolean;
}

/** What a `RoomTarget` needs from its server. */
export interface RoomHost {
  broadcastTo(
    rooms: readonly Room[],
    data: MessageData,
    options: BroadcastOptions | undefined,
  ): boolean;
  membersOf(rooms: readonly Room[]): ServerClient[];
  countOf(rooms: readonly Room[]): number;
}

/** Checks a room argument: a non-empty string, or an array of them. */
export function toRooms(value: Room | readonly Room[], name = 'room'): Room[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) return invalid(name, 'a room name or an array of room names', value);
  list.forEach((room: unknown, i) => {
    if (typeof room !== 'string' || room === '') {
      invalid(Array.isArray(value) ? `${name}[${i}]` : name, 'a non-empty string', room);
    }
  });
  return [...new Set(list)];
}

/**
 * The members of one or more rooms, as returned by `server.to(room)`: send to them, count them,
 * list them. A client in several of the rooms counts and receives once.
 *
 * @example
 * server.to('room:42').send('hello', { except: sender });
 * server.to(['room:1', 'room:2']).size // members of either room
 */
export class RoomTarget {
  /** The rooms this target covers. */
  readonly rooms: readonly Room[];
  readonly #host: RoomHost;

  /** @internal Created by `HeartlineServer#to()`. */
  constructor(rooms: readonly Room[], host: RoomHost) {
    this.rooms = Object.freeze([...rooms]);
    this.#host = host;
  }

  /**
   * Adds more rooms: the target becomes their union.
   * @example server.to('a').to('b').send('to members of a or b');
   */
  to(room: Room | readonly Room[]): RoomTarget {
    return new RoomTarget([...new Set([...this.rooms, ...toRooms(room)])], this.#host);
  }

  /**
   * Sends to every member, encoding the message once whatever the number of members; in a
   * cluster, to the members on every node. Returns `false` when the engine did not accept it.
   * @example server.to('room:42').send(JSON.stringify(event));
   */
  send(data: MessageData, options?: BroadcastOptions): boolean {
    return this.#host.broadcastTo(this.rooms, data, options);
  }

  /** How many clients are members of these rooms. */
  get size(): number {
    return this.#host.countOf(this.rooms);
  }

  /**
   * How many members on this process are `congested` (their send buffer past half of
   * `highWaterMark`): a producer that sends to the room slows down while it is not 0. A scan
   * of the members.
   * @example if (server.to('feed').congested > 0) await delay(10);
   */
  get congested(): number {
    let n = 0;
    for (const client of this.#host.membersOf(this.rooms)) if (client.congested) n++;
    return n;
  }

  /**
   * The member clients, each once.
   * @example server.to('room:42').members().map((c) => c.id)
   */
  members(): ServerClient[] {
    return this.#host.membersOf(this.rooms);
  }
}
