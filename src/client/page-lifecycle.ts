import { listen } from '../common/listen.js';

export interface PageHooks {
  /** The browser believes it is online again: retry now. */
  online(): void;
  /** The browser lost its network: the open link is suspect, check it now. */
  offline(): void;
  /** The tab became visible after being hidden: timers may have been throttled, check now. */
  visible(): void;
  /** `persisted`: the page goes into the back/forward cache and may come back. */
  pagehide(persisted: boolean): void;
  pageshow(): void;
}

interface PageGlobals {
  addEventListener?: (type: string, listener: (event: never) => void) => void;
  removeEventListener?: (type: string, listener: (event: never) => void) => void;
  document?: {
    visibilityState?: string;
    addEventListener(type: string, listener: (event: never) => void): void;
    removeEventListener(type: string, listener: (event: never) => void): void;
  };
}

/**
 * Listens to the page events that matter to a long-lived link and returns the function that
 * removes every listener. Nothing is touched at import, so server-side rendering is safe; in
 * Node (no `addEventListener` on `globalThis`) this does nothing.
 */
export function watchPage(hooks: PageHooks, closeOnUnload: boolean): () => void {
  const g = globalThis as unknown as PageGlobals;
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') {
    return () => {};
  }
  const win = g as Required<Pick<PageGlobals, 'addEventListener' | 'removeEventListener'>>;
  const handlers: Record<string, (event: never) => void> = {
    online: () => hooks.online(),
    offline: () => hooks.offline(),
  };
  if (closeOnUnload) {
    handlers.pagehide = (event: never) =>
      hooks.pagehide((event as { persisted?: boolean }).persisted === true);
    // Only a page restored from the back/forward cache comes back; a first load has no link to restore.
    handlers.pageshow = (event: never) =>
      (event as { persisted?: boolean }).persisted && hooks.pageshow();
  }
  const stops = [listen(win, handlers)];
  const doc = g.document;
  if (doc && typeof doc.addEventListener === 'function') {
    let hidden = doc.visibilityState === 'hidden';
    stops.push(
      listen(doc, {
        visibilitychange: () => {
          const nowHidden = doc.visibilityState === 'hidden';
          if (hidden && !nowHidden) hooks.visible();
          hidden = nowHidden;
        },
      }),
    );
  }
  return () => {
    for (const stop of stops) stop();
  };
}
