import { describe, expect, it } from 'vitest';
import { RefusalLimiter } from '../../src/server/session/refusal-limiter.js';

describe('RefusalLimiter', () => {
  it('lets an address through until its refusals run out, then says how long to wait', () => {
    const limiter = new RefusalLimiter({ refusals: 2, interval: 1_000 });
    expect(limiter.wait('a', 0)).toBe(0);
    limiter.refused('a', 0);
    expect(limiter.wait('a', 0)).toBe(0);
    limiter.refused('a', 0);
    expect(limiter.wait('a', 0)).toBe(500); // one refusal refills every 1000 / 2 ms
    expect(limiter.wait('a', 400)).toBe(100);
    expect(limiter.wait('a', 500)).toBe(0);
    expect(limiter.wait('b', 0)).toBe(0); // per address
  });

  it('never counts what succeeded, and forgets an address whose bucket refilled', () => {
    const limiter = new RefusalLimiter({ refusals: 2, interval: 1_000 });
    limiter.refused('a', 0);
    expect(limiter.size).toBe(1);
    expect(limiter.wait('a', 1_000)).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('remembers at most 10,000 addresses, forgetting the one used longest ago', () => {
    const limiter = new RefusalLimiter({ refusals: 1, interval: 60_000 });
    for (let i = 0; i <= 10_000; i++) limiter.refused(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(limiter.size).toBe(10_000);
    expect(limiter.wait('10.0.0.0', 0)).toBe(0); // the first was forgotten: a full bucket
    expect(limiter.wait('10.0.39.16', 0)).toBe(60_000);
  });

  it('counts nothing with Infinity refusals', () => {
    const limiter = new RefusalLimiter({ refusals: Number.POSITIVE_INFINITY, interval: 1_000 });
    for (let i = 0; i < 100; i++) limiter.refused('a', 0);
    expect(limiter.wait('a', 0)).toBe(0);
    expect(limiter.size).toBe(0);
  });
});
