import { randomBytes } from 'node:crypto';
import { EngineError } from '../common/errors.js';
import { type Entry, parseEntries, parseFeed } from './codec.js';
import type { NodeContext } from './node-context.js';
import { text } from './scripts.js';

/** Feed messages held while a gap is repaired; more and the repair starts over. */
const HELD_FEED = 10_000;

/** What the feed needs of the node that reads it. */
export interface FeedHost {
  /** Delivers one entry; the feed's position is at its offset already. */
  deliver(entry: Entry): void;
  /** A room change waits to learn where its publish landed: delivery waits for it. */
  held(): boolean;
  /** The log started over with `epoch`: no session of this node can resume any more. */
  restarted(epoch: string): void;
  invalidate(reason: string): void;
}

/**
 * The shared log as one node reads it: the batches published on the feed, received in offset
 * order, each once, and delivered in that order. A gap in the feed (a reconnect, a subscriber
 * the server dropped) is repaired from the log before what came after it is delivered.
 */
export class Feed {
  readonly #ctx: NodeContext;
  readonly #host: FeedHost;
  #epoch = '';
  #position = 0;
  /** Feed messages held while a gap is repaired. */
  #repairing: Buffer[] | undefined;
  /** Entries received and not yet delivered; the offset of the last one received. */
  #inbox: Entry[] = [];
  #received = 0;
  #closed = false;

  constructor(ctx: NodeContext, host: FeedHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** The offset of the last entry delivered. */
  get position(): number {
    return this.#position;
  }

  /** The offset of the last entry received. */
  get received(): number {
    return this.#received;
  }

  /** Reads the log's epoch and end (creating the epoch of a new log); call once subscribed. */
  async locate(): Promise<void> {
    const k = this.#ctx.keys;
    const c = this.#ctx.commands;
    await c.call(['HSETNX', k.meta, 'e', randomBytes(9).toString('base64url')]);
    const [e, s] = ((await c.call(['HMGET', k.meta, 'e', 's'])) as unknown[]).map((v) =>
      v == null ? '' : text(v),
    );
    this.#epoch = e!;
    this.#position = Math.max(this.#position, Number(s) || 0);
    this.#received = Math.max(this.#received, this.#position);
  }

  /** A message from the feed channel. */
  onMessage(bytes: Buffer): void {
    if (this.#closed) return;
    if (this.#repairing) {
      if (this.#repairing.length < HELD_FEED) this.#repairing.push(bytes);
      else void this.catchUp(); // too far behind: read it all from the log
      return;
    }
    let batch: ReturnType<typeof parseFeed>;
    try {
      batch = parseFeed(bytes);
    } catch (error) {
      this.#ctx.report(new EngineError('A feed message could not be read', error));
      return;
    }
    const first = batch.entries[0]?.offset ?? this.#received + 1;
    if (batch.epoch !== this.#epoch) this.adopt(batch.epoch);
    if (first > this.#received + 1) {
      // A hole in the feed (a reconnect, a subscriber the server dropped): repair it first.
      this.#repairing = [bytes];
      void this.catchUp();
      return;
    }
    this.#receive(batch.entries);
  }

  /** Queues entries in offset order (each once), then delivers what may be delivered. */
  #receive(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.offset <= this.#received) continue; // seen already (a repair overlapping the feed)
      this.#received = entry.offset;
      this.#inbox.push(entry);
    }
    this.drain();
  }

  /**
   * Delivers the entries received, in order, but stops while a room change waits to learn the
   * offset its publish landed at: delivering past it could deliver by the wrong membership.
   */
  drain(): void {
    while (this.#inbox.length > 0) {
      if (this.#host.held() && this.#inbox.length < HELD_FEED) {
        return; // resumed when the append reply comes back, an instant later
      }
      const entry = this.#inbox.shift()!;
      this.#position = entry.offset;
      this.#host.deliver(entry);
    }
  }

  /** Reads from the log what the subscriber may have missed (it reconnected, or was replaced). */
  catchUp(): Promise<void> {
    return this.#repair(this.#received);
  }

  /** Receives, from the log, every entry after `from`, then what the feed brought meanwhile. */
  async #repair(from: number): Promise<void> {
    if (this.#closed) return;
    this.#repairing ??= [];
    try {
      const k = this.#ctx.keys;
      const meta = (await this.#ctx.commands.call(['HMGET', k.meta, 'e', 't'])) as unknown[];
      const trimmed = Number(meta[1] == null ? 0 : text(meta[1]));
      const epoch = meta[0] == null ? undefined : text(meta[0]);
      if (epoch !== undefined && epoch !== this.#epoch) {
        // Redis lost its data while this node was away from the feed: a new log, from its start.
        this.adopt(epoch);
        from = 0;
      } else if (trimmed > from) {
        // The log no longer holds what was missed: sessions here may have a hole.
        this.#host.invalidate('the feed missed messages the log no longer holds');
      }
      const items = (await this.#ctx.commands.call([
        'XRANGE',
        k.log,
        `(${Math.max(from, trimmed)}-0`,
        '+',
      ])) as [Buffer, Buffer[]][];
      const entries: Entry[] = [];
      for (const [id, fields] of items) {
        const offset = Number(text(id).split('-')[0]);
        const packed = Buffer.concat([
          Buffer.from(`${offset}:${fields[1]!.length}:`),
          fields[1]!,
          fields[3]!,
          Buffer.from(`${fields[5]!.length}:`),
          fields[5]!,
        ]);
        entries.push(...parseEntries(packed));
      }
      this.#receive(entries);
    } catch (error) {
      this.#ctx.report(new EngineError('A gap in the feed could not be repaired yet', error));
      setTimeout(() => void this.catchUp(), 250).unref();
      return;
    }
    const held = this.#repairing ?? [];
    this.#repairing = undefined;
    for (const bytes of held) this.onMessage(bytes);
  }

  /**
   * The log started over (Redis lost its data, or a failover lost its tail): no session here
   * can resume any more, and the new log is read from its start (a gap is repaired).
   */
  adopt(epoch: string): void {
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    this.#position = 0;
    this.#received = 0;
    this.#inbox = [];
    this.#host.restarted(epoch);
  }

  close(): void {
    this.#closed = true;
  }
}
