import { now } from '../common/clock.js';
import type { Outgoing } from './outbox.js';

export interface HeartbeatOptions {
  /** ms of inbound silence before a ping is sent. */
  readonly interval: number;
  /** ms after a ping within which something (anything) must arrive, or the link is dead. */
  readonly timeout: number;
  /** The ping to send, or a function that makes one (for a timestamp, a JSON envelope…). */
  readonly ping: Outgoing | (() => Outgoing);
  /** Recognises the answer to a ping; matching messages are consumed, not delivered. */
  readonly isPong: (data: unknown) => boolean;
  /**
   * Ping every `interval` even when messages arrive (session mode: the RTT is measured at both
   * ends, whoever pings more often); by default a busy link is never pinged.
   */
  readonly always?: boolean;
}

/** The one timer slot the heartbeat owns, lent by the socket's `Timers`. */
export interface HeartbeatTimer {
  set(slot: 'heartbeat', ms: number, fn: () => void): void;
  clear(slot: 'heartbeat'): void;
}

export interface HeartbeatHooks {
  send(ping: Outgoing): void;
  /** Nothing arrived within `timeout` of a ping. */
  dead(): void;
  /** A pong answered the outstanding ping after `rtt` ms. */
  pong(rtt: number): void;
  /** The ping factory threw; the heartbeat goes on with the timeout armed. */
  error(error: unknown): void;
}

/**
 * Application-level liveness for one open link. Any inbound message proves life, and the hot
 * path (`received()`) only writes a timestamp: the single owned timer re-arms itself from that
 * timestamp when it fires, instead of being reset on every message.
 *
 * Worst-case detection, counted from the last message that arrived: interval + timeout.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  readonly #timers: HeartbeatTimer;
  readonly #hooks: HeartbeatHooks;
  #lastInbound = 0;
  /** When the outstanding ping was sent, or -1 when none is. */
  #pingSentAt = -1;
  /** When the last ping went out, answered or not. */
  #pingSentAtLast = 0;

  constructor(options: HeartbeatOptions, timers: HeartbeatTimer, hooks: HeartbeatHooks) {
    this.#options = options;
    this.#timers = timers;
    this.#hooks = hooks;
  }

  start(): void {
    this.#lastInbound = now();
    this.#pingSentAt = -1;
    this.#arm(this.#options.interval);
  }

  stop(): void {
    this.#timers.clear('heartbeat');
    this.#pingSentAt = -1;
  }

  /** Call for every inbound message; returns true when it is a pong, to be consumed. */
  received(data: unknown): boolean {
    this.#lastInbound = now();
    if (!this.#options.isPong(data)) return false;
    if (this.#pingSentAt >= 0) {
      const rtt = this.#lastInbound - this.#pingSentAt;
      this.#pingSentAt = -1;
      this.#arm(this.#options.interval);
      this.#hooks.pong(rtt);
    }
    return true;
  }

  /** Pings now unless a ping is already outstanding: after `offline`, or a tab waking up. */
  probe(): void {
    if (this.#pingSentAt < 0) this.#ping();
  }

  #arm(ms: number): void {
    this.#timers.set('heartbeat', ms, () => this.#tick());
  }

  #tick(): void {
    const t = now();
    if (this.#pingSentAt >= 0) {
      // Awaiting an answer. Any message since the ping is proof of life, pong or not.
      if (this.#lastInbound >= this.#pingSentAt) {
        this.#pingSentAt = -1;
        const since = this.#options.always ? t - this.#pingSentAtLast : t - this.#lastInbound;
        this.#arm(this.#options.interval - since);
      } else {
        this.#pingSentAt = -1;
        this.#hooks.dead();
      }
      return;
    }
    const idle = t - this.#lastInbound;
    if (idle < this.#options.interval && !this.#options.always)
      this.#arm(this.#options.interval - idle);
    else this.#ping();
  }

  #ping(): void {
    this.#pingSentAt = now();
    this.#pingSentAtLast = this.#pingSentAt;
    this.#arm(this.#options.timeout);
    const { ping } = this.#options;
    let data: Outgoing;
    try {
      data = typeof ping === 'function' ? ping() : ping;
    } catch (error) {
      this.#hooks.error(error);
      return;
    }
    this.#hooks.send(data);
  }
}
