import type { Engine, Room } from './engine.js';

const EMPTY: ReadonlySet<never> = new Set<never>();

/**
 * Rooms as two indexes, the socket.io adapter's shape: `rooms` maps a room to its members and
 * `memberships` maps a client to its rooms, so that both "who is in room X" and "leave every
 * room" cost one lookup. A room is deleted with its last member, so nothing grows with rooms
 * that were used once.
 *
 * @example
 * const rooms = new MemoryRooms();
 * rooms.join(client.id, 'room:42');
 * rooms.members('room:42').size // 1
 */
export class MemoryRooms {
  readonly #rooms = new Map<Room, Set<string>>();
  readonly #memberships = new Map<string, Set<Room>>();

  /** Adds `id` to `room`; false when it was already a member. */
  join(id: string, room: Room): boolean {
    const rooms = this.#memberships.get(id);
    if (rooms?.has(room)) return false;
    if (rooms) rooms.add(room);
    else this.#memberships.set(id, new Set([room]));
    const members = this.#rooms.get(room);
    if (members) members.add(id);
    else this.#rooms.set(room, new Set([id]));
    return true;
  }

  /** Removes `id` from `room`; false when it was not a member. */
  leave(id: string, room: Room): boolean {
    const rooms = this.#memberships.get(id);
    if (!rooms?.delete(room)) return false;
    if (rooms.size === 0) this.#memberships.delete(id);
    this.#removeMember(room, id);
    return true;
  }

  leaveAll(id: string): void {
    const rooms = this.#memberships.get(id);
    if (!rooms) return;
    this.#memberships.delete(id);
    for (const room of rooms) this.#removeMember(room, id);
  }

  members(room: Room): ReadonlySet<string> {
    return this.#rooms.get(room) ?? EMPTY;
  }

  roomsOf(id: string): ReadonlySet<Room> {
    return this.#memberships.get(id) ?? EMPTY;
  }

  rooms(): Iterable<Room> {
    return this.#rooms.keys();
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  /**
   * Calls `fn` once for every member of any of `rooms` (a client in several of them once), but
   * not for the ids in `except`.
   */
  forEachMember(
    rooms: readonly Room[],
    except: ReadonlySet<string> | undefined,
    fn: (id: string) => void,
  ): void {
    if (rooms.length === 1) {
      for (const id of this.members(rooms[0]!)) if (!except?.has(id)) fn(id);
      return;
    }
    const seen = new Set<string>();
    for (const room of rooms) {
      for (const id of this.members(room)) {
        if (seen.has(id) || except?.has(id)) continue;
        seen.add(id);
        fn(id);
      }
    }
  }

  clear(): void {
    this.#rooms.clear();
    this.#memberships.clear();
  }

  #removeMember(room: Room, id: string): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    members.delete(id);
    if (members.size === 0) this.#rooms.delete(room);
  }
}

/**
 * The read side of an engine's membership, answered from this process's `MemoryRooms`: both
 * engines keep every member of a room that is connected here in one, and so answer alike.
 */
export abstract class LocalMembership
  implements Pick<Engine, 'members' | 'roomsOf' | 'rooms' | 'roomCount'>
{
  /** Who is in which room, of the sessions on this process. */
  protected readonly localRooms = new MemoryRooms();

  members(room: Room): ReadonlySet<string> {
    return this.localRooms.members(room);
  }

  roomsOf(id: string): ReadonlySet<Room> {
    return this.localRooms.roomsOf(id);
  }

  rooms(): Iterable<Room> {
    return this.localRooms.rooms();
  }

  get roomCount(): number {
    return this.localRooms.roomCount;
  }
}
