import { describe, expect, it } from 'vitest';
import { DEFAULTS, type ReconnectOptions } from '../../src/client/options.js';
import {
  defaultShouldReconnect,
  type Loss,
  planRetry,
  type ReconnectInfo,
  RetryBudget,
} from '../../src/client/retry.js';
import { now } from '../../src/common/clock.js';
import { seededRandom } from '../support/random.js';

const options = { ...DEFAULTS.reconnect };
const info = (o: Partial<ReconnectInfo> = {}): ReconnectInfo => ({
  code: 1006,
  reason: '',
  wasClean: false,
  cause: 'network_error',
  failures: 0,
  opened: true,
  ...o,
});

describe('planRetry', () => {
  it('stops once maxRetries attempts failed, without asking the policy', () => {
    let asked = 0;
    const o = {
      ...options,
      maxRetries: 3,
      shouldReconnect: () => {
        asked++;
        return true;
      },
    };
    expect(planRetry(info({ failures: 2 }), o).willReconnect).toBe(true);
    expect(planRetry(info({ failures: 3 }), o).willReconnect).toBe(false);
    expect(asked).toBe(1);
  });

  it('follows the default policy: fatal codes stop, others retry', () => {
    expect(planRetry(info({ code: 1008, cause: 'server_close' }), options).willReconnect).toBe(
      false,
    );
    expect(planRetry(info({ code: 1012, cause: 'server_close' }), options).willReconnect).toBe(
      true,
    );
  });

  it('falls back to the default policy, and says so, when shouldReconnect throws', () => {
    const error = new Error('bug');
    const o = {
      ...options,
      shouldReconnect: () => {
        throw error;
      },
    };
    expect(planRetry(info({ code: 1008 }), o)).toMatchObject({
      willReconnect: false,
      policyFailure: { error },
    });
    expect(planRetry(info({ code: 1011 }), o)).toMatchObject({
      willReconnect: true,
      policyFailure: { error },
    });
    expect(planRetry(info(), options).policyFailure).toBeUndefined();
  });

  it("takes the server's retry-after hint as the delay", () => {
    expect(
      planRetry(info({ code: 1012, reason: 'Service restart; retry-after=4200' }), options),
    ).toMatchObject({
      willReconnect: true,
      delay: 4200,
      serverHint: true,
    });
  });

  it('clamps a hint to [minDelay, maxDelay]: 0 must not spin, 2^31 - 1 must not park the client', () => {
    const hinted = (ms: number) =>
      planRetry(info({ code: 1013, reason: `busy; retry-after=${ms}` }), options);
    expect(hinted(0)).toMatchObject({ delay: options.minDelay, serverHint: true });
    expect(hinted(2_147_483_647)).toMatchObject({ delay: options.maxDelay, serverHint: true });
    expect(hinted(options.minDelay + 1).delay).toBe(options.minDelay + 1);
  });

  it('retries at once after the heartbeat found the link dead, then backs off', () => {
    expect(planRetry(info({ cause: 'heartbeat_timeout' }), options).delay).toBe(0);
    const later = planRetry(
      info({ cause: 'heartbeat_timeout', failures: 1 }),
      options,
      seededRandom(1),
    );
    expect(later.delay).toBeGreaterThanOrEqual(options.minDelay);
  });

  it('otherwise uses the jittered backoff for the failure count', () => {
    const random = seededRandom(2);
    for (let failures = 1; failures < 20; failures++) {
      const { delay, serverHint } = planRetry(info({ failures }), options, random);
      expect(serverHint).toBe(false);
      expect(delay).toBeGreaterThanOrEqual(options.minDelay);
      expect(delay).toBeLessThanOrEqual(
        Math.min(options.maxDelay, options.minDelay * options.factor ** failures),
      );
    }
  });

  it('re-spreads a client whose hinted attempt failed, over up to twice the hint', () => {
    const random = seededRandom(3);
    const failedAfterHint = info({ failures: 1, opened: false });
    const backoffMax = options.minDelay * options.factor;
    const delays = Array.from(
      { length: 500 },
      () => planRetry(failedAfterHint, options, random, 4000).delay,
    );
    // backoff(1) alone is at most minDelay · factor; the hint's share spreads them over seconds
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(options.minDelay);
    expect(Math.max(...delays)).toBeGreaterThan(7000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(backoffMax + 8000);
    expect(delays.filter((d) => d < 4000).length / delays.length).toBeLessThan(0.6);
    // never more than maxDelay of it, however long the hint
    const long = Array.from(
      { length: 200 },
      () => planRetry(failedAfterHint, options, random, options.maxDelay).delay,
    );
    expect(Math.max(...long)).toBeLessThanOrEqual(backoffMax + options.maxDelay);
    // a link that opened since, or a fresh hint, ends it
    expect(
      planRetry(info({ failures: 1, opened: true }), options, random, 4000).delay,
    ).toBeLessThanOrEqual(backoffMax);
    const freshHint = info({ failures: 1, opened: false, reason: 'retry-after=300' });
    expect(planRetry(freshHint, options, random, 4000).delay).toBe(300);
  });
});

describe('defaultShouldReconnect', () => {
  it('gives up on codes retrying cannot fix', () => {
    for (const code of [1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003]) {
      expect(
        defaultShouldReconnect(info({ code, wasClean: true, cause: 'server_close' })),
        String(code),
      ).toBe(false);
    }
  });

  it('retries restarts, crashes, overload and unknown codes', () => {
    for (const code of [
      1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 3008, 3999, 4000, 4408, 4504, 4999,
    ]) {
      expect(
        defaultShouldReconnect(info({ code, wasClean: true, cause: 'server_close' })),
        String(code),
      ).toBe(true);
    }
  });
});

describe('RetryBudget', () => {
  const loss: Loss = { code: 1006, reason: '', wasClean: false, cause: 'network_error' };
  const budgetAsked = (o: Partial<ReconnectOptions> = {}) => {
    const asked: ReconnectInfo[] = [];
    const shouldReconnect = (i: ReconnectInfo) => asked.push(i) > 0;
    const budget = new RetryBudget({ ...options, shouldReconnect, ...o });
    return { budget, asked };
  };

  it('counts failures in a row, and resets them only after a link stayed open for stableAfter', () => {
    const { budget, asked } = budgetAsked({ stableAfter: 50 });
    budget.plan(loss, -1);
    expect(budget.spend()).toBe(1);
    budget.plan(loss, -1);
    expect(budget.spend()).toBe(2);
    budget.plan(loss, now()); // opened, but just now
    budget.plan(loss, 0); // opened when the clock started, longer than 50 ms ago: stable
    expect(asked.map((i) => [i.failures, i.opened])).toEqual([
      [0, false],
      [1, false],
      [2, true],
      [0, true],
    ]);
    expect(budget.spend()).toBe(1);
    budget.spend();
    budget.reset();
    expect(budget.spend()).toBe(1);
  });

  it("keeps the server's retry hint until a link opens", () => {
    const { budget } = budgetAsked();
    const high = () => 0.999;
    expect(budget.plan({ ...loss, reason: 'retry-after=4000' }, 0).delay).toBe(4000);
    budget.spend();
    expect(budget.plan(loss, -1, high).delay).toBeGreaterThan(4000 * 0.99);
    budget.opened();
    expect(budget.plan(loss, -1, high).delay).toBeLessThan(1000);
  });
});
