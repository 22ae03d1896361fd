import {
  defaultShouldReconnect,
  parseRetryAfter,
  type ReconnectInfo,
} from '../protocol/close-codes.js';
import { backoffDelay } from './backoff.js';
import type { ReconnectOptions } from './options.js';

/** What to do after a lost link. */
export interface RetryPlan {
  readonly willReconnect: boolean;
  /** ms before the next attempt, when `willReconnect`. */
  readonly delay: number;
  /** Whether `delay` is the server's `retry-after` hint. */
  readonly serverHint: boolean;
  /** Set when `shouldReconnect` threw: what it threw (the default policy decided instead). */
  readonly policyFailure?: { readonly error: unknown };
}

/**
 * Decides whether and when to reconnect after a lost link, from what happened (`info`, whose
 * `attempt` counts the attempts that failed in a row) and the reconnect options. A pure
 * function: the socket only schedules what it says.
 *
 * - No retry once `maxRetries` attempts failed in a row; otherwise `shouldReconnect` decides,
 *   and the catalog's default policy when it throws.
 * - The delay is the server's `retry-after=<ms>` hint when the close reason has one; 0 for the
 *   first retry after the heartbeat found the link dead (the server is fine, the path died);
 *   otherwise the jittered backoff.
 * - `hinted`: the server's last hint, when the attempt it scheduled failed before opening (the
 *   server was not back yet). A random share of it is added to the backoff, so the clients
 *   that came back too early spread out again instead of piling into the server's first
 *   second.
 *
 * @example
 * planRetry({ code: 1012, reason: 'retry-after=4200', wasClean: true, cause: 'server_close',
 *   attempt: 0, opened: true }, options) // { willReconnect: true, delay: 4200, serverHint: true }
 */
export function planRetry(
  info: ReconnectInfo,
  o: ReconnectOptions,
  random: () => number = Math.random,
  hinted?: number,
): RetryPlan {
  let willReconnect = info.attempt < o.maxRetries;
  let policyFailure: { error: unknown } | undefined;
  if (willReconnect) {
    try {
      willReconnect = Boolean(o.shouldReconnect(info));
    } catch (error) {
      policyFailure = { error };
      willReconnect = defaultShouldReconnect(info);
    }
  }
  const hint = parseRetryAfter(info.reason);
  let delay =
    hint ??
    (info.cause === 'heartbeat_timeout' && info.attempt === 0
      ? 0
      : backoffDelay(info.attempt, o, random));
  if (hint === undefined && hinted !== undefined && !info.opened) {
    delay += Math.round(random() * hinted);
  }
  return {
    willReconnect,
    delay,
    serverHint: hint !== undefined,
    ...(policyFailure && { policyFailure }),
  };
}
