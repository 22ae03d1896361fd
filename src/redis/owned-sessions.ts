import { EngineError } from '../common/errors.js';
import { Timers } from '../common/timers.js';
import type { ResumeRequest, Room, SessionInit } from '../server/engine/engine.js';
import type { NodeContext } from './node-context.js';
import { count, run, SCRIPTS, text, tokenHash } from './scripts.js';

/** What this node keeps of each session it owns. */
export interface Owned {
  /** The fencing generation it owns the session under. */
  g: number;
  attached: boolean;
  /** Its rooms, each with the position it joined at (as recorded in Redis). */
  readonly joined: Map<Room, number>;
}

/** What the `claim` script answered a resume. */
export type Claim =
  | { readonly ok: false; readonly reason: 'unknown' | 'token' | 'expired' | 'epoch' }
  | {
      readonly ok: true;
      /** The last client number handled, as Redis has it. */
      readonly lastSeq: number;
      readonly protocol: string;
      /** The node that owned the session before (`''` when none). */
      readonly previous: string;
      /** The generation this node owns the session under now. */
      readonly g: number;
      /** Its rooms and the positions they were joined at: room, position, room, position… */
      readonly rooms: readonly string[];
      /** The previous owner's liveness key is there: it may answer a hand-over. */
      readonly alive: boolean;
      readonly identity: unknown;
    };

/**
 * The sessions this node owns, and their keys in Redis: the session hash, its rooms with the
 * positions they were joined at, and the rooms it left. The keys of attached sessions are
 * refreshed while this node lives; those of a detached one live for the resume window. Writes
 * that another node could race are fenced by the generation a session is owned under.
 */
export class OwnedSessions {
  readonly #ctx: NodeContext;
  /** The server's resume window (ms). */
  readonly #window: number;
  readonly #owned = new Map<string, Owned>();
  readonly #timers = new Timers<'refresh'>({ unref: true });

  constructor(ctx: NodeContext, window: number) {
    this.#ctx = ctx;
    this.#window = window;
  }

  get size(): number {
    return this.#owned.size;
  }

