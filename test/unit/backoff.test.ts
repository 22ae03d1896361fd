import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/client/backoff.js';
import { DEFAULTS } from '../../src/client/options.js';
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

/**
 * The schedule of `failures` = 0, 1, 2… for one client dropped at 0 (the attempts themselves
 * taking no time, as against a refusing host): how long it still waits once the server is
 * back at `back` ms, and how many attempts it made before.
 */
function afterOutage(back: number, random: () => number) {
  const o = DEFAULTS.reconnect;
  let at = 0;
  let failures = 0;
  while (at < back) at += backoffDelay(failures++, o, random);
  return { wait: at - back, attempts: failures };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('backoffDelay with the default reconnect options (issue 13)', () => {
  it('brings clients back a median well under 0.5 s after a server gone 1 to 2 s', () => {
    const random = seededRandom(13);
    for (const back of [1_000, 1_250, 1_500, 1_750, 2_000, 2_250]) {
      const waits = Array.from({ length: 4_000 }, () => afterOutage(back, random).wait);
      expect(median(waits), `server back after ${back} ms`).toBeLessThan(400);
    }
  });

  it('reaches the cap within about a minute of failures, and keeps spreading clients there', () => {
    const random = seededRandom(14);
    const o = DEFAULTS.reconnect;
    const toCap = Math.ceil(Math.log(o.maxDelay / o.minDelay) / Math.log(o.factor));
    expect(toCap).toBeLessThanOrEqual(20);
    const attempts = Array.from({ length: 1_000 }, () => afterOutage(60_000, random).attempts);
    expect(median(attempts)).toBeLessThanOrEqual(21); // in the first minute of an outage
    // after an outage of 10 minutes the clients arrive spread, not in step
    const waits = Array.from({ length: 5_000 }, () => afterOutage(600_000, random).wait);
    const perSecond = new Map<number, number>();
    for (const w of waits)
      perSecond.set(Math.floor(w / 1_000), (perSecond.get(Math.floor(w / 1_000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values()) / waits.length).toBeLessThan(0.1);
  });
});
