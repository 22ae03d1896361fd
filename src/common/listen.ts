/** Anything with add/removeEventListener: window, document, a WebSocket, an EventTarget. */
export interface ListenTarget {
  addEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
  removeEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
}

/**
 * Adds each handler to `target` and returns the one function that removes them all, so that
 * whoever listens also owns the removal.
 *
 * @example
 * const stop = listen(window, { online: () => retryNow(), offline: () => probe() });
 * stop();
 */
export function listen(
  target: ListenTarget,
  handlers: Record<string, (event: never) => void>,
): () => void {
  const entries = Object.entries(handlers);
  for (const [type, handler] of entries) target.addEventListener(type, handler);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (const [type, handler] of entries) target.removeEventListener(type, handler);
  };
}
