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
import { LocalMembership } from '../server/engine/memory-rooms.js';
import { AppendQueue } from './append-queue.js';
import { encodeAudience, packVolatile } from './codec.js';
import { ControlChannel } from './control-channel.js';
import { RedisCursor } from './cursor.js';
import { Feed } from './feed.js';
import { Keys } from './keys.js';
import { LocalDelivery } from './local-delivery.js';
import type { NodeContext } from './node-context.js';
import type { ResolvedRedisOptions } from './options.js';
import { OwnedSessions } from './owned-sessions.js';
import { portsOf, type RedisPorts } from './port.js';
import { RoomChanges } from './room-changes.js';
import { Subscription } from './subscription.js';

/** How long a node's liveness key lives, and how often it is renewed. */
const NODE_TTL = 10_000;
const NODE_BEAT = 3_000;

/**
 * The Redis engine (`heartline/redis`): every node with the same Redis and prefix is one
 * cluster. Reliable messages are appended to one log in Redis by a script that also publishes
 * them on one feed, and every node delivers only from that feed, in offset order, repairing
 * any gap from the log, so that each member of a room sees the same order on every node.
 * Sessions, their rooms and the last client message they handled live in Redis too, so a
 * client may resume on any node; the previous owner, if alive, hands the session over.
 */
