import { describe, expect, it } from 'vitest';
import { firstPingAt, heartbeatStep, sweepPeriod } from '../../src/server/heartbeat-sweeper.js';

describe('heartbeatStep', () => {
  it('pings when due and nothing is outstanding', () => {
    expect(heartbeatStep({ lastSeen: 0, pingSentAt: 0, nextPingAt: 100 }, 99, 50)).toBe('wait');
    expect(heartbeatStep({ lastSeen: 0, pingSentAt: 0, nextPingAt: 100 }, 100, 50)).toBe('ping');
    // Up to one sweep period early, never late.
    expect(heartbeatStep({ lastSeen: 0, pingSentAt: 0, nextPingAt: 100 }, 90, 50, 10)).toBe('ping');
    expect(heartbeatStep({ lastSeen: 0, pingSentAt: 0, nextPingAt: 100 }, 89, 50, 10)).toBe('wait');
  });

  it('suspects a client silent for `timeout` since its ping', () => {
    expect(heartbeatStep({ lastSeen: 10, pingSentAt: 100, nextPingAt: 200 }, 149, 50)).toBe('wait');
    expect(heartbeatStep({ lastSeen: 10, pingSentAt: 100, nextPingAt: 200 }, 150, 50)).toBe(
      'suspect',
    );
  });

  it('counts any frame after the ping as proof of life', () => {
    expect(heartbeatStep({ lastSeen: 120, pingSentAt: 100, nextPingAt: 200 }, 10_000, 50)).toBe(
      'alive',
    );
  });
});

describe('sweepPeriod', () => {
  it('is a twentieth of the shorter of interval and timeout, within [10, 500] ms', () => {
    expect(sweepPeriod({ interval: 25_000, timeout: 10_000 })).toBe(500);
    expect(sweepPeriod({ interval: 1_000, timeout: 500 })).toBe(25);
    expect(sweepPeriod({ interval: 20, timeout: 20 })).toBe(10);
  });
});

describe('firstPingAt', () => {
  it('falls in [interval/2, interval) after connecting', () => {
    expect(firstPingAt(1_000, 200, () => 0)).toBe(1_100);
    expect(firstPingAt(1_000, 200, () => 0.999)).toBeCloseTo(1_199.9);
  });
});