  create(init: SessionInit, position: number): void {
    this.#owned.set(init.id, { g: 1, attached: true, joined: new Map() });
    const key = this.#ctx.keys.session(init.id);
    this.#ctx.send([
      'HSET',
      key,
      'k',
      tokenHash(init.token),
      'p',
      init.protocol,
      'q',
      '0',
      'o',
      this.#ctx.node,
      'g',
      '1',
      'c',
      String(position),
      'i',
      init.identity === undefined ? '' : JSON.stringify(init.identity),
    ]);
    this.#ctx.send(['PEXPIRE', key, String(this.ttl())]);
  }

  /** Claims session `id` for this node in Redis, if the resume may have it. */
  async claim(request: ResumeRequest): Promise<Claim> {
    const k = this.#ctx.keys;
    const { id } = request;
    const reply = (await run(
      this.#ctx.commands,
      SCRIPTS.claim,
      [k.meta, k.session(id), k.tombstone(id), k.rooms(id)],
      [request.epoch, tokenHash(request.token), String(request.offset), this.#ctx.node, k.base],
    )) as unknown[];
    if (text(reply[0]) !== 'OK') {
      return { ok: false, reason: text(reply[1]) as 'unknown' | 'token' | 'expired' | 'epoch' };
    }
    const identityText = text(reply[7] ?? '');
    return {
      ok: true,
      lastSeq: count(reply[1]),
      protocol: text(reply[2]),
      previous: text(reply[3]),
      g: count(reply[4]),
      rooms: (reply[5] as unknown[]).map(text),
      alive: count(reply[6]) === 1,
      identity: identityText === '' ? undefined : JSON.parse(identityText),
    };
  }

  /** Owns session `id` under generation `g`, in the rooms its claim returned. */
  own(id: string, g: number, rooms: readonly string[]): Owned {
    const owned: Owned = { g, attached: true, joined: new Map() };
    this.#owned.set(id, owned);
    for (let i = 0; i < rooms.length; i += 2) owned.joined.set(rooms[i]!, Number(rooms[i + 1]));
    return owned;
  }

  /** Records that session `id` joined `room` at position `at`. */
  joined(id: string, room: Room, at: number): void {
    const owned = this.#owned.get(id);
    if (!owned) return;
    owned.joined.set(room, at);
    this.#ctx.send(['HSET', this.#ctx.keys.rooms(id), room, String(at)]);
    this.#ctx.send(['PEXPIRE', this.#ctx.keys.rooms(id), String(this.ttl())]);
  }

  /** Records that session `id` left `room` at position `at`, and what it was in it for. */
  left(id: string, room: Room, at: number): void {
    const owned = this.#owned.get(id);
    const from = owned?.joined.get(room);
    if (!owned || from === undefined) return;
    owned.joined.delete(room);
    const k = this.#ctx.keys;
    this.#ctx.send(['HDEL', k.rooms(id), room]);
    if (at > from) {
      this.#ctx.send(['RPUSH', k.left(id), `${from}|${at}|${room}`]);
      this.#ctx.send(['LTRIM', k.left(id), '-256', '-1']);
      this.#ctx.send(['PEXPIRE', k.left(id), String(this.ttl())]);
    }
  }

  /** Another node owns session `id` now. */
  delete(id: string): void {
    this.#owned.delete(id);
  }

  persist(
    batch: ReadonlyArray<{ readonly id: string; readonly seq: number }>,
  ): Promise<void> | void {
    const mine = batch.filter((b) => this.#owned.has(b.id));
    if (mine.length === 0) return;
    const keys = mine.map((b) => this.#ctx.keys.session(b.id));
    const args = [
      this.#ctx.node,
      ...mine.flatMap((b) => [String(this.#owned.get(b.id)!.g), String(b.seq)]),
    ];
    return run(this.#ctx.commands, SCRIPTS.persist, keys, args).then(() => undefined);
  }

  detach(id: string): void {
    const owned = this.#owned.get(id);
    if (owned) owned.attached = false;
    // The session's keys now live for the resume window, even if this node dies meanwhile.
    const ttl = String(this.#window);
    for (const key of this.#sessionKeys(id)) this.#ctx.send(['PEXPIRE', key, ttl]);
  }

  release(id: string, lastSeq: number): Promise<void> | undefined {
    const owned = this.#owned.get(id);
    if (!owned) return undefined;
    this.#owned.delete(id);
    const window = String(this.#window);
    return run(this.#ctx.commands, SCRIPTS.release, this.#sessionKeys(id), [
      this.#ctx.node,
      String(owned.g),
      String(lastSeq),
      window,
    ]).then(() => undefined);
  }

  end(id: string, reason: 'closed' | 'expired'): void {
    const owned = this.#owned.get(id);
    this.#owned.delete(id);
    // Fenced: a node that lost the session to another (it moved on) must not delete it there.
    // EVAL, not EVALSHA: a NOSCRIPT retry would let a later command (a resume) overtake it.
    if (!owned) return;
    const keys = [...this.#sessionKeys(id), this.#ctx.keys.tombstone(id)];
    const tombstone = reason === 'expired' ? '3600000' : '0';
    this.#ctx.send([
      'EVAL',
      SCRIPTS.end.source,
      String(keys.length),
      ...keys,
      this.#ctx.node,
      String(owned.g),
      tombstone,
    ]);
  }

  /** Keeps the attached sessions' keys alive from now on. */
  keepAlive(): void {
    if (!this.#timers.has('refresh'))
      this.#timers.set('refresh', this.#refreshEvery(), () => this.#refresh());
  }

  #refresh(): void {
    const keys: string[] = [];
    for (const [id, owned] of this.#owned) if (owned.attached) keys.push(...this.#sessionKeys(id));
    for (let i = 0; i < keys.length; i += 1_500) {
      void run(this.#ctx.commands, SCRIPTS.touch, keys.slice(i, i + 1_500), [
        String(this.ttl()),
      ]).catch((error) =>
        this.#ctx.report(new EngineError('Session keys could not be refreshed', error)),
      );
    }
    this.#timers.set('refresh', this.#refreshEvery(), () => this.#refresh());
  }

  refreshOne(id: string): void {
    for (const key of this.#sessionKeys(id)) this.#ctx.send(['PEXPIRE', key, String(this.ttl())]);
  }

  #sessionKeys(id: string): string[] {
    const k = this.#ctx.keys;
    return [k.session(id), k.rooms(id), k.left(id)];
  }

  /** How long an owned session's keys live: past two refreshes, so a live owner never loses one. */
  ttl(): number {
    return this.#window + 2 * this.#refreshEvery();
  }

  #refreshEvery(): number {
    return Math.max(1_000, Math.min(30_000, Math.floor(this.#window / 3)));
  }

  close(): void {
    this.#timers.clearAll();
    this.#owned.clear();
  }
}
