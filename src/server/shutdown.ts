import { Timers } from '../common/timers.js';
import { formatRetryAfter } from '../protocol/close-codes.js';
import { kConnection, type ServerClient } from './client/server-client.js';
import type { ShutdownSettings } from './options.js';

/**
 * The retry hint one client gets at shutdown: `gap` plus a share of `window`, uniform over
 * [gap, gap + window) and drawn per client, so that clients which honour it come back spread
 * over the window, and only once the next server is expected to listen.
 *
 * @example
 * retryDelay(2_000, 5_000, () => 0.5) // 4_500
 */
export function retryDelay(
  gap: number,
  window: number,
  random: () => number = Math.random,
): number {
  return gap + Math.floor(random() * window);
}

/**
 * Closes every client with `settings.code` and a reason carrying its own retry hint, then
 * terminates those still connected at `settings.deadline`. Resolves once `whenEmpty` does (the
 * server resolves it when its last client is gone), with the deadline timer cleared either way.
 *
 * @example
 * const { drained, terminated } = await drainClients(clients, settings, lastClientGone);
 */
export async function drainClients(
  clients: ReadonlyMap<string, ServerClient>,
  settings: ShutdownSettings,
  whenEmpty: Promise<void>,
): Promise<{ drained: number; terminated: number }> {
  const drained = clients.size;
  let terminated = 0;
  if (drained === 0) return { drained, terminated };
  const { code, reason, retryAfter, restartGap, deadline } = settings;
  for (const client of [...clients.values()]) {
    client[kConnection].end(
      code,
      formatRetryAfter(reason, retryDelay(restartGap, retryAfter)),
      'shutdown',
      false,
    );
  }
  const timers = new Timers<'deadline'>({ unref: true });
  timers.set('deadline', deadline, () => {
    for (const client of clients.values()) {
      terminated++;
      client[kConnection].end(code, '', 'shutdown', true);
    }
  });
  try {
    await whenEmpty;
  } finally {
    timers.clearAll();
  }
  return { drained, terminated };
}
