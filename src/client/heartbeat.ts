import { now } from '../common/clock.js';
import { CallbackError } from '../common/errors.js';
import type { Outgoing } from './payload.js';

export interface HeartbeatOptions {
  /** ms of inbound silence before a ping is sent. */
  readonly interval: number;
  /** ms after a ping within which something (anything) must arrive, or the link is dead. */
  readonly timeout: number;
  /**
   * The ping to send, or a function that makes one (for a timestamp, a JSON envelope…); `null`
   * for a protocol-level ping where the WebSocket can send one (`ws`), else the text `"ping"`.
   */
  readonly ping: Outgoing | (() => Outgoing) | null;
  /** Recognises the answer to a message ping; matching messages are consumed, not delivered. */
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
  /**
   * Sends a ping: a message, or `null` for a protocol-level ping (RFC 6455 §5.5.2). (The
   * session sends its frames here too, with their size in bytes when it knows it.)
   */
  send(ping: Outgoing | null, bytes?: number): void;
  /** Nothing arrived within `timeout` of a ping. */
  dead(): void;
  /** A pong answered the outstanding ping after `rtt` ms. */
  pong(rtt: number): void;
  /** The ping factory threw (a `CallbackError`); the heartbeat goes on with the timeout armed. */
  error(error: Error): void;
  /** The default text ping went unanswered on a link that carried messages (once per heartbeat). */
  unanswered?(): void;
}

/** What the heartbeat knows of one link, in ms on the monotonic clock. */
export interface BeatState {
  /** When the last inbound message arrived. */
  heard: number;
  /** When the outstanding ping was sent, or -1 when none is. */
  pinged: number;
  /** When the last ping went out, answered or not. */
  lastPing: number;
}

/** The text ping of the default heartbeat where no protocol-level ping can be sent. */
const TEXT_PING = 'ping';

/** The heartbeat's next step: ping (then wait `in` ms for life), give up, or look again in `in` ms. */
export interface Beat {
  readonly do: 'ping' | 'dead' | 'wait';
  readonly in: number;
}

/**
 * Decides what the heartbeat does when its timer fires at `now`: the rules of liveness as a pure
 * function, so that they are tested without a clock; the `Heartbeat` only schedules what it says.
 *
 * - Awaiting an answer: any message since the ping proves life, pong or not; none means dead.
 * - Otherwise ping once the link has been silent for `interval` (a busy link is never pinged),
 *   or every `interval` whatever arrives with `always`.
 *
 * @example
 * nextBeat({ heard: 0, pinged: -1, lastPing: 0 }, 10_000, { interval: 10_000, timeout: 5_000 })
 * // { do: 'ping', in: 5000 }
 */
export function nextBeat(
  s: Readonly<BeatState>,
  now: number,
  o: Pick<HeartbeatOptions, 'interval' | 'timeout' | 'always'>,
): Beat {
  if (s.pinged >= 0) {
    if (s.heard < s.pinged) return { do: 'dead', in: 0 };
    return { do: 'wait', in: o.interval - (now - (o.always ? s.lastPing : s.heard)) };
  }
  const idle = now - s.heard;
  if (idle < o.interval && !o.always) return { do: 'wait', in: o.interval - idle };
  return { do: 'ping', in: o.timeout };
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
  readonly #s: BeatState = { heard: 0, pinged: -1, lastPing: 0 };
  /** This link pings at the protocol level. */
  #native = false;
  /** Since this link started: a pong arrived; another message arrived. */
  #answered = false;
  #talked = false;
  /** `unanswered` was told, once for all links. */
  #warned = false;

  constructor(options: HeartbeatOptions, timers: HeartbeatTimer, hooks: HeartbeatHooks) {
    this.#options = options;
    this.#timers = timers;
    this.#hooks = hooks;
  }

  /** A link opened; `native`: it can send protocol-level pings (`ws`). */
  start(native = false): void {
    this.#s.heard = now();
    this.#s.pinged = -1;
    this.#native = native && this.#options.ping === null;
    this.#answered = this.#talked = false;
    this.#arm(this.#options.interval);
  }

  stop(): void {
    this.#timers.clear('heartbeat');
    this.#s.pinged = -1;
  }

  /**
   * Call for every inbound message; returns true when it is a pong, to be consumed. `at`: when
   * it arrived, for the frames of one batch (one clock read for all of them).
   */
  received(data: unknown, at?: number): boolean {
    return this.heard(!this.#native && this.#options.isPong(data), at);
  }

  /** Something arrived: a pong (a protocol-level one, or a message `isPong` matched), or not. */
  heard(pong: boolean, at: number = now()): boolean {
    const s = this.#s;
    s.heard = at;
    if (!pong) {
      this.#talked = true;
      return false;
    }
    this.#answered = true;
    if (s.pinged >= 0) {
      const rtt = s.heard - s.pinged;
      s.pinged = -1;
      this.#arm(this.#options.interval);
      this.#hooks.pong(rtt);
    }
    return true;
  }

  /** Pings now unless a ping is already outstanding: after `offline`, or a tab waking up. */
  probe(): void {
    if (this.#s.pinged < 0) this.#ping();
  }

  #arm(ms: number): void {
    this.#timers.set('heartbeat', ms, () => this.#tick());
  }

  #tick(): void {
    const s = this.#s;
    // The default text ping went unanswered by a server that does send messages.
    if (
      s.pinged >= 0 &&
      !this.#answered &&
      this.#talked &&
      !this.#native &&
      this.#options.ping === null
    ) {
      if (!this.#warned) this.#hooks.unanswered?.();
      this.#warned = true;
    }
    const beat = nextBeat(s, now(), this.#options);
    s.pinged = -1;
    if (beat.do === 'dead') this.#hooks.dead();
    else if (beat.do === 'ping') this.#ping();
    else this.#arm(beat.in);
  }

  #ping(): void {
    const s = this.#s;
    s.pinged = s.lastPing = now();
    this.#arm(this.#options.timeout);
    const { ping } = this.#options;
    let data: Outgoing | null;
    try {
      data = this.#native ? null : typeof ping === 'function' ? ping() : (ping ?? TEXT_PING);
    } catch (error) {
      this.#hooks.error(new CallbackError('heartbeat.ping threw', error));
      return;
    }
    this.#hooks.send(data);
  }
}
