import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createToken, SessionStore } from '../../src/server/session/session-store.js';

// The store's timing is arithmetic on a monotonic clock: fake timers (and performance.now)
// let the test walk through a window without waiting for one.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function session(id: string, expired: string[]) {
  return { id, expire: () => expired.push(id) };
}

describe('SessionStore', () => {
  it('ends detached sessions once their window passed, oldest first, with one timer', () => {
    const expired: string[] = [];
    const store = new SessionStore(1_000);
    store.detached(session('a', expired));
    vi.advanceTimersByTime(400);
    store.detached(session('b', expired));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(600);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(400);
    expect(expired).toEqual(['a', 'b']);
    expect(store.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets a session that came back, and restarts the window of one detached again', () => {
    const expired: string[] = [];
    const store = new SessionStore(1_000);
    store.detached(session('a', expired));
    store.detached(session('b', expired));
    store.delete('a');
    vi.advanceTimersByTime(500);
    store.detached(session('b', expired)); // dropped again: a fresh window
    vi.advanceTimersByTime(600);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(expired).toEqual(['b']);
  });

  it('ends the session detached longest ago when one more than `max` waits, and says so', () => {
    const expired: string[] = [];
    let evicted = 0;
    const store = new SessionStore(1_000, 2, () => evicted++);
    store.detached(session('a', expired));
    store.detached(session('b', expired));
    store.detached(session('a', expired)); // dropped again: now the newest
    store.detached(session('c', expired));
    expect(expired).toEqual(['b']);
    expect(evicted).toBe(1);
    expect(store.size).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['b', 'a', 'c']);
    expect(evicted).toBe(1); // the window passing is no eviction
  });

  it('leaves no timer behind after close()', () => {
    const store = new SessionStore(1_000);
    store.detached(session('a', []));
    store.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(store.size).toBe(0);
  });
});

describe('createToken', () => {
  it('makes 128-bit base64url tokens', () => {
    const token = createToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(createToken()).not.toBe(token);
  });
});
