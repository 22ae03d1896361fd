import { MAX_TIMER_DELAY } from './validate.js';

type Handle = ReturnType<typeof setTimeout>;

/**
 * Owned timers in named slots: setting a slot clears what was there, and `clearAll()` leaves
 * nothing behind, so no timer can outlive the object that armed it or fire twice.
 *
 * @example
 * const timers = new Timers<'heartbeat' | 'reconnect'>();
 * timers.set('reconnect', 500, () => connect());
 * timers.clearAll();
 */
export class Timers<Slot extends string> {
  readonly #handles = new Map<Slot, Handle>();
  readonly #unref: boolean;

  /** @param unref in Node, let the process exit while only these timers are pending (servers). */
  constructor({ unref = false }: { unref?: boolean } = {}) {
    this.#unref = unref;
  }

  /** Arms `slot` to run `fn` after `ms` (clamped to [0, 2^31-1]), replacing any pending timer. */
  set(slot: Slot, ms: number, fn: () => void): void {
    this.clear(slot);
    const delay = Math.min(Math.max(0, ms), MAX_TIMER_DELAY);
    const handle = setTimeout(() => {
      this.#handles.delete(slot);
      fn();
    }, delay);
    if (this.#unref) (handle as { unref?: () => void }).unref?.();
    this.#handles.set(slot, handle);
  }

  has(slot: Slot): boolean {
    return this.#handles.has(slot);
  }

  clear(slot: Slot): void {
    const handle = this.#handles.get(slot);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.#handles.delete(slot);
    }
  }

  clearAll(): void {
    for (const handle of this.#handles.values()) clearTimeout(handle);
    this.#handles.clear();
  }

  /** How many timers are pending; for tests and leak checks. */
  get size(): number {
    return this.#handles.size;
  }
}
