import { describe, expect, it } from 'vitest';
import { canMove, NEXT, READY_STATE, type State } from '../../src/client/state.js';

const states = Object.keys(NEXT) as State[];

describe('state table', () => {
  it('reaches every state from connecting', () => {
    const seen = new Set<State>(['connecting']);
    const queue: State[] = ['connecting'];
    while (queue.length) {
      for (const to of NEXT[queue.shift()!]) {
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...states].sort());
  });

  it('leaves closed only through connecting (reconnect())', () => {
    expect(NEXT.closed).toEqual(['connecting']);
    expect(canMove('closed', 'open')).toBe(false);
  });

  it('lets closing end only in closed', () => {
    for (const to of states) expect(canMove('closing', to)).toBe(to === 'closed');
  });

  it('derives readyState as WebSocket does', () => {
    expect(READY_STATE).toEqual({ connecting: 0, open: 1, reconnecting: 0, closing: 2, closed: 3 });
  });
});
