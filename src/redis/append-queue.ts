/**
 * The in-order, bounded queue between `publish()` and Redis. Every reliable message of one
 * event-loop turn goes out in one `append` script call, and one call is in flight at a time, so
 * program order on a node is offset order. A call that fails is retried as the same batch (the
 * script recognises a batch it already appended, so a lost reply never appends it twice), and
 * while Redis is away the queue holds what was accepted, up to its bounds; past them,
 * `push()` refuses and says so.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../common/errors.js';
import type { PreparedMessage } from '../server/client/outgoing-message.js';
import type { Audience } from '../server/engine/engine.js';
import { encodeAudience, formOf } from './codec.js';
import type { Keys } from './keys.js';
import type { CommandPort, RedisArg } from './port.js';
import { run, SCRIPTS, text } from './scripts.js';

/** Bounds of what may wait for Redis. */
export interface PendingLimits {
  readonly messages: number;
  readonly bytes: number;
}

interface Pending {
  readonly audience: Audience;
  readonly message: PreparedMessage;
}

/** What the queue needs to know and tell. */
export interface AppendHost {
  /** The epoch the node believes in. */
  epoch(): string;
  /** The highest offset the node has received: a log whose counter is below it lost a tail. */
  seen(): number;
  /** Redis has another epoch: the node must adopt it (and drop its sessions) before more. */
  epochChanged(epoch: string): void;
  /** Calls began to fail (reported once per outage); the queue retries until one succeeds. */
  failing(error: EngineError): void;
  /** A call succeeded after failures. */
  recovered(): void;
  /** `push()` began to refuse: the bounds are reached (once, until a call succeeds again). */
  full(error: EngineError): void;
}

/** Delay of the n-th retry of a failed call: quick first, capped. */
function retryDelay(failures: number): number {
  return Math.min(1_000, 25 * 2 ** Math.min(failures, 6));
}

