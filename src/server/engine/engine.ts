import type { PreparedMessage } from '../client/outgoing-message.js';

/** A room name: any non-empty string the app chooses (`'room:42'`, `'user:7'`). */
export type Room = string;

/** Who a broadcast goes to. */
export interface BroadcastTarget {
  /** Members of any of these rooms (each client once); every client when absent. */
  readonly rooms?: readonly Room[] | undefined;
  /** Client ids left out. */
  readonly except?: ReadonlySet<string> | undefined;
  /** May be dropped for a client whose send buffer is filling up. */
  readonly volatile: boolean;
}

/** What the server lends its adapter: a way to reach the clients connected to this process. */
export interface AdapterHost {
  /** Writes a prepared message to one local client; unknown or closed ids are ignored. */
  deliver(clientId: string, message: PreparedMessage, volatile: boolean): void;
  /** The ids of every client connected to this process. */
  clientIds(): Iterable<string>;
}

/**
 * The seam between the server and where room membership and fan-out live. The default keeps
 * both in memory (`MemoryAdapter`); `heartline/redis` will carry broadcasts between processes
 * behind the same interface. Ids, not client objects, cross this seam so that membership can
 * be stored anywhere.
 */
export interface Adapter {
  join(clientId: string, room: Room): void;
  leave(clientId: string, room: Room): void;
  /** Removes the client from every room; called once when it disconnects. */
  leaveAll(clientId: string): void;
  /** Local members of `room`; an empty set for a room that does not exist. */
  members(room: Room): ReadonlySet<string>;
  /** The rooms a local client is in. */
  roomsOf(clientId: string): ReadonlySet<Room>;
  /** The names of the rooms that have at least one member. */
  rooms(): Iterable<Room>;
  /** How many rooms have at least one member. */
  readonly roomCount: number;
  /** Delivers one prepared message to every client the target selects. */
  broadcast(message: PreparedMessage, target: BroadcastTarget): void;
  /** Releases what the adapter holds; called once by `HeartlineServer#close()`. */
  close(): void | Promise<void>;
}

/**
 * Builds the adapter of one server.
 *
 * @example
 * new HeartlineServer({ port: 0, adapter: (host) => new MemoryAdapter(host) })
 */
export type AdapterFactory = (host: AdapterHost) => Adapter;
