/**
 * How a socket tells what happened: the `logger` option (free when absent), `error` events,
 * and the platform's own reporter for what a listener throws.
 */
import { CallbackError } from '../common/errors.js';
import { ErrorEvent } from './events.js';
import type { Logger } from './options.js';
import type { Loss, RetryPlan } from './retry.js';

export class Reporter {
  readonly #target: EventTarget;
  readonly #logger: Logger | undefined;

  /** @param target where `error` events are dispatched: the socket. */
  constructor(target: EventTarget, logger: Logger | undefined) {
    this.#target = target;
    this.#logger = logger;
  }

  log(level: Parameters<Logger>[0], message: string, data?: object): void {
    if (!this.#logger) return;
    try {
      this.#logger(level, message, data);
    } catch {
      // A logger that throws must not change what the socket does.
    }
  }

  /** Logs `error` and fires an `error` event with it; the socket carries on. */
  error(error: Error): void {
    this.log('error', error.message, { error });
    this.#target.dispatchEvent(new ErrorEvent('error', { message: error.message, error }));
  }

  /** Logs what follows a lost link (`name`: its code's), and reports a `shouldReconnect` that threw. */
  lost(loss: Loss, plan: RetryPlan, name: string): void {
    if (plan.policyFailure) {
      const message = 'reconnect.shouldReconnect threw; using the default policy';
      this.error(new CallbackError(message, plan.policyFailure.error));
    }
    const { willReconnect } = plan;
    this.log(willReconnect ? 'warn' : 'error', `link lost: ${loss.code} ${name}`, {
      ...loss,
      willReconnect,
    });
  }

  /**
   * What a listener threw is the app's own error, never a socket `error`: as with a WebSocket's
   * listeners, it goes to the platform's reporter (`window.onerror`, error trackers), and to the
   * logger. Where there is no `reportError()` (Node), it is printed rather than left to end the
   * process, as Node's EventTarget would.
   */
  listenerThrew(thrown: unknown, event: Event): void {
    const message = `A "${event.type}" listener threw`;
    this.log('error', message, { error: thrown });
    if (typeof globalThis.reportError === 'function') globalThis.reportError(thrown);
    else if (!this.#logger) console.error(`HeartlineSocket: ${message}:`, thrown);
  }
}
