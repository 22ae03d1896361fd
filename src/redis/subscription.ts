import { randomBytes } from 'node:crypto';
import { EngineError } from '../common/errors.js';
import { Timers } from '../common/timers.js';
import type { NodeContext } from './node-context.js';
import type { SubscriberPort } from './port.js';

/** Where the subscriber's messages go, and whom it tells of trouble. */
export interface SubscriptionHandlers {
  feed(message: Buffer): void;
  volatile(message: Buffer): void;
  control(message: Buffer): void;
  /** The subscriber may have missed messages (it reconnected, or was replaced). */
  missed(): Promise<void>;
}

/**
 * A subscriber of this node's own, on the feed, the volatile channel and its control one,
 * and the watch that replaces it when it goes deaf.
 */
export class Subscription {
  readonly #ctx: NodeContext;
  readonly #connect: () => SubscriberPort;
  readonly #probeInterval: number;
  readonly #on: SubscriptionHandlers;
  readonly #timers = new Timers<'probe' | 'probeWait'>({ unref: true });
  #subscriber: SubscriberPort | undefined;
  /** When the subscriber last heard anything (monotonic ms), and the probe awaiting its echo. */
  #heard = 0;
  #probe: string | undefined;
  #stopped = false;

  constructor(
    ctx: NodeContext,
    connect: () => SubscriberPort,
    probeInterval: number,
    on: SubscriptionHandlers,
  ) {
    this.#ctx = ctx;
    this.#connect = connect;
    this.#probeInterval = probeInterval;
    this.#on = on;
  }

  /** Subscribes a new subscriber to the three channels. */
  async open(): Promise<void> {
    const k = this.#ctx.keys;
    const sub = this.#connect();
    this.#subscriber = sub;
    this.#heard = performance.now();
    sub.onError((error) => this.#ctx.report(new EngineError('The Redis subscriber failed', error)));
    // After a reconnect the subscriber may have missed messages: repair from the position.
    sub.onReconnect(() => void this.#on.missed());
    const heard = (fn: (message: Buffer) => void) => (message: Buffer) => {
      if (sub !== this.#subscriber) return; // one that was replaced
      this.#heard = performance.now();
      fn(message);
    };
    await sub.subscribe(
      k.feed,
      heard((message) => this.#on.feed(message)),
    );
    await sub.subscribe(
      k.volatile,
      heard((message) => this.#on.volatile(message)),
    );
    await sub.subscribe(
      k.control(this.#ctx.node),
      heard((message) => this.#on.control(message)),
    );
  }

  /** Starts checking, every `probeInterval`, that the subscriber still hears. */
  watch(): void {
    this.#timers.set('probe', this.#probeInterval, () => this.#checkHearing());
  }

  /**
   * After `probeInterval` of silence on the subscriber, publishes a probe to this node's own
   * control channel: a subscriber that does not hear it within a third of the interval is deaf
   * (up, yet receiving nothing: centrifugo#1189) and is replaced, and what it missed is read
   * from the log.
   */
  #checkHearing(): void {
    const every = this.#probeInterval;
    this.#timers.set('probe', every, () => this.#checkHearing());
    if (this.#stopped || this.#probe || performance.now() - this.#heard < every) return;
    const probe = randomBytes(6).toString('base64url');
    this.#probe = probe;
    this.#ctx.send(['SPUBLISH', this.#ctx.keys.control(this.#ctx.node), `P ${probe}`]);
    this.#timers.set('probeWait', Math.max(100, Math.floor(every / 3)), () => {
      if (this.#probe !== probe || this.#stopped) return;
      this.#probe = undefined;
      this.#ctx.report(
        new EngineError(
          'The Redis subscriber hears nothing though it looks connected: replacing it',
        ),
      );
      const deaf = this.#subscriber;
      deaf?.destroy();
      this.open().then(
        () => this.#on.missed(),
        (error) =>
          this.#ctx.report(new EngineError('The Redis subscriber could not be replaced', error)),
      );
    });
  }

  /** Probe `probe` came back on the control channel: the subscriber hears. */
  echoed(probe: string | undefined): void {
    if (probe !== this.#probe) return;
    this.#probe = undefined; // the subscriber heard its own probe: it is fine
    this.#timers.clear('probeWait');
  }

  /** Probes no more (the engine closes); the subscriber stays until `close()`. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearAll();
  }

  async close(): Promise<void> {
    await this.#subscriber?.close();
  }
}
