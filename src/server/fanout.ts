import { type MessageData, prepareMessage } from './client/outgoing-message.js';
import { ServerClient } from './client/server-client.js';
import type { Audience, Engine, Room } from './engine/engine.js';
import type { BroadcastOptions, RoomHost } from './room-target.js';

/**
 * A server's sends to many clients: `broadcast()` and every `RoomTarget` of `to()`. Each
 * message is encoded once and handed to the engine with its audience, so that a cluster
 * delivers it on every node; members are looked up among this process's clients.
 */
export class Fanout implements RoomHost {
  readonly #engine: Engine;
  readonly #clients: ReadonlyMap<string, ServerClient>;

  constructor(engine: Engine, clients: ReadonlyMap<string, ServerClient>) {
    this.#engine = engine;
    this.#clients = clients;
  }

  /** Sends to the members of `rooms`, or to every client when `rooms` is undefined. */
  broadcastTo(
    rooms: readonly Room[] | undefined,
    data: MessageData,
    options: BroadcastOptions | undefined,
  ): boolean {
    const message = prepareMessage(data);
    const except = options?.except;
    const ids =
      except === undefined
        ? undefined
        : new Set(except instanceof ServerClient ? [except.id] : [...except].map((c) => c.id));
    const audience: Audience = rooms
      ? { kind: 'rooms', rooms, except: ids }
      : { kind: 'all', except: ids };
    return this.#engine.publish(message, audience, options?.volatile === true);
  }

  membersOf(rooms: readonly Room[]): ServerClient[] {
    const ids = new Set<string>();
    for (const room of rooms) for (const id of this.#engine.members(room)) ids.add(id);
    return [...ids].flatMap((id) => this.#clients.get(id) ?? []);
  }

  countOf(rooms: readonly Room[]): number {
    return rooms.length === 1 ? this.#engine.members(rooms[0]!).size : this.membersOf(rooms).length;
  }
}
