/** How many refused resumes one address may have: `refusals` per `interval` ms, in bursts up to `refusals`. */
export interface RefusalLimit {
  readonly refusals: number;
  readonly interval: number;
}

/** One address's token bucket. */
interface Bucket {
  tokens: number;
  at: number;
}

/** Addresses remembered at most; the one used longest ago is forgotten first. */
const ADDRESSES = 10_000;

/**
 * Refused resume attempts per client address (`resume.maxRefusals` per `resume.refusalInterval`),
 * as one token bucket per address: each refusal takes a token, and an address with none left
 * is not looked up until one has refilled. Only refusals count: a resume that succeeds proves
 * the token, and is what the feature is for, so clients behind one NAT or proxy resuming
 * after a network blip never meet the limit; guessing tokens and the session churn of
 * wrong-token resumes do. At most 10,000 addresses are remembered; forgetting one gives it a
 * full bucket, which bounds memory without letting one address through faster. Pure
 * arithmetic on the times it is given.
 *
 * @example
 * const limiter = new RefusalLimiter({ refusals: 20, interval: 10_000 });
 * const wait = limiter.wait(address, now()); // 0: look the resume up
 * if (refused) limiter.refused(address, now());
 */
export class RefusalLimiter {
  readonly #limit: RefusalLimit;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RefusalLimit) {
    this.#limit = limit;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** ms until `address` may try again: 0 when it may now. */
  wait(address: string, now: number): number {
    const bucket = this.#refill(address, now);
    if (!bucket || bucket.tokens >= 1) return 0;
    const { refusals, interval } = this.#limit;
    return Math.ceil(((1 - bucket.tokens) * interval) / refusals);
  }

  /** A resume from `address` was refused: it takes a token. */
  refused(address: string, now: number): void {
    if (this.#limit.refusals === Number.POSITIVE_INFINITY) return;
    const bucket = this.#refill(address, now) ?? { tokens: this.#limit.refusals, at: now };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // Re-inserted at the end: the Map's order is the order of last use.
    this.#buckets.delete(address);
    this.#buckets.set(address, bucket);
    if (this.#buckets.size > ADDRESSES) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }

  /** The address's bucket refilled to `now`; a full one is forgotten (undefined). */
  #refill(address: string, now: number): Bucket | undefined {
    const bucket = this.#buckets.get(address);
    if (!bucket) return undefined;
    const { refusals, interval } = this.#limit;
    bucket.tokens = Math.min(
      refusals,
      bucket.tokens + (Math.max(0, now - bucket.at) * refusals) / interval,
    );
    bucket.at = now;
    if (bucket.tokens >= refusals) {
      this.#buckets.delete(address);
      return undefined;
    }
    return bucket;
  }
}
