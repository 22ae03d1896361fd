import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { parseRetryAfter, type ServerClient } from '../../src/server/index.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { connectWs, refusal, startHeartline } from '../support/server-fixtures.js';
import { waitFor, waitForEvent, waitForEventArgs } from '../support/wait.js';

describe('HeartlineServer#close', () => {
  it('closes every client with 1012 and a retry-after hint, then resolves with nothing left', async () => {
    const { server, url } = await startHeartline();
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const closed = waitForEventArgs(ws, 'close');
    const states: string[] = [server.state];
    const closing = server.close({ retryAfter: 3_000 });
    states.push(server.state);
    expect(server.close()).toBe(closing); // idempotent: the same promise
    await closing;
    states.push(server.state);
    const [code, reason] = await closed;
    expect(code).toBe(1012);
    expect(String(reason)).toMatch(/^Service restart; retry-after=\d+$/);
    // The default restart gap (2 s) first, then the client's share of the window.
    expect(parseRetryAfter(String(reason))).toBeGreaterThanOrEqual(2_000);
    expect(parseRetryAfter(String(reason))).toBeLessThan(5_000);
    expect(states).toEqual(['running', 'draining', 'closed']);
    expect(server.clients.size).toBe(0);
    expect(server.address()).toBeNull();
    expect(server.stats().terminations.shutdown).toBe(1);
  });

  it('answers upgrades with 503 and a Retry-After past every hint while draining, and terminates stragglers at the deadline', async () => {
    const { server, port, url } = await startHeartline();
    const proxy = await startFaultProxy({ port });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    await waitForEvent(connectWs(proxy.url), 'open');
    const straggler = await connected;
    proxy.blackhole(); // it will never answer the close frame
    const started = performance.now();
    const closing = server.close({ retryAfter: 4_500, restartGap: 1_000, deadline: 400 });
    expect(server.state).toBe('draining');
    const answer = await refusal(connectWs(url));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('6'); // after gap + window: 5.5 s, rounded up
    const [code] = await waitForEventArgs(straggler, 'close', { timeout: 2_000 });
    await closing;
    const took = performance.now() - started;
    expect(code).toBe(1012);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_500);
    expect(server.state).toBe('closed');
  });

  it('spreads the return of 200 clients over the retry window instead of one burst', async () => {
    const WINDOW = 2_000;
    const COUNT = 200;
    const old = await startHeartline();
    const next = await startHeartline(); // stands for the restarted process
    const sockets: WebSocket[] = Array.from({ length: COUNT }, () => connectWs(old.url));
    await Promise.all(sockets.map((ws) => waitForEvent(ws, 'open')));
    const arrivals: number[] = [];
    let start = 0;
    next.server.on('connection', () => arrivals.push(performance.now() - start));
    for (const ws of sockets) {
      // What a client that honours the hint does: wait retry-after ms, then reconnect.
      ws.once('close', (_code: number, reason: Buffer) => {
        const wait = parseRetryAfter(String(reason)) ?? 0;
        setTimeout(() => connectWs(next.url), wait);
      });
    }
    start = performance.now();
    await old.server.close({ retryAfter: WINDOW, restartGap: 0 });
    await waitFor(() => arrivals.length === COUNT, { timeout: WINDOW + 3_000 });
    const span = Math.max(...arrivals) - Math.min(...arrivals);
    const buckets = new Map<number, number>();
    for (const t of arrivals)
      buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) ?? 0) + 1);
    const busiest = Math.max(...buckets.values());
    console.info(
      `shutdown spread: span ${Math.round(span)} ms of ${WINDOW}, busiest 100 ms bucket ${busiest}/${COUNT}`,
    );
    expect(span).toBeGreaterThanOrEqual(0.6 * WINDOW);
    expect(busiest).toBeLessThanOrEqual(0.25 * COUNT);
  });

  it('rejects bad close options with the option named', async () => {
    const { server } = await startHeartline();
    await expect(server.close({ code: 1006 })).rejects.toThrow(
      /Expected `options.code` to be a close code/,
    );
    await expect(server.close({ retryAfter: -1 })).rejects.toThrow(/Expected `options.retryAfter`/);
    expect(server.state).toBe('running');
  });
});
