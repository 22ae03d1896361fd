/** The part of the reconnect options the delay arithmetic needs. */
export interface BackoffOptions {
  /** Lower bound of every delay after the first retry, in ms. */
  readonly minDelay: number;
  /** Upper bound of every delay, in ms; jitter still spreads delays below it. */
  readonly maxDelay: number;
  /** Growth of the upper bound per failed attempt. */
  readonly factor: number;
  /** `'full'`: uniform between the bounds; `'none'`: always the upper bound. */
  readonly jitter: 'full' | 'none';
}

/**
 * The delay before the next connection attempt, after `failures` failed attempts in a row.
 *
 * The first retry after a stable link drops waits a random time in [0, minDelay), so a fleet of
 * clients cut at the same moment does not return in the same millisecond. Later retries wait a
 * random time in [minDelay, min(maxDelay, minDelay · factor^failures)]: full jitter that keeps
 * spreading clients when the cap is reached (socket.io's backo2 collapses to exactly the cap),
 * and arithmetic that cannot overflow into NaN or 0 however many attempts fail (`Infinity` is
 * clamped by `Math.min` before any subtraction).
 *
 * @example
 * backoffDelay(3, { minDelay: 500, maxDelay: 30_000, factor: 2, jitter: 'full' }) // 500…4000
 */
export function backoffDelay(
  failures: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): number {
  const lower = failures <= 0 ? 0 : o.minDelay;
  const upper =
    failures <= 0 ? o.minDelay : Math.min(o.maxDelay, o.minDelay * o.factor ** failures);
  const span = Math.max(0, upper - lower);
  if (o.jitter === 'none') return Math.round(upper);
  return Math.round(lower + random() * span);
}
