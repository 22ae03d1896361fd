import { describe, expect, it } from 'vitest';
import { now, taskNow } from '../../src/common/clock.js';

describe('taskNow', () => {
  it('reads the clock once per task, and again in the next one', async () => {
    const first = taskNow();
    const until = now() + 2;
    while (now() < until) {
      // the clock moves on within this task; taskNow() does not
    }
    expect(taskNow()).toBe(first);
    await null; // the task's microtasks ran: the next read is fresh
    expect(taskNow()).toBeGreaterThanOrEqual(until);
  });
});
