import { randomBytes } from 'node:crypto';
import { EngineError } from '../common/errors.js';
import { Timers } from '../common/timers.js';
import type { PreparedMessage } from '../server/client/outgoing-message.js';
import type {
  Audience,
  Engine,
  EngineHost,
  EngineSettings,
  ResumeRequest,
  ResumeResult,
  Room,
  SessionInit,
} from '../server/engine/engine.js';
import { LocalMembership, MemoryRooms } from '../server/engine/memory-rooms.js';
import { AppendQueue } from './append-queue.js';
import {
  type Entry,
  encodeAudience,
  packVolatile,
  parseEntries,
  parseFeed,
  parseVolatile,
} from './codec.js';
import { RedisCursor } from './cursor.js';
import { Keys } from './keys.js';
import type { ResolvedRedisOptions } from './options.js';
import { portsOf, type RedisPorts, type SubscriberPort } from './port.js';
import { count, run, SCRIPTS, text, tokenHash } from './scripts.js';

/** How long a node's liveness key lives, and how often it is renewed. */
const NODE_TTL = 10_000;
const NODE_BEAT = 3_000;
/** Feed messages held while a gap is repaired; more and the repair starts over. */
const HELD_FEED = 10_000;

/** What this node keeps of each session it owns. */
interface Owned {
  /** The fencing generation it owns the session under. */
  g: number;
  attached: boolean;
  /** Its rooms, each with the position it joined at (as recorded in Redis). */
  readonly joined: Map<Room, number>;
}

/**
 * The Redis engine (`heartline/redis`): every node with the same Redis and prefix is one
 * cluster. Reliable messages are appended to one log in Redis by a script that also publishes
 * them on one feed, and every node delivers only from that feed, in offset order, repairing
 * any gap from the log, so that each member of a room sees the same order on every node.
 * Sessions, their rooms and the last client message they handled live in Redis too, so a
 * client may resume on any node; the previous owner, if alive, hands the session over.
 */
/** The head of a forwarded answer on a node's control channel. */
const FORWARD = Buffer.from('A ', 'latin1');

export class RedisEngine extends LocalMembership implements Engine {
  readonly durable = true;
  readonly #options: ResolvedRedisOptions;
  readonly #ports: RedisPorts;
  readonly #keys: Keys;
  /** This process's id in the cluster: its liveness key and control channel. */
  readonly #node = randomBytes(9).toString('base64url');
  /** This node's name in the cluster: its liveness key, its control channel, its request ids. */
  get node(): string {
    return this.#node;
  }
  /** Rooms as the app set them, for its questions (`client.rooms`, `members()`). */
  /**
   * Rooms as the feed has reached them, for delivery. A room change made after a publish takes
   * effect after that publish's offset, so that delivery (and a replay) follows the program
   * order of this node: a client that joins after a send does not get it; one that leaves
   * after a send does.
   */
  readonly #delivering = new MemoryRooms();
  /** Room changes waiting for the feed to reach the offset they follow, in order. */
  #changes: { at: number; readonly apply: (at: number) => void }[] = [];
  /** Who waits for every room change to be applied (and written). */
  #settling: (() => void)[] = [];
  readonly #owned = new Map<string, Owned>();
  readonly #cursors = new Map<string, RedisCursor>();
  readonly #timers = new Timers<'alive' | 'refresh' | 'probe' | 'probeWait'>({ unref: true });
  /** When the subscriber last heard anything (monotonic ms), and the probe awaiting its echo. */
  #heard = 0;
  #probe: string | undefined;
  readonly #handoffs = new Map<string, (seq: number | undefined) => void>();
  /**
   * Resumes under way here, after their claim: what each learns of the last client number
   * handled (undefined when it cannot know), for a node that claims the session meanwhile.
   */
  readonly #resuming = new Map<string, Promise<number | undefined>>();
  #host: EngineHost | undefined;
  #settings: EngineSettings | undefined;
  #queue: AppendQueue | undefined;
  #subscriber: SubscriberPort | undefined;
  #ready: Promise<void> | undefined;
  #epoch = '';
  #position = 0;
  /** Feed messages held while a gap is repaired. */
  #repairing: Buffer[] | undefined;
  /** Entries received and not yet delivered; the offset of the last one received. */
  #inbox: Entry[] = [];
  #received = 0;
  #healthy = true;
  #closed = false;

