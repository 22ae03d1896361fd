import type { EventEmitter } from 'node:events';

/**
 * Calls every listener of `event` on its own: a listener that throws, or returns a promise
 * that rejects, is reported through `onError` and neither stops the listeners after it nor
 * unwinds into the code that emitted (a `ws` receiver, the sweep timer). `EventEmitter#emit`
 * would let the first throw escape and skip the rest.
 *
 * @example
 * safeEmit(client, 'message', [data, isBinary], (error) => server.report(error, client));
 */
export function safeEmit(
  emitter: EventEmitter,
  event: string,
  args: readonly unknown[],
  onError: (error: unknown) => void,
): boolean {
  // rawListeners() returns a copy, and once() wrappers that remove themselves when called.
  const listeners = emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[];
  for (const listener of listeners) {
    try {
      const result = listener.apply(emitter, args as unknown[]);
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as Promise<unknown>).then === 'function'
      ) {
        (result as Promise<unknown>).then(undefined, onError);
      }
    } catch (error) {
      onError(error);
    }
  }
  return listeners.length > 0;
}
