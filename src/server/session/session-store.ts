import { randomBytes } from 'node:crypto';
import { now } from '../../common/clock.js';
import { Timers } from '../../common/timers.js';

/** A new resume token: 128 random bits. */
export function createToken(): string {
  return randomBytes(16).toString('base64url');
}

/** What the store ends when a session's resume window passes. */
export interface Expirable {
  readonly id: string;
  expire(): void;
}

/**
 * The sessions of this process that wait for their client to come back, and the one timer that
 * ends those whose resume window passed. Detached sessions expire in the order they were
 * detached (the window is the same for all), so the timer only ever looks at the oldest.
 *
 * At most `max` wait at once (`resume.maxSessions`): one more ends the session detached longest
 * ago at once, as if its window had passed. Of all the waiting sessions it is the least likely
 * to come back, and new sessions are still served: refusing them instead (a 503) would let a
 * client that drops links on purpose shut everyone else out.
 */
export class SessionStore<S extends Expirable> {
  /** Detached sessions by id → when they expire (monotonic ms); insertion order is expiry order. */
  readonly #detached = new Map<string, { readonly session: S; readonly at: number }>();
  readonly #timers = new Timers<'expire'>({ unref: true });
  readonly #window: number;
  readonly #max: number;
  readonly #evicted: () => void;

  /** `evicted` is told of each session ended early because `max` were waiting. */
  constructor(window: number, max = Number.POSITIVE_INFINITY, evicted: () => void = () => {}) {
    this.#window = window;
    this.#max = max;
    this.#evicted = evicted;
  }

  /** Sessions waiting for a resume. */
  get size(): number {
    return this.#detached.size;
  }

  /** Its link dropped: the resume window starts. */
  detached(session: S): void {
    this.#detached.delete(session.id); // re-insert at the end: it expires last
    this.#detached.set(session.id, { session, at: now() + this.#window });
    if (!this.#timers.has('expire')) this.#timers.set('expire', this.#window, this.#sweep);
    while (this.#detached.size > this.#max) {
      const [id, oldest] = this.#detached.entries().next().value!;
      this.#detached.delete(id);
      this.#evicted();
      oldest.session.expire();
    }
  }

  /** It came back in time, or ended otherwise: no longer waiting. */
  delete(id: string): void {
    this.#detached.delete(id);
  }

  close(): void {
    this.#timers.clearAll();
    this.#detached.clear();
  }

  readonly #sweep = (): void => {
    const t = now();
    for (const [id, { session, at }] of this.#detached) {
      if (at > t) {
        this.#timers.set('expire', at - t, this.#sweep);
        return;
      }
      this.#detached.delete(id);
      session.expire();
    }
  };
}