  constructor(options: ResolvedRedisOptions) {
    super();
    this.#options = options;
    this.#ports = portsOf(options.client, 'client', options.subscriber);
    this.#keys = new Keys(options.prefix);
  }

  get epoch(): string {
    return this.#epoch;
  }

  get position(): number {
    return this.#position;
  }

  attach(host: EngineHost, settings: EngineSettings): void {
    if (this.#host) throw new Error('This engine is already attached to a HeartlineServer');
    this.#host = host;
    this.#settings = settings;
    this.#queue = new AppendQueue(
      this.#ports.commands,
      this.#keys,
      {
        epoch: () => this.#epoch,
        seen: () => this.#received,
        epochChanged: (epoch) => this.#adopt(epoch),
        failing: (error) => {
          this.#healthy = false;
          host.report(error);
        },
        recovered: () => {
          this.#healthy = true;
        },
        full: (error) => host.report(error),
      },
      this.#options.maxPending,
      { maxMessages: settings.maxMessages, maxBytes: settings.maxBytes, ttl: this.#ttl() },
    );
    this.#ready = this.#start();
    this.#ready.catch((error) =>
      host.report(new EngineError('The Redis engine could not start', error)),
    );
  }

  ready(): Promise<void> {
    return (
      this.#ready ??
      Promise.reject(new Error('The engine is not attached to a HeartlineServer yet'))
    );
  }

  // ── rooms ──────────────────────────────────────────────────────────────────────────────────

