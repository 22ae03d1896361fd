import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/server/shutdown.js';

describe('retryDelay', () => {
  it('spreads over [0, window) with the random draw', () => {
    expect(retryDelay(5_000, () => 0)).toBe(0);
    expect(retryDelay(5_000, () => 0.5)).toBe(2_500);
    expect(retryDelay(5_000, () => 0.9999)).toBe(4_999);
    expect(retryDelay(0, () => 0.7)).toBe(0);
  });
});
