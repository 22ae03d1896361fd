import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/client/backoff.js';
import { seededRandom } from '../support/random.js';

const o = { minDelay: 500, maxDelay: 30_000, factor: 2, jitter: 'full' } as const;

describe('backoffDelay', () => {
  it('spreads the first retry over [0, minDelay)', () => {
    const random = seededRandom(1);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(0, o, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(500);
    expect(Math.min(...delays)).toBeLessThan(25);
    expect(Math.max(...delays)).toBeGreaterThan(475);
  });

  it('keeps every later delay within [minDelay, min(maxDelay, minDelay * factor^n)]', () => {
    const random = seededRandom(2);
    for (let n = 1; n <= 40; n++) {
      const upper = Math.min(o.maxDelay, o.minDelay * o.factor ** n);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(n, o, random);
        expect(d).toBeGreaterThanOrEqual(o.minDelay);
        expect(d).toBeLessThanOrEqual(upper);
      }
    }
  });

  it('still jitters at the cap, so clients never fall into lock-step', () => {
    const random = seededRandom(3);
    const delays = Array.from({ length: 5000 }, () => backoffDelay(30, o, random));
    const atCap = delays.filter((d) => d === o.maxDelay).length;
    expect(atCap / delays.length).toBeLessThan(0.01); // socket.io: 100% from the 4th attempt
    // uniform over [500, 30000]: each tenth of the range holds about a tenth of the delays
    const buckets = new Array(10).fill(0);
    for (const d of delays) buckets[Math.min(9, Math.floor(((d - 500) / 29_500) * 10))]++;
    for (const count of buckets) expect(count / delays.length).toBeGreaterThan(0.07);
  });

  it('never overflows into NaN, Infinity or 0 after any number of failures', () => {
    const random = seededRandom(4);
    for (const n of [1_015, 10_000, 1e6, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelay(n, o, random);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(o.minDelay);
      expect(d).toBeLessThanOrEqual(o.maxDelay);
    }
  });

  it("honors jitter: 'none' by taking the upper bound", () => {
    const none = { ...o, jitter: 'none' } as const;
    expect([0, 1, 2, 3, 6, 7, 100].map((n) => backoffDelay(n, none))).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000, 30_000,
    ]);
  });

  it('honors factor 1 as a fixed window', () => {
    const random = seededRandom(5);
    for (let n = 1; n < 50; n++) expect(backoffDelay(n, { ...o, factor: 1 }, random)).toBe(500);
  });
});
