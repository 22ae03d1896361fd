import { describe, expect, it } from 'vitest';
import { memoryEngine } from '../../src/server/engine/memory-engine.js';
import { DEFAULTS, resolveOptions } from '../../src/server/options.js';
import { retryDelay } from '../../src/server/shutdown.js';

describe('retryDelay', () => {
  it('spreads over [gap, gap + window) with the random draw', () => {
    expect(retryDelay(0, 5_000, () => 0)).toBe(0);
    expect(retryDelay(0, 5_000, () => 0.5)).toBe(2_500);
    expect(retryDelay(0, 5_000, () => 0.9999)).toBe(4_999);
    expect(retryDelay(0, 0, () => 0.7)).toBe(0);
    expect(retryDelay(2_000, 5_000, () => 0)).toBe(2_000);
    expect(retryDelay(2_000, 5_000, () => 0.9999)).toBe(6_999);
    expect(retryDelay(2_000, 0, () => 0.7)).toBe(2_000);
  });

  it('starts the default spread after the default restart gap', () => {
    const { retryAfter, restartGap } = resolveOptions({ noServer: true }).shutdown;
    expect({ retryAfter, restartGap }).toEqual({ retryAfter: 5_000, restartGap: 2_000 });
    expect(DEFAULTS.shutdown.restartGap).toBe(2_000);
    expect(() => resolveOptions({ noServer: true, shutdown: { restartGap: -1 } })).toThrow(
      /`shutdown.restartGap`/,
    );
  });

  it('has no restart gap by default with a durable engine, whose other nodes take the clients', () => {
    const durable = Object.assign(Object.create(memoryEngine()), { durable: true });
    expect(resolveOptions({ noServer: true, engine: durable }).shutdown.restartGap).toBe(0);
    expect(resolveOptions({ noServer: true, engine: memoryEngine() }).shutdown.restartGap).toBe(
      2_000,
    );
    const own = { engine: durable, shutdown: { restartGap: 1_500 } };
    expect(resolveOptions({ noServer: true, ...own }).shutdown.restartGap).toBe(1_500);
  });
});
