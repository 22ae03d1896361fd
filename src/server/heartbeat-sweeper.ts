import { now as clock } from '../common/clock.js';
import { Timers } from '../common/timers.js';
import { ClientLiveness, type LivenessOwner } from './client/client-liveness.js';

/** Heartbeat timing of the server. */
export interface ServerHeartbeatOptions {
  /** ms between protocol pings to one client. */
  readonly interval: number;
  /** ms a client may stay silent after a ping before it is terminated. */
  readonly timeout: number;
}

/**
 * The liveness record of one client. The sweeper writes the ping times; the record's own
 * `heard()`/`ponged()` stamp what arrives.
 */
export interface Liveness {
  /** When the last frame of any kind arrived (monotonic ms). */
  lastSeen: number;
  /** When the unanswered ping went out, or 0 when none is outstanding. */
  pingSentAt: number;
  /** When the next ping is due. */
  nextPingAt: number;
  /**
   * Ping every interval even when frames arrive (session links: the ping carries the ack and
   * measures the server's RTT). Otherwise a client heard from within the interval is not
   * pinged: its traffic already proves it alive.
   */
  readonly pingWhenBusy: boolean;
  /** Sends a protocol-level ping. */
  ping(): void;
  /** Terminates the client: it stayed silent for `timeout` after a ping. */
  expire(): void;
}

/** What one sweep decides for one client. */
export type HeartbeatStep = 'ping' | 'suspect' | 'alive' | 'wait';

/**
 * Decides what a client needs at `now`: a ping, a closer look (`suspect`: silent for
 * `timeout` since its ping), or nothing. Any frame after the ping proves life (`alive`), so a
 * pong queued behind a large message does not count against a busy client. A ping is due
 * `lead` ms early (one sweep period), so that sweep granularity never delays it past its time.
 *
 * @example
 * heartbeatStep({ lastSeen: 0, pingSentAt: 100, nextPingAt: 25_100 }, 10_200, 10_000) // 'suspect'
 */
export function heartbeatStep(
  l: Pick<Liveness, 'lastSeen' | 'pingSentAt' | 'nextPingAt'>,
  now: number,
  timeout: number,
  lead = 0,
): HeartbeatStep {
  if (l.pingSentAt !== 0) {
    if (l.lastSeen >= l.pingSentAt) return 'alive';
    return now - l.pingSentAt >= timeout ? 'suspect' : 'wait';
  }
  return now >= l.nextPingAt - lead ? 'ping' : 'wait';
}

/**
 * How often the one sweep timer runs: a twentieth of the shorter of interval and timeout,
 * between 10 ms and 500 ms. Pings go out up to one period early and kills are seen up to one
 * period late, so a dead client is terminated within `interval + timeout + period` of its last
 * frame (35.5 s with the defaults).
 *
 * @example
 * sweepPeriod({ interval: 25_000, timeout: 10_000 }) // 500
 */
export function sweepPeriod({ interval, timeout }: ServerHeartbeatOptions): number {
  return Math.min(500, Math.max(10, Math.floor(Math.min(interval, timeout) / 20)));
}

/**
 * When a new client gets its first ping: at a random point of [interval/2, interval), so that
 * clients that connected together (after a restart) are not pinged together (Centrifugo's
 * `addPingUpdate`).
 */
export function firstPingAt(
  connectedAt: number,
  interval: number,
  random: () => number = Math.random,
): number {
  return connectedAt + interval * (0.5 + random() / 2);
}

/**
 * One timer for every client (not one per socket), which pings clients when due and
 * terminates the ones that stayed silent for `timeout` after their ping.
 *
 * Two guards keep an event-loop stall from killing healthy clients (the ws README recipe, one
 * timer per socket, killed 229–406 of 500 healthy clients after one 1.5 s stall in our runs):
 * 1. The kill decision runs in `setImmediate`, after the poll phase. After a stall libuv runs
 *    the timers phase before it reads the sockets, so pongs that arrived during the stall are
 *    still unread when the sweep fires; the check phase sees them.
 * 2. The sweep measures its own lateness. When it fired more than `timeout` late, the event
 *    loop (not the clients) was silent: it kills no one this round and gives every client with
 *    an outstanding ping a fresh `timeout` from now.
 *
 * @example
 * const sweeper = new HeartbeatSweeper({ interval: 25_000, timeout: 10_000 });
 * sweeper.add(liveness);
 * sweeper.stop();
 */
export class HeartbeatSweeper {
  readonly #options: ServerHeartbeatOptions;
  readonly #period: number;
  readonly #targets = new Set<Liveness>();
  readonly #timers = new Timers<'sweep'>({ unref: true });
  #immediate: NodeJS.Immediate | undefined;
  #expected = 0;
  #stalls = 0;
  #stopped = false;

  constructor(options: ServerHeartbeatOptions) {
    this.#options = options;
    this.#period = sweepPeriod(options);
  }

  /** Sweeps that found the event loop stalled longer than `timeout` and so killed no one. */
  get stalls(): number {
    return this.#stalls;
  }

  /**
   * Starts watching one link: makes its liveness record, whose first ping falls at a random
   * point of the first interval. `pingWhenBusy` pings every interval even when frames arrive
   * (session links: the ping carries the ack).
   */
  track(owner: LivenessOwner, pingWhenBusy: boolean): ClientLiveness {
    const record = new ClientLiveness(owner, clock(), this.#options.interval, pingWhenBusy);
    this.add(record);
    return record;
  }

  add(target: Liveness): void {
    if (this.#stopped) return;
    this.#targets.add(target);
    if (!this.#timers.has('sweep')) this.#arm(clock());
  }

  /** Stops watching a link (it ended, or was replaced). */
  delete(target: Liveness): void {
    this.#targets.delete(target);
  }

  /** Stops the timer and the pending check for good. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearAll();
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#targets.clear();
  }

  #arm(from: number): void {
    this.#expected = from + this.#period;
    this.#timers.set('sweep', this.#period, this.#sweep);
  }

  readonly #sweep = (): void => {
    const now = clock();
    const lateness = now - this.#expected;
    if (this.#targets.size > 0) this.#arm(now);
    const { timeout, interval } = this.#options;
    if (lateness > timeout) {
      this.#stalls++;
      for (const t of this.#targets)
        if (t.pingSentAt !== 0 && t.lastSeen < t.pingSentAt) t.pingSentAt = now;
      return;
    }
    let suspects: Liveness[] | undefined;
    for (const t of this.#targets) {
      const step = heartbeatStep(t, now, timeout, this.#period);
      if (step === 'alive') t.pingSentAt = 0;
      if (step === 'ping' || (step === 'alive' && now >= t.nextPingAt - this.#period)) {
        if (!t.pingWhenBusy && now - t.lastSeen < interval - this.#period) {
          t.nextPingAt = t.lastSeen + interval; // heard from recently: look again then
          continue;
        }
        t.pingSentAt = now;
        t.nextPingAt = now + interval;
        t.ping();
      } else if (step === 'suspect') {
        if (suspects) suspects.push(t);
        else suspects = [t];
      }
    }
    if (suspects && !this.#immediate) {
      const list = suspects;
      this.#immediate = setImmediate(() => this.#confirm(list));
      this.#immediate.unref();
    }
  };

  #confirm(suspects: Liveness[]): void {
    this.#immediate = undefined;
    const now = clock();
    for (const t of suspects) {
      if (this.#targets.has(t) && heartbeatStep(t, now, this.#options.timeout) === 'suspect') {
        this.#targets.delete(t);
        t.expire();
      }
    }
  }
}
