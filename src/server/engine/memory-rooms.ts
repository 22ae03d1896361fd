import type { PreparedMessage } from '../client/outgoing-message.js';
import type { Adapter, AdapterHost, BroadcastTarget, Room } from './engine.js';

const EMPTY: ReadonlySet<never> = new Set<never>();

/**
 * Rooms as two indexes, the socket.io adapter's shape: `rooms` maps a room to its members and
 * `memberships` maps a client to its rooms, so that both "who is in room X" and "leave every
 * room" cost one lookup. A room is deleted with its last member, so nothing grows with rooms
 * that were used once.
 *
 * @example
 * const adapter = new MemoryAdapter(host);
 * adapter.join(client.id, 'room:42');
 * adapter.members('room:42').size // 1
 */
export class MemoryAdapter implements Adapter {
  readonly #host: AdapterHost;
  readonly #rooms = new Map<Room, Set<string>>();
  readonly #memberships = new Map<string, Set<Room>>();

  constructor(host: AdapterHost) {
    this.#host = host;
  }

  join(clientId: string, room: Room): void {
    const members = this.#rooms.get(room);
    if (members) members.add(clientId);
    else this.#rooms.set(room, new Set([clientId]));
    const rooms = this.#memberships.get(clientId);
    if (rooms) rooms.add(room);
    else this.#memberships.set(clientId, new Set([room]));
  }

  leave(clientId: string, room: Room): void {
    const rooms = this.#memberships.get(clientId);
    if (!rooms?.delete(room)) return;
    if (rooms.size === 0) this.#memberships.delete(clientId);
    this.#removeMember(room, clientId);
  }

  leaveAll(clientId: string): void {
    const rooms = this.#memberships.get(clientId);
    if (!rooms) return;
    this.#memberships.delete(clientId);
    for (const room of rooms) this.#removeMember(room, clientId);
  }

  members(room: Room): ReadonlySet<string> {
    return this.#rooms.get(room) ?? EMPTY;
  }

  roomsOf(clientId: string): ReadonlySet<Room> {
    return this.#memberships.get(clientId) ?? EMPTY;
  }

  rooms(): Iterable<Room> {
    return this.#rooms.keys();
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  broadcast(message: PreparedMessage, target: BroadcastTarget): void {
    const { rooms, except, volatile } = target;
    const send = (id: string) => {
      if (!except?.has(id)) this.#host.deliver(id, message, volatile);
    };
    if (rooms === undefined) {
      for (const id of this.#host.clientIds()) send(id);
    } else if (rooms.length === 1) {
      for (const id of this.members(rooms[0]!)) send(id);
    } else {
      // A client in several of the rooms gets the message once.
      const seen = new Set<string>();
      for (const room of rooms) {
        for (const id of this.members(room)) {
          if (!seen.has(id)) {
            seen.add(id);
            send(id);
          }
        }
      }
    }
  }

  close(): void {
    this.#rooms.clear();
    this.#memberships.clear();
  }

  #removeMember(room: Room, clientId: string): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    members.delete(clientId);
    if (members.size === 0) this.#rooms.delete(room);
  }
}
