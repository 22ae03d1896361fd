/** How many messages a client may send: `messages` per `interval` ms, in bursts up to `messages`. */
export interface RateLimitOptions {
  /** Messages allowed per interval; also the largest burst. */
  readonly messages: number;
  /** The interval in ms. */
  readonly interval: number;
}

/**
 * A token bucket for one client: it holds up to `messages` tokens, refills continuously at
 * `messages / interval` per ms, and every inbound message takes one. Pure arithmetic on the
 * times it is given, so tests drive it without a clock.
 *
 * @example
 * const bucket = new RateLimiter({ messages: 10, interval: 1_000 }, now());
 * if (!bucket.take(now())) client.close(1008, 'Rate limit exceeded');
 */
export class RateLimiter {
  #tokens: number;
  #at: number;
  readonly #options: RateLimitOptions;

  constructor(options: RateLimitOptions, now: number) {
    this.#options = options;
    this.#tokens = options.messages;
    this.#at = now;
  }

  /** Takes one token; `false` when the bucket is empty (the message is over the limit). */
  take(now: number): boolean {
    const { messages, interval } = this.#options;
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(messages, this.#tokens + (elapsed * messages) / interval);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