  join(id: string, room: Room): void {
    if (!this.localRooms.join(id, room)) return;
    this.#change((at) => {
      if (!this.#delivering.join(id, room)) return;
      const owned = this.#owned.get(id);
      if (!owned) return;
      owned.joined.set(room, at);
      this.#command(['HSET', this.#keys.rooms(id), room, String(at)]);
      this.#command(['PEXPIRE', this.#keys.rooms(id), String(this.#ttl())]);
    });
  }

  leave(id: string, room: Room): void {
    if (!this.localRooms.leave(id, room)) return;
    this.#change((at) => {
      if (!this.#delivering.leave(id, room)) return;
      const owned = this.#owned.get(id);
      const from = owned?.joined.get(room);
      if (!owned || from === undefined) return;
      owned.joined.delete(room);
      const k = this.#keys;
      this.#command(['HDEL', k.rooms(id), room]);
      if (at > from) {
        this.#command(['RPUSH', k.left(id), `${from}|${at}|${room}`]);
        this.#command(['LTRIM', k.left(id), '-256', '-1']);
        this.#command(['PEXPIRE', k.left(id), String(this.#ttl())]);
      }
    });
  }

  forget(id: string): void {
    this.localRooms.leaveAll(id);
    this.#change(() => this.#delivering.leaveAll(id));
  }

  /**
   * Applies a room change after everything this node published before it: at once when none
   * of it is on its way, else once the feed has delivered the last of it (at the position the
   * feed is at then, if it got there first).
   */
  #change(apply: (at: number) => void): void {
    const landing = this.#queue?.landing();
    if (!landing && this.#changes.length === 0) {
      apply(this.#position);
      return;
    }
    // Changes apply strictly in order, from the head: one with nothing of its own on the way
    // waits only for those before it (-Infinity); one behind a publish, for its offset.
    const change = { at: landing ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, apply };
    this.#changes.push(change);
    void landing?.then((offset) => {
      change.at = offset;
      this.#applyChanges();
      this.#drain();
    });
    this.#applyChanges();
  }

  /** Applies, in order, the waiting changes whose offset the feed has reached. */
  #applyChanges(): void {
    while (this.#changes.length > 0 && this.#changes[0]!.at <= this.#position) {
      this.#changes.shift()!.apply(this.#position);
    }
    if (this.#changes.length === 0) for (const resolve of this.#settling.splice(0)) resolve();
  }

  /**
   * Resolves once every room change made so far is applied and its write issued: a resume
   * reads the session's rooms from Redis only after that, here or (on a hand-over) on the
   * node that had it.
   */
  #settled(): Promise<void> {
    if (this.#changes.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settling.push(resolve));
  }

  // ── messages ───────────────────────────────────────────────────────────────────────────────

  publish(message: PreparedMessage, audience: Audience, volatile: boolean): boolean {
    if (this.#closed) return false;
    if (!volatile) return this.#queue!.push(audience, message);
    // Volatile: never stored, and dropped rather than queued while Redis is away.
    if (!this.#healthy) return false;
    this.#command([
      'SPUBLISH',
      this.#keys.volatile,
      packVolatile(encodeAudience(audience), message),
    ]);
    return true;
  }

  // ── sessions ───────────────────────────────────────────────────────────────────────────────

  createSession(init: SessionInit): void {
    this.#owned.set(init.id, { g: 1, attached: true, joined: new Map() });
    const key = this.#keys.session(init.id);
    this.#command([
      'HSET',
      key,
      'k',
      tokenHash(init.token),
      'p',
      init.protocol,
      'q',
      '0',
      'o',
      this.#node,
      'g',
      '1',
      'c',
      String(this.#position),
      'i',
      init.identity === undefined ? '' : JSON.stringify(init.identity),
    ]);
    this.#command(['PEXPIRE', key, String(this.#ttl())]);
  }

  async resume(request: ResumeRequest): Promise<ResumeResult> {
    const k = this.#keys;
    const { id } = request;
    await this.#settled();
    const reply = (await run(
      this.#ports.commands,
      SCRIPTS.claim,
      [k.meta, k.session(id), k.tombstone(id), k.rooms(id)],
      [request.epoch, tokenHash(request.token), String(request.offset), this.#node, k.base],
    )) as unknown[];
    if (text(reply[0]) !== 'OK') {
      return { ok: false, reason: text(reply[1]) as 'unknown' | 'token' | 'expired' | 'epoch' };
    }
    let lastSeq = count(reply[1]);
    const protocol = text(reply[2]);
    const previous = text(reply[3]);
    const g = count(reply[4]);
    const flat = (reply[5] as unknown[]).map(text);
    const alive = count(reply[6]) === 1;
    const identityText = text(reply[7] ?? '');
    const identity: unknown = identityText === '' ? undefined : JSON.parse(identityText);
    // The cursor opens before the rooms are restored here: from now on, every live entry for
    // the session is held by it until the replay is through.
    const cursor = new RedisCursor(
      this.#ports.commands,
      k,
      id,
      this.#epoch,
      request.offset,
      (held) => {
        if (this.#cursors.get(id) === cursor) this.#cursors.delete(id);
        for (const message of held) this.#host!.deliver(id, message, false);
      },
    );
    this.#cursors.get(id)?.close();
    this.#cursors.set(id, cursor);
    let clean = true;
    if (previous !== this.#node && previous !== '') {
      const handing = alive ? this.#handOff(id, previous) : Promise.resolve(undefined);
      const learned = handing.then(
        (handed) => (handed === undefined ? undefined : Math.max(lastSeq, handed)),
        () => undefined,
      );
      this.#resuming.set(id, learned);
      try {
        const handed = await handing;
        if (handed === undefined) clean = false;
        else lastSeq = Math.max(lastSeq, handed);
      } catch (error) {
        cursor.close();
        throw error;
      } finally {
        if (this.#resuming.get(id) === learned) this.#resuming.delete(id);
      }
    }
    if (this.#cursors.get(id) !== cursor) {
      // Another node claimed the session while this one waited for its previous owner (the
      // client moved on again): this resume is stale, and that node was told what it learned.
      cursor.close();
      return { ok: false, reason: 'unknown' };
    }
    const owned: Owned = { g, attached: true, joined: new Map() };
    this.#owned.set(id, owned);
    for (let i = 0; i < flat.length; i += 2) {
      owned.joined.set(flat[i]!, Number(flat[i + 1]));
      this.localRooms.join(id, flat[i]!);
      this.#delivering.join(id, flat[i]!);
    }
    if (previous === this.#node) {
      // Resumed where it was: the local client object carries on (and its own lastSeq).
      this.#refreshOne(id);
    }
    return {
      ok: true,
      lastSeq,
      protocol,
      identity,
      rooms: [...owned.joined.keys()],
      replay: cursor,
      clean,
    };
  }

  persist(
    batch: ReadonlyArray<{ readonly id: string; readonly seq: number }>,
  ): Promise<void> | void {
    const mine = batch.filter((b) => this.#owned.has(b.id));
    if (mine.length === 0) return;
    const keys = mine.map((b) => this.#keys.session(b.id));
    const args = [
      this.#node,
      ...mine.flatMap((b) => [String(this.#owned.get(b.id)!.g), String(b.seq)]),
    ];
    return run(this.#ports.commands, SCRIPTS.persist, keys, args).then(() => undefined);
  }

  detach(id: string): void {
    const owned = this.#owned.get(id);
    if (owned) owned.attached = false;
    // The session's keys now live for the resume window, even if this node dies meanwhile.
    const ttl = String(this.#settings!.window);
    for (const key of this.#sessionKeys(id)) this.#command(['PEXPIRE', key, ttl]);
  }

  release(id: string, lastSeq: number): Promise<void> | undefined {
    const owned = this.#owned.get(id);
    if (!owned) return undefined;
    this.#owned.delete(id);
    const window = String(this.#settings!.window);
    return run(this.#ports.commands, SCRIPTS.release, this.#sessionKeys(id), [
      this.#node,
      String(owned.g),
      String(lastSeq),
      window,
    ]).then(() => undefined);
  }

  end(id: string, reason: 'closed' | 'expired'): void {
    const owned = this.#owned.get(id);
    this.#owned.delete(id);
    this.#cursors.get(id)?.close();
    // Fenced: a node that lost the session to another (it moved on) must not delete it there.
    // EVAL, not EVALSHA: a NOSCRIPT retry would let a later command (a resume) overtake it.
    if (!owned) return;
    const keys = [...this.#sessionKeys(id), this.#keys.tombstone(id)];
    const tombstone = reason === 'expired' ? '3600000' : '0';
    this.#command([
      'EVAL',
      SCRIPTS.end.source,
      String(keys.length),
      ...keys,
      this.#node,
      String(owned.g),
      tombstone,
    ]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // What was accepted reaches Redis before this node goes (a rolling deploy loses nothing).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#queue?.drained(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
    this.#closed = true;
    this.#queue?.close();
    this.#timers.clearAll();
    for (const cursor of this.#cursors.values()) cursor.close();
    this.#cursors.clear();
    this.localRooms.clear();
    this.#delivering.clear();
    this.#changes = [];
    this.#owned.clear();
    // The liveness key goes last: every command before it (hand-overs) has been processed.
    await this.#ports.commands.call(['DEL', this.#keys.node(this.#node)]).catch(() => {});
    await this.#subscriber?.close();
  }

  // ── the feed ───────────────────────────────────────────────────────────────────────────────

  async #start(): Promise<void> {
    const k = this.#keys;
    await this.#subscribe();
    // Subscribed first, then read where the log is: nothing can fall between the two.
    const c = this.#ports.commands;
    await c.call(['HSETNX', k.meta, 'e', randomBytes(9).toString('base64url')]);
    const [e, s] = ((await c.call(['HMGET', k.meta, 'e', 's'])) as unknown[]).map((v) =>
      v == null ? '' : text(v),
    );
    this.#epoch = e!;
    this.#position = Math.max(this.#position, Number(s) || 0);
    this.#received = Math.max(this.#received, this.#position);
    this.#alive();
    this.#timers.set('probe', this.#options.probeInterval, () => this.#checkHearing());
  }

  /** A subscriber of this node's own, on the feed, the volatile channel and its control one. */
  async #subscribe(): Promise<void> {
    const k = this.#keys;
    const sub = this.#ports.subscriber();
    this.#subscriber = sub;
    this.#heard = performance.now();
    sub.onError((error) =>
      this.#host!.report(new EngineError('The Redis subscriber failed', error)),
    );
    // After a reconnect the subscriber may have missed messages: repair from the position.
    sub.onReconnect(() => void this.#repair(this.#received));
    const heard = (fn: (message: Buffer) => void) => (message: Buffer) => {
      if (sub !== this.#subscriber) return; // one that was replaced
      this.#heard = performance.now();
      fn(message);
    };
    await sub.subscribe(
      k.feed,
      heard((message) => this.#onFeed(message)),
    );
    await sub.subscribe(
      k.volatile,
      heard((message) => this.#onVolatile(message)),
    );
    await sub.subscribe(
      k.control(this.#node),
      heard((message) => this.#onControl(message)),
    );
  }

  /**
   * After `probeInterval` of silence on the subscriber, publishes a probe to this node's own
   * control channel: a subscriber that does not hear it within a third of the interval is deaf
   * (up, yet receiving nothing: centrifugo#1189) and is replaced, and what it missed is read
   * from the log.
   */
  #checkHearing(): void {
    const every = this.#options.probeInterval;
    this.#timers.set('probe', every, () => this.#checkHearing());
    if (this.#closed || this.#probe || performance.now() - this.#heard < every) return;
    const probe = randomBytes(6).toString('base64url');
    this.#probe = probe;
    this.#command(['SPUBLISH', this.#keys.control(this.#node), `P ${probe}`]);
    this.#timers.set('probeWait', Math.max(100, Math.floor(every / 3)), () => {
      if (this.#probe !== probe || this.#closed) return;
      this.#probe = undefined;
      this.#host!.report(
        new EngineError(
          'The Redis subscriber hears nothing though it looks connected: replacing it',
        ),
      );
      const deaf = this.#subscriber;
      deaf?.destroy();
      this.#subscribe().then(
        () => this.#repair(this.#received),
        (error) =>
          this.#host!.report(new EngineError('The Redis subscriber could not be replaced', error)),
      );
    });
  }

  #onFeed(bytes: Buffer): void {
    if (this.#closed) return;
    if (this.#repairing) {
      if (this.#repairing.length < HELD_FEED) this.#repairing.push(bytes);
      else void this.#repair(this.#received); // too far behind: read it all from the log
      return;
    }
    let batch: ReturnType<typeof parseFeed>;
    try {
      batch = parseFeed(bytes);
    } catch (error) {
      this.#host!.report(new EngineError('A feed message could not be read', error));
      return;
    }
    const first = batch.entries[0]?.offset ?? this.#received + 1;
    if (batch.epoch !== this.#epoch) this.#adopt(batch.epoch);
    if (first > this.#received + 1) {
      // A hole in the feed (a reconnect, a subscriber the server dropped): repair it first.
      this.#repairing = [bytes];
      void this.#repair(this.#received);
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
    this.#drain();
  }

  /**
   * Delivers the entries received, in order, but stops while a room change waits to learn the
   * offset its publish landed at: delivering past it could deliver by the wrong membership.
   */
  #drain(): void {
    while (this.#inbox.length > 0) {
      if (this.#changes[0]?.at === Number.POSITIVE_INFINITY && this.#inbox.length < HELD_FEED) {
        return; // resumed when the append reply comes back, an instant later
      }
      this.#deliver(this.#inbox.shift()!);
    }
  }

  /** Receives, from the log, every entry after `from`, then what the feed brought meanwhile. */
  async #repair(from: number): Promise<void> {
    if (this.#closed) return;
    this.#repairing ??= [];
    try {
      const k = this.#keys;
      const meta = (await this.#ports.commands.call(['HMGET', k.meta, 'e', 't'])) as unknown[];
      const trimmed = Number(meta[1] == null ? 0 : text(meta[1]));
      const epoch = meta[0] == null ? undefined : text(meta[0]);
      if (epoch !== undefined && epoch !== this.#epoch) {
        // Redis lost its data while this node was away from the feed: a new log, from its start.
        this.#adopt(epoch);
        from = 0;
      } else if (trimmed > from) {
        // The log no longer holds what was missed: sessions here may have a hole.
        this.#host!.invalidate('the feed missed messages the log no longer holds');
      }
      const items = (await this.#ports.commands.call([
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
      this.#host!.report(new EngineError('A gap in the feed could not be repaired yet', error));
      setTimeout(() => void this.#repair(this.#received), 250).unref();
      return;
    }
    const held = this.#repairing ?? [];
    this.#repairing = undefined;
    for (const bytes of held) this.#onFeed(bytes);
  }

  #deliver(entry: Entry): void {
    this.#position = entry.offset;
    const host = this.#host!;
    const to = (id: string) => {
      const cursor = this.#cursors.get(id);
      if (cursor) cursor.hold(entry.message);
      else host.deliver(id, entry.message, false);
    };
    const a = entry.audience;
    if (a.kind === 'client') to(a.id);
    else if (a.kind === 'rooms') this.#delivering.forEachMember(a.rooms, a.except, to);
    else for (const id of host.clientIds()) if (!a.except?.has(id)) to(id);
    if (this.#changes.length > 0) this.#applyChanges();
  }

  #onVolatile(bytes: Buffer): void {
    if (this.#closed) return;
    const host = this.#host!;
    let parsed: ReturnType<typeof parseVolatile>;
    try {
      parsed = parseVolatile(bytes);
    } catch (error) {
      host.report(new EngineError('A volatile message could not be read', error));
      return;
    }
    const { audience: a, message } = parsed;
    const to = (id: string) => host.deliver(id, message, true);
    if (a.kind === 'client') to(a.id);
    else if (a.kind === 'rooms') this.#delivering.forEachMember(a.rooms, a.except, to);
    else for (const id of host.clientIds()) if (!a.except?.has(id)) to(id);
  }

  /**
   * The log started over (Redis lost its data, or a failover lost its tail): no session here
   * can resume any more, and the new log is read from its start (a gap is repaired).
   */
  #adopt(epoch: string): void {
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    this.#position = 0;
    this.#received = 0;
    this.#inbox = [];
    if (this.#owned.size > 0) this.#host!.invalidate(`the log started over (epoch ${epoch})`);
  }

  // ── hand-over between nodes ────────────────────────────────────────────────────────────────

  /**
   * Asks the previous owner to let go; resolves with its last handled number, or undefined
   * when it does not answer in time or cannot say.
   */
  async #handOff(id: string, previous: string): Promise<number | undefined> {
    const k = this.#keys;
    const answered = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#handoffs.delete(id);
        resolve(undefined);
      }, this.#options.handoffTimeout);
      timer.unref();
      this.#handoffs.set(id, (seq) => {
        clearTimeout(timer);
        this.#handoffs.delete(id);
        resolve(seq);
      });
    });
    await this.#ports.commands.call(['SPUBLISH', k.control(previous), `T ${id} ${this.#node}`]);
    return answered;
  }

  /** Carries an answer to a request of node `node` over its control channel (`A <bytes>`). */
  forward(node: string, message: Buffer): boolean {
    if (this.#closed) return false;
    this.#command(['SPUBLISH', this.#keys.control(node), Buffer.concat([FORWARD, message])]);
    return true;
  }

  #onControl(bytes: Buffer): void {
    if (bytes.subarray(0, FORWARD.length).equals(FORWARD)) {
      this.#host!.forwarded(bytes.subarray(FORWARD.length));
      return;
    }
    const [kind, id, arg] = text(bytes).split(' ');
    if (kind === 'T' && id && arg) {
      // Another node took this session over: end it here, let its room changes reach Redis,
      // and tell the new owner the last client number handled. A session this node was still
      // resuming passes on what that resume learns; one it does not have is `-`: the new owner
      // cannot know what was handled, and marks the client's resent messages redelivered.
      this.#cursors.get(id)?.close();
      const local = this.#host!.moved(id);
      const resuming = this.#resuming.get(id);
      const seq =
        local !== undefined ? Promise.resolve(local) : (resuming ?? Promise.resolve(undefined));
      void Promise.all([seq, this.#settled()]).then(([n]) => {
        this.#owned.delete(id);
        this.#command(['SPUBLISH', this.#keys.control(arg), `R ${id} ${n ?? '-'}`]);
      });
    } else if (kind === 'R' && id) {
      const n = Number(arg);
      this.#handoffs.get(id)?.(arg === '-' || !Number.isSafeInteger(n) ? undefined : n);
    } else if (kind === 'P' && id === this.#probe) {
      this.#probe = undefined; // the subscriber heard its own probe: it is fine
      this.#timers.clear('probeWait');
    }
  }

  // ── upkeep ─────────────────────────────────────────────────────────────────────────────────

  /** Keeps this node's liveness key and its attached sessions' keys alive. */
  #alive(): void {
    this.#command(['SET', this.#keys.node(this.#node), '1', 'PX', String(NODE_TTL)]);
    this.#timers.set('alive', NODE_BEAT, () => this.#alive());
    if (!this.#timers.has('refresh'))
      this.#timers.set('refresh', this.#refreshEvery(), () => this.#refresh());
  }

  #refresh(): void {
    const keys: string[] = [];
    for (const [id, owned] of this.#owned) if (owned.attached) keys.push(...this.#sessionKeys(id));
    for (let i = 0; i < keys.length; i += 1_500) {
      void run(this.#ports.commands, SCRIPTS.touch, keys.slice(i, i + 1_500), [
        String(this.#ttl()),
      ]).catch((error) =>
        this.#host!.report(new EngineError('Session keys could not be refreshed', error)),
      );
    }
    this.#timers.set('refresh', this.#refreshEvery(), () => this.#refresh());
  }

  #refreshOne(id: string): void {
    for (const key of this.#sessionKeys(id)) this.#command(['PEXPIRE', key, String(this.#ttl())]);
  }

  #sessionKeys(id: string): string[] {
    const k = this.#keys;
    return [k.session(id), k.rooms(id), k.left(id)];
  }

  /** How long an owned session's keys live: past two refreshes, so a live owner never loses one. */
  #ttl(): number {
    return this.#settings!.window + 2 * this.#refreshEvery();
  }

  #refreshEvery(): number {
    return Math.max(1_000, Math.min(30_000, Math.floor(this.#settings!.window / 3)));
  }

  /** A command whose failure can only be reported (the next refresh or resume corrects it). */
  #command(args: readonly (string | Buffer)[]): void {
    this.#ports.commands.call(args).catch((error) => {
      if (!this.#closed)
        this.#host!.report(new EngineError(`Redis refused ${String(args[0])}`, error));
    });
  }
}
