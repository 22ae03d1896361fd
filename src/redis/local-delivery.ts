import { EngineError } from '../common/errors.js';
import type { PreparedMessage } from '../server/client/outgoing-message.js';
import type { Audience, EngineHost } from '../server/engine/engine.js';
import { MemoryRooms } from '../server/engine/memory-rooms.js';
import { type Entry, parseVolatile } from './codec.js';
import type { RedisCursor } from './cursor.js';

/**
 * Where a message from Redis goes on this node: to the local clients of its audience, by the
 * rooms as the feed has reached them; a reliable one for a session whose replay is streaming
 * goes to its replay cursor instead, which writes it after what the replay reads.
 */
export class LocalDelivery {
  /**
   * Rooms as the feed has reached them, for delivery. A room change made after a publish takes
   * effect after that publish's offset, so that delivery (and a replay) follows the program
   * order of this node: a client that joins after a send does not get it; one that leaves
   * after a send does.
   */
  readonly rooms = new MemoryRooms();
  readonly #cursors = new Map<string, RedisCursor>();
  readonly #host: Pick<EngineHost, 'deliver' | 'clientIds' | 'report'>;

  constructor(host: Pick<EngineHost, 'deliver' | 'clientIds' | 'report'>) {
    this.#host = host;
  }

  /** Delivers an entry of the feed. */
  entry(entry: Entry): void {
    const host = this.#host;
    this.#forEach(entry.audience, (id) => {
      const cursor = this.#cursors.get(id);
      if (cursor) cursor.hold(entry.message);
      else host.deliver(id, entry.message, false);
    });
  }

  /** Delivers a message of the volatile channel. */
  volatile(bytes: Buffer): void {
    const host = this.#host;
    let parsed: ReturnType<typeof parseVolatile>;
    try {
      parsed = parseVolatile(bytes);
    } catch (error) {
      host.report(new EngineError('A volatile message could not be read', error));
      return;
    }
    const { audience, message } = parsed;
    this.#forEach(audience, (id) => host.deliver(id, message, true));
  }

  /** Calls `to` for each local client of `a`, by the rooms as the feed has reached them. */
  #forEach(a: Audience, to: (id: string) => void): void {
    if (a.kind === 'client') to(a.id);
    else if (a.kind === 'rooms') this.rooms.forEachMember(a.rooms, a.except, to);
    else for (const id of this.#host.clientIds()) if (!a.except?.has(id)) to(id);
  }

  /** Session `id`'s live entries go to `cursor` from now on (a previous replay ends). */
  replay(id: string, cursor: RedisCursor): void {
    this.#cursors.get(id)?.close();
    this.#cursors.set(id, cursor);
  }

  /** The replay of session `id` under way, if any. */
  replaying(id: string): RedisCursor | undefined {
    return this.#cursors.get(id);
  }

  /** A cursor closed: what it still held is delivered live. */
  released(id: string, cursor: RedisCursor, held: readonly PreparedMessage[]): void {
    if (this.#cursors.get(id) === cursor) this.#cursors.delete(id);
    for (const message of held) this.#host.deliver(id, message, false);
  }

  /** Ends the replay of session `id`, if one is under way. */
  endReplay(id: string): void {
    this.#cursors.get(id)?.close();
  }

  clear(): void {
    for (const cursor of this.#cursors.values()) cursor.close();
    this.#cursors.clear();
    this.rooms.clear();
  }
}
