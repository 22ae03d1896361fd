import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/cli/duration.js';
import { recommendHeartbeat } from '../../src/cli/probe.js';

describe('parseDuration', () => {
  it('reads ms, s, m, h, compounds and bare milliseconds', () => {
    expect(parseDuration('1500ms')).toBe(1_500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2.5s')).toBe(2_500);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration(' 5S ')).toBe(5_000);
  });

  it('refuses anything else with a usage message', () => {
    for (const bad of ['', 'abc', '10 m', '5x', 's', '1m30', '-5s', '30d'])
      expect(() => parseDuration(bad), bad).toThrow(/Expected a duration/);
    expect(() => parseDuration('999h')).toThrow(/up to 24 days/);
  });
});

describe('formatDuration', () => {
  it('reads well at every scale', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1_250)).toBe('1.2 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
});

describe('recommendHeartbeat', () => {
  it('is half the idle timeout in whole seconds, at least 1 s', () => {
    expect(recommendHeartbeat(60_000)).toBe(30_000);
    expect(recommendHeartbeat(59_999)).toBe(29_000);
    expect(recommendHeartbeat(3_000)).toBe(1_000);
    expect(recommendHeartbeat(400)).toBe(1_000);
  });
});