export class RedisEngine extends LocalMembership implements Engine {
  readonly durable = true;
  readonly #options: ResolvedRedisOptions;
  readonly #ports: RedisPorts;
  readonly #keys: Keys;
  /** This process's id in the cluster: its liveness key and control channel. */
  readonly #node = randomBytes(9).toString('base64url');
  readonly #ctx: NodeContext;
  /** This node's name in the cluster: its liveness key, its control channel, its request ids. */
  get node(): string {
    return this.#node;
  }
  /** Rooms as the app set them, for its questions (`client.rooms`, `members()`). */
  /** Where what comes from Redis goes on this node, by the rooms as the feed has reached them. */
  readonly #delivery = new LocalDelivery({
    deliver: (id, message, volatile) => this.#host!.deliver(id, message, volatile),
    clientIds: () => this.#host!.clientIds(),
    report: (error) => this.#host!.report(error),
  });
  readonly #changes = new RoomChanges({
    landing: () => this.#queue?.landing(),
    position: () => this.#feed.position,
    landed: () => this.#feed.drain(),
  });
  readonly #timers = new Timers<'alive'>({ unref: true });
  readonly #feed: Feed;
  readonly #subscription: Subscription;
  readonly #control: ControlChannel;
  #host: EngineHost | undefined;
  #sessions: OwnedSessions | undefined;
  #queue: AppendQueue | undefined;
  #ready: Promise<void> | undefined;
  #healthy = true;
  #closed = false;

  constructor(options: ResolvedRedisOptions) {
    super();
    this.#options = options;
    this.#ports = portsOf(options.client, 'client', options.subscriber);
    this.#keys = new Keys(options.prefix);
    const ctx: NodeContext = {
      node: this.#node,
      commands: this.#ports.commands,
      keys: this.#keys,
      send: (args) => this.#command(args),
      report: (error) => this.#host!.report(error),
    };
    this.#ctx = ctx;
    this.#feed = new Feed(ctx, {
      deliver: (entry) => {
        this.#delivery.entry(entry);
        if (this.#changes.pending) this.#changes.apply();
      },
      held: () => this.#changes.blocking,
      restarted: (epoch) => {
        if (this.#sessions!.size > 0)
          this.#host!.invalidate(`the log started over (epoch ${epoch})`);
      },
      invalidate: (reason) => this.#host!.invalidate(reason),
    });
    this.#subscription = new Subscription(ctx, this.#ports.subscriber, options.probeInterval, {
      feed: (message) => this.#feed.onMessage(message),
      volatile: (message) => {
        if (!this.#closed) this.#delivery.volatile(message);
      },
      control: (message) => this.#control.onMessage(message),
      missed: () => this.#feed.catchUp(),
    });
    this.#control = new ControlChannel(ctx, options.handoffTimeout, {
      forwarded: (message) => this.#host!.forwarded(message),
      moved: (id) => {
        this.#delivery.endReplay(id);
        return this.#host!.moved(id);
      },
      settled: () => this.#changes.settled(),
      handedOver: (id) => this.#sessions!.delete(id),
      echoed: (probe) => this.#subscription.echoed(probe),
    });
  }

  get epoch(): string {
    return this.#feed.epoch;
  }

  get position(): number {
    return this.#feed.position;
  }

  attach(host: EngineHost, settings: EngineSettings): void {
    if (this.#host) throw new Error('This engine is already attached to a HeartlineServer');
    this.#host = host;
    const sessions = new OwnedSessions(this.#ctx, settings.window);
    this.#sessions = sessions;
    this.#queue = new AppendQueue(
      this.#ports.commands,
      this.#keys,
      {
        epoch: () => this.#feed.epoch,
        seen: () => this.#feed.received,
        epochChanged: (epoch) => this.#feed.adopt(epoch),
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
      { maxMessages: settings.maxMessages, maxBytes: settings.maxBytes, ttl: sessions.ttl() },
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
    this.#changes.schedule((at) => {
      if (this.#delivery.rooms.join(id, room)) this.#sessions!.joined(id, room, at);
    });
  }

  leave(id: string, room: Room): void {
    if (!this.localRooms.leave(id, room)) return;
    this.#changes.schedule((at) => {
      if (this.#delivery.rooms.leave(id, room)) this.#sessions!.left(id, room, at);
    });
  }

  forget(id: string): void {
    this.localRooms.leaveAll(id);
    this.#changes.schedule(() => this.#delivery.rooms.leaveAll(id));
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

  /** Carries an answer to a request of node `node` over its control channel (`A <bytes>`). */
  forward(node: string, message: Buffer): boolean {
    if (this.#closed) return false;
    this.#control.forward(node, message);
    return true;
  }

  // ── sessions ───────────────────────────────────────────────────────────────────────────────

  createSession(init: SessionInit): void {
    this.#sessions!.create(init, this.#feed.position);
  }

  async resume(request: ResumeRequest): Promise<ResumeResult> {
    const { id } = request;
    await this.#changes.settled();
    const claim = await this.#sessions!.claim(request);
    if (!claim.ok) return claim;
    let { lastSeq } = claim;
    // The cursor opens before the rooms are restored here: from now on, every live entry for
    // the session is held by it until the replay is through.
    const cursor = new RedisCursor(
      this.#ports.commands,
      this.#keys,
      id,
      this.#feed.epoch,
      request.offset,
      (held) => this.#delivery.released(id, cursor, held),
    );
    this.#delivery.replay(id, cursor);
    let clean = true;
    if (claim.previous !== this.#node && claim.previous !== '') {
      try {
        const handed = await this.#control.takeOver(id, claim.previous, claim.alive, lastSeq);
        if (handed === undefined) clean = false;
        else lastSeq = Math.max(lastSeq, handed);
      } catch (error) {
        cursor.close();
        throw error;
      }
    }
    if (this.#delivery.replaying(id) !== cursor) {
      // Another node claimed the session while this one waited for its previous owner (the
      // client moved on again): this resume is stale, and that node was told what it learned.
      cursor.close();
      return { ok: false, reason: 'unknown' };
    }
    const owned = this.#sessions!.own(id, claim.g, claim.rooms);
    for (const room of owned.joined.keys()) {
      this.localRooms.join(id, room);
      this.#delivery.rooms.join(id, room);
    }
    if (claim.previous === this.#node) {
      // Resumed where it was: the local client object carries on (and its own lastSeq).
      this.#sessions!.refreshOne(id);
    }
    return {
      ok: true,
      lastSeq,
      protocol: claim.protocol,
      identity: claim.identity,
      rooms: [...owned.joined.keys()],
      replay: cursor,
      clean,
    };
  }

  persist(
    batch: ReadonlyArray<{ readonly id: string; readonly seq: number }>,
  ): Promise<void> | void {
    return this.#sessions!.persist(batch);
  }

  detach(id: string): void {
    this.#sessions!.detach(id);
  }

  release(id: string, lastSeq: number): Promise<void> | undefined {
    return this.#sessions!.release(id, lastSeq);
  }

  end(id: string, reason: 'closed' | 'expired'): void {
    this.#delivery.endReplay(id);
    this.#sessions!.end(id, reason);
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
    this.#feed.close();
    this.#queue?.close();
    this.#timers.clearAll();
    this.#subscription.stop();
    this.#delivery.clear();
    this.localRooms.clear();
    this.#changes.clear();
    this.#sessions?.close();
    // The liveness key goes last: every command before it (hand-overs) has been processed.
    await this.#ports.commands.call(['DEL', this.#keys.node(this.#node)]).catch(() => {});
    await this.#subscription.close();
  }

  // ── the feed ───────────────────────────────────────────────────────────────────────────────

  async #start(): Promise<void> {
    await this.#subscription.open();
    // Subscribed first, then read where the log is: nothing can fall between the two.
    await this.#feed.locate();
    this.#alive();
    this.#subscription.watch();
  }

  // ── upkeep ─────────────────────────────────────────────────────────────────────────────────

  /** Keeps this node's liveness key and its attached sessions' keys alive. */
  #alive(): void {
    this.#command(['SET', this.#keys.node(this.#node), '1', 'PX', String(NODE_TTL)]);
    this.#timers.set('alive', NODE_BEAT, () => this.#alive());
    this.#sessions!.keepAlive();
  }

  /** A command whose failure can only be reported (the next refresh or resume corrects it). */
  #command(args: readonly (string | Buffer)[]): void {
    this.#ports.commands.call(args).catch((error) => {
      if (!this.#closed)
        this.#host!.report(new EngineError(`Redis refused ${String(args[0])}`, error));
    });
  }
}
