import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/server/client/rate-limiter.js';

describe('RateLimiter#take', () => {
  it('allows a burst of `messages`, then refills at messages per interval', () => {
    const bucket = new RateLimiter({ messages: 3, interval: 1_000 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.take(200)).toBe(false); // 0.6 of a token so far
    expect(bucket.take(340)).toBe(true); // 1.02 tokens
    expect(bucket.take(340)).toBe(false);
  });

  it('never holds more than `messages` tokens after a long pause', () => {
    const bucket = new RateLimiter({ messages: 2, interval: 100 }, 0);
    const taken = [0, 0, 0].map(() => bucket.take(1_000_000));
    expect(taken).toEqual([true, true, false]);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new RateLimiter({ messages: 1, interval: 100 }, 1_000);
    expect(bucket.take(1_000)).toBe(true);
    expect(bucket.take(500)).toBe(false);
  });
});
