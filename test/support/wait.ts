/**
 * Waiting in tests without fake timers: for one event, for a condition, or for time.
 * Every wait is bounded and cleans up its listener and timer whichever way it ends.
 *
 * Two kinds of targets are supported:
 * - Node `EventEmitter`s (anything with `on` and `off`, `ws` sockets and servers included)
 *   are listened to with `on`; a wait resolves with the FIRST argument of the emit (for a
 *   `ws` socket's `close`: the code; use `waitForEventArgs` for all of them).
 * - Other `EventTarget`s (`HeartlineSocket`, a browser-style `WebSocket`) are listened to
 *   with `addEventListener`; a wait resolves with the `Event`.
 *
 * `ws` sockets have both; they are treated as emitters because their `addEventListener`
 * silently ignores every type but open/message/close/error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished } from 'vitest';

// The listener types are `any` on purpose: typed emitters (`ws`, `EventEmitter<Map>`) and typed
// event targets (`HeartlineSocket`) declare generic or overloaded methods that no narrower
// structural type accepts.

/** A Node `EventEmitter`, or anything shaped like one. */
export interface EmitterLike {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  on(type: any, listener: any): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  off(type: any, listener: any): unknown;
}

/** A DOM-style `EventTarget`, or anything shaped like one. */
export interface EventTargetLike {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  addEventListener(type: any, listener: any): void;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  removeEventListener(type: any, listener: any): void;
}

export type Listenable = EmitterLike | EventTargetLike;

export interface WaitForEventOptions<T> {
  /**
   * Milliseconds before the wait rejects.
   * @default 5000
   */
  timeout?: number;
  /** Only an event for which this returns true ends the wait. */
  filter?: (event: T) => boolean;
}

function isEmitter(target: Listenable): target is EmitterLike {
  const t = target as Partial<EmitterLike>;
  return typeof t.on === 'function' && typeof t.off === 'function';
}

function describe(target: Listenable): string {
  const name = (target as object).constructor?.name;
  return name && name !== 'Object' ? name : 'the target';
}

/** Adds a listener that gets every emit's arguments; returns its remover. */
function subscribe(
  target: Listenable,
  type: string,
  onEvent: (args: unknown[]) => void,
): () => void {
  if (isEmitter(target)) {
    const listener = (...args: unknown[]) => onEvent(args);
    target.on(type, listener);
    return () => target.off(type, listener);
  }
  const listener = (event: unknown) => onEvent([event]);
  target.addEventListener(type, listener);
  return () => target.removeEventListener(type, listener);
}

/**
 * Resolves with all the arguments of the next matching `type` event (for an `EventTarget`:
 * `[event]`). The filter sees the first argument.
 *
 * @example
 * const [code, reason] = await waitForEventArgs(ws, 'close');
 */
export function waitForEventArgs<T = unknown>(
  target: Listenable,
  type: string,
  { timeout = 5000, filter }: WaitForEventOptions<T> = {},
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const stop = subscribe(target, type, (args) => {
      if (filter && !filter(args[0] as T)) return;
      stop();
      clearTimeout(timer);
      resolve(args);
    });
    const timer = setTimeout(() => {
      stop();
      const matching = filter ? ' matching the filter' : '';
      reject(
        new Error(
          `Timed out after ${timeout} ms waiting for a '${type}' event${matching} on ${describe(target)}`,
        ),
      );
    }, timeout);
  });
}

/**
 * Resolves with the next matching `type` event (the `Event`, or an emitter's first
 * argument); rejects after `timeout` ms with a message naming the event.
 *
 * @example
 * const event = await waitForEvent<CloseEvent>(socket, 'close', { timeout: 1000 });
 * const text = await waitForEvent<Buffer>(ws, 'message', { filter: (d) => d.toString() !== 'pong' });
 */
export async function waitForEvent<T = unknown>(
  target: Listenable,
  type: string,
  options: WaitForEventOptions<T> = {},
): Promise<T> {
  const args = await waitForEventArgs(target, type, options);
  return args[0] as T;
}

export interface WaitForOptions {
  /**
   * Milliseconds before the wait rejects.
   * @default 5000
   */
  timeout?: number;
  /**
   * Milliseconds between two calls of the predicate.
   * @default 10
   */
  interval?: number;
  /** Says what was awaited, for the timeout message. */
  message?: string;
}

/**
 * Calls `predicate` every `interval` ms until it returns a truthy value, and resolves with
 * that value. A predicate that throws counts as "not yet"; the last error becomes the
 * `cause` of the timeout error.
 *
 * @example
 * await waitFor(() => server.sockets.size === 0, { message: 'the server to drop its sockets' });
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeout = 5000, interval = 10, message = 'the condition' }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(interval, left));
  }
  throw new Error(`Timed out after ${timeout} ms waiting for ${message}`, {
    ...(lastError === undefined ? {} : { cause: lastError }),
  });
}

/**
 * Resolves after `ms` milliseconds (a real timer).
 *
 * @example
 * await delay(300);
 */
export function delay(ms: number): Promise<void> {
  return sleep(ms);
}

export interface Collected<T> {
  /** Every event so far, in order (an emitter's first argument). Fills as events arrive. */
  readonly events: T[];
  /** Removes the listener; the array keeps what it has. Idempotent. */
  stop(): void;
}

/**
 * Records every `type` event from now on. Inside a test the listener is removed when the
 * test finishes.
 *
 * @example
 * const drops = collect<DropEvent>(socket, 'drop');
 * await waitFor(() => drops.events.length === 2);
 */
export function collect<T = unknown>(target: Listenable, type: string): Collected<T> {
  const events: T[] = [];
  const remove = subscribe(target, type, (args) => events.push(args[0] as T));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    remove();
  };
  try {
    onTestFinished(stop);
  } catch {
    // Not inside a test: the caller stops it.
  }
  return { events, stop };
}