export class AppendQueue {
  readonly #port: CommandPort;
  readonly #keys: Keys;
  readonly #host: AppendHost;
  readonly #limits: PendingLimits;
  readonly #settings: {
    readonly maxMessages: number;
    readonly maxBytes: number;
    readonly ttl: number;
  };
  /** Names this writer for retried batches; a new one per process. */
  readonly #writer = randomBytes(9).toString('base64url');
  #queue: Pending[] = [];
  #bytes = 0;
  #batchSeq = 0;
  /** The batch in flight, kept until Redis has it, for a retry. */
  #inFlight: Pending[] | undefined;
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** `push()` refused since the last call that succeeded (so the host hears it once). */
  #full = false;
  #closed = false;
  #idle: (() => void)[] = [];
  /** Messages pushed so far, and of those, appended so far (with the last one's offset). */
  #pushed = 0;
  #appended = 0;
  #lastOffset = 0;
  /** Who waits to learn where the m-th pushed message landed, in order of m. */
  #waiters: { readonly m: number; readonly resolve: (offset: number) => void }[] = [];

  constructor(
    port: CommandPort,
    keys: Keys,
    host: AppendHost,
    limits: PendingLimits,
    settings: { readonly maxMessages: number; readonly maxBytes: number; readonly ttl: number },
  ) {
    this.#port = port;
    this.#keys = keys;
    this.#host = host;
    this.#limits = limits;
    this.#settings = settings;
  }

  /** Messages accepted and not yet in Redis. */
  get pending(): number {
    return this.#queue.length + (this.#inFlight?.length ?? 0);
  }

  /** Queues a message for the next call; false when the bounds are reached (not accepted). */
  push(audience: Audience, message: PreparedMessage): boolean {
    if (this.#closed) return false;
    const size = message.data.byteLength;
    if (this.pending >= this.#limits.messages || this.#bytes + size > this.#limits.bytes) {
      if (!this.#full) {
        this.#full = true;
        this.#host.full(
          new EngineError(
            `Redis has not taken the ${this.pending} message(s) (${this.#bytes} bytes) held for it; refusing more until it does (maxPending: ${this.#limits.messages} messages, ${this.#limits.bytes} bytes)`,
          ),
        );
      }
      return false;
    }
    this.#queue.push({ audience, message });
    this.#pushed++;
    this.#bytes += size;
    if (!this.#inFlight && !this.#retry) this.#scheduled ??= setImmediate(this.#send);
    return true;
  }

  /**
   * The offset of the last message accepted so far, once Redis has it: what comes after it in
   * program order (a room change) takes effect after that offset. `undefined` when nothing
   * accepted is still waiting.
   */
  landing(): Promise<number> | undefined {
    if (this.#appended === this.#pushed) return undefined;
    const m = this.#pushed;
    return new Promise((resolve) => this.#waiters.push({ m, resolve }));
  }

  /** Resolves once everything accepted so far is in Redis (or the queue closed). */
  drained(): Promise<void> {
    if (this.pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops: what is still queued is dropped (the caller drained first if it cared). */
  close(): void {
    this.#closed = true;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    if (this.#retry) clearTimeout(this.#retry);
    this.#queue = [];
    this.#inFlight = undefined;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  readonly #send = (): void => {
    this.#scheduled = undefined;
    if (this.#closed || this.#inFlight) return;
    if (this.#queue.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    // At most this many per call: one script call must stay short for everyone else.
    this.#inFlight = this.#queue.splice(0, 512);
    this.#batchSeq++;
    void this.#call(this.#inFlight, this.#batchSeq);
  };

  async #call(batch: Pending[], seq: number): Promise<void> {
    const keys: RedisArg[] = [this.#keys.meta, this.#keys.log, this.#keys.writer(this.#writer)];
    const args: RedisArg[] = [
      this.#host.epoch(),
      randomBytes(9).toString('base64url'),
      String(seq),
      String(this.#settings.maxMessages),
      String(this.#settings.maxBytes),
      String(this.#settings.ttl),
      this.#keys.feed,
      String(batch.length),
      String(this.#host.seen()),
    ];
    for (const { audience, message } of batch) {
      const kind = audience.kind === 'client' ? 'c' : audience.kind === 'rooms' ? 'r' : 'a';
      const audienceKeys =
        audience.kind === 'client'
          ? [this.#keys.session(audience.id)]
          : audience.kind === 'rooms'
            ? audience.rooms.map((room) => this.#keys.roomLast(room))
            : [];
      keys.push(...audienceKeys);
      args.push(
        kind,
        encodeAudience(audience),
        formOf(message),
        message.data,
        String(audienceKeys.length),
      );
    }
    let reply: unknown[];
    try {
      reply = (await run(this.#port, SCRIPTS.append, keys, args)) as unknown[];
    } catch (error) {
      if (this.#closed) return;
      if (this.#failures++ === 0) {
        this.#host.failing(
          new EngineError(
            `Redis did not take ${batch.length} message(s); holding up to ${this.#limits.messages} and retrying`,
            error,
          ),
        );
      }
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        void this.#call(batch, seq);
      }, retryDelay(this.#failures));
      return;
    }
    if (this.#closed) return;
    if (this.#failures > 0) {
      this.#failures = 0;
      this.#host.recovered();
    }
    this.#full = false;
    const status = text(reply[0]);
    if (status === 'EPOCH') {
      // The log lost its history: adopt the new epoch, then append the same batch in it.
      this.#host.epochChanged(text(reply[1]));
      void this.#call(batch, seq);
      return;
    }
    // OK, or STALE (an older retry): either way Redis has the batch. Its offsets come back with
    // the feed, which delivers in order on every node, this one included.
    this.#inFlight = undefined;
    for (const { message } of batch) this.#bytes -= message.data.byteLength;
    this.#appended += batch.length;
    // A STALE reply (a retry of a batch Redis had) carries no offset: the one OK before it did.
    if (status === 'OK') this.#lastOffset = Number(text(reply[1])) + batch.length - 1;
    while (this.#waiters.length > 0 && this.#waiters[0]!.m <= this.#appended) {
      const { m, resolve } = this.#waiters.shift()!;
      resolve(this.#lastOffset - (this.#appended - m));
    }
    this.#send();
  }
}
