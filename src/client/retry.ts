/**
 * The client's retry policy: why a link was lost, what `reconnect.shouldReconnect` is asked,
 * the pure decision `planRetry()`, and the `RetryBudget` that counts failures across links.
 */
import { now } from '../common/clock.js';
import { parseRetryAfter, retriesAfter } from '../protocol/close-codes.js';
import { backoffDelay } from './backoff.js';
import type { ReconnectOptions } from './options.js';

/** Why a link was lost: who closed it, or what Heartline noticed. */
export type LossCause =
  | 'server_close'
  | 'network_error'
  | 'heartbeat_timeout'
  | 'connect_timeout'
  | 'handshake_refused'
  | 'session_error'
  | 'pagehide';

/** A lost link: its close code and reason, and why it ended. */
export interface Loss {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly cause: LossCause;
}

/** What `reconnect.shouldReconnect` is asked about a lost link. */
export interface ReconnectInfo extends Loss {
  /** How many attempts have failed in a row so far (0 after a stable link dropped). */
  readonly failures: number;
  /** Whether the socket that ended had opened. */
  readonly opened: boolean;
}

/**
 * The default reconnect policy: reconnect unless the close code says retrying cannot fix it
 * (1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003, and the refusals 4400, 4401, 4403,
 * 4404). Unknown codes are retried.
 * An app's own `close()` never reaches a policy: it always ends the socket.
 *
 * @example
 * defaultShouldReconnect({ code: 1008, reason: '', wasClean: true, cause: 'server_close',
 *   failures: 0, opened: true }) // false
 */
export function defaultShouldReconnect(info: ReconnectInfo): boolean {
  return retriesAfter(info.code);
}

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
 * `failures` counts the attempts that failed in a row) and the reconnect options. A pure
 * function: the socket only schedules what it says.
 *
 * - No retry once `maxRetries` attempts failed in a row; otherwise `shouldReconnect` decides,
 *   and the catalog's default policy when it throws.
 * - The delay is the server's `retry-after=<ms>` hint when the close reason has one, clamped to
 *   [minDelay, maxDelay] (a hint of 0 on every link must not spin, nor one of 2^31 park the
 *   client for 24 days); an HTTP refusal's `Retry-After` comes as such a hint. 0 for the
 *   first retry after the heartbeat found the link dead (the server is fine, the path died);
 *   otherwise the jittered backoff.
 * - `hinted`: the server's last hint, when the attempt it scheduled failed before opening (the
 *   server was not back yet). A random time up to twice the hint (at most `maxDelay`) is added
 *   to the backoff: the clients a restart outlasted had hints from the server's expected gap to
 *   its real one, and spread over [h, 3h] they land across the rest of the server's window
 *   instead of piling into its first second.
 *
 * @example
 * planRetry({ code: 1012, reason: 'retry-after=4200', wasClean: true, cause: 'server_close',
 *   failures: 0, opened: true }, options) // { willReconnect: true, delay: 4200, serverHint: true }
 */
export function planRetry(
  info: ReconnectInfo,
  o: ReconnectOptions,
  random: () => number = Math.random,
  hinted?: number,
): RetryPlan {
  let willReconnect = info.failures < o.maxRetries;
  let policyFailure: { error: unknown } | undefined;
  if (willReconnect) {
    try {
      willReconnect = Boolean(o.shouldReconnect(info));
    } catch (error) {
      policyFailure = { error };
      willReconnect = defaultShouldReconnect(info);
    }
  }
  let hint = parseRetryAfter(info.reason);
  if (hint !== undefined) hint = Math.min(Math.max(hint, o.minDelay), o.maxDelay);
  let delay =
    hint ??
    (info.cause === 'heartbeat_timeout' && info.failures === 0
      ? 0
      : backoffDelay(info.failures, o, random));
  if (hint === undefined && hinted !== undefined && !info.opened) {
    delay += Math.round(random() * Math.min(2 * hinted, o.maxDelay));
  }
  return {
    willReconnect,
    delay,
    serverHint: hint !== undefined,
    ...(policyFailure && { policyFailure }),
  };
}

/**
 * What the retry decision remembers across links: the failures in a row, which reset only once
 * a link stayed open for `stableAfter` ms, and the server's last retry hint, until a link opens.
 *
 * @example
 * const budget = new RetryBudget(options.reconnect);
 * const plan = budget.plan(loss, openedAt);
 * if (plan.willReconnect) schedule(plan.delay, budget.spend());
 */
export class RetryBudget {
  readonly #options: ReconnectOptions;
  #failures = 0;
  #hint: number | undefined;

  constructor(options: ReconnectOptions) {
    this.#options = options;
  }

  /** A link opened for the app: a hint the server gave before is spent. */
  opened(): void {
    this.#hint = undefined;
  }

  /** Starts counting afresh (`reconnect()` on a closed socket). */
  reset(): void {
    this.#failures = 0;
  }

  /** Plans what follows `loss` of a link that opened at `openedAt` (-1: it never opened). */
  plan(loss: Loss, openedAt: number, random: () => number = Math.random): RetryPlan {
    const opened = openedAt >= 0;
    if (opened && now() - openedAt >= this.#options.stableAfter) this.#failures = 0;
    const info: ReconnectInfo = { ...loss, failures: this.#failures, opened };
    const plan = planRetry(info, this.#options, random, this.#hint);
    if (plan.serverHint) this.#hint = plan.delay;
    return plan;
  }

  /** Counts the attempt about to be scheduled; returns its number in the current run. */
  spend(): number {
    return ++this.#failures;
  }
}
