/**
 * How a socket tells what happened: the `logger` option (free when absent), `error` events,
 * and the platform's own reporter for what an `error` listener throws.
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
   * What a listener threw, as a `CallbackError`: an `error` event, except for what an `error`
   * listener threw, which goes to the logger or the platform's reporter, never into a loop.
   */
  listenerThrew(thrown: unknown, event: Event): void {
    const error = new CallbackError(`A "${event.type}" listener threw`, thrown);
    if (event.type !== 'error') this.error(error);
    else if (this.#logger) this.log('error', error.message, { error });
    else if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
    else console.error(error);
  }
}
