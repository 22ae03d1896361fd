/**
 * Regressions of issue 13's reconnection figures ("Reconnection figures left short"): a
 * restart's clients come back spread and all of them, and what a dead link held is still there.
 * Real servers on ephemeral ports; the proxy stands for the one address all clients share.
 */
import { describe, expect, it } from 'vitest';
import type {
  DropEvent,
  OverflowEvent,
  ReconnectingEvent,
  ResumeEvent,
} from '../../src/client/index.js';
import { DEFAULTS as CLIENT_DEFAULTS } from '../../src/client/options.js';
import { DEFAULTS, type HeartlineServer } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy, startRoutedProxy } from '../support/fault-proxy.js';
import { startHeartline } from '../support/server-fixtures.js';
import { collect, waitFor } from '../support/wait.js';

describe('issue 13: a restart behind one address', () => {
  it('lets every session client of a restarted server in, though all their resumes are refused', async () => {
    const COUNT = 40; // twice resume.maxRefusals' burst of 20
    const old = await startHeartline({ heartbeat: false });
    let target = old.port;
    // One address for every client, as behind a reverse proxy or a NAT.
    const proxy = await startRoutedProxy({ route: () => ({ port: target }) });
    const sockets = Array.from({ length: COUNT }, () => openClient(proxy.url));
    const resumes = sockets.map((ws) => collect<ResumeEvent>(ws, 'resume'));
    const drops = sockets.map((ws) => collect<DropEvent>(ws, 'drop'));
    await waitFor(() => old.server.clients.size === COUNT, { message: 'every client to open' });
    const next = await startHeartline({ heartbeat: false });
    const errors = errorsOf(next.server);
    target = next.port;
    await old.server.close({ retryAfter: 200, restartGap: 0 });
    await waitFor(() => resumes.every((r) => r.events.length === 1), {
      timeout: 10_000,
      message: 'every client to be back',
    });
    // Every one got a fresh session at once: none was held off with 1013 as a token guesser.
    expect(resumes.map((r) => r.events[0]!.reason)).toEqual(Array(COUNT).fill('epoch'));
    expect(drops.flatMap((d) => d.events.map((e) => e.code))).toEqual(Array(COUNT).fill(1012));
    expect(errors).toEqual([]);
    expect(next.server.clients.size).toBe(COUNT);
  });
});

describe('issue 13: the spread starts after the expected restart gap', () => {
  it('hints every client of a closing server to come back after `shutdown.restartGap`, spread over `retryAfter`', async () => {
    const COUNT = 30;
    const { server, url } = await startHeartline({ heartbeat: false });
    const sockets = Array.from({ length: COUNT }, () => openClient(url, { session: false }));
    const retries = sockets.map((ws) => collect<ReconnectingEvent>(ws, 'reconnecting'));
    await waitFor(() => server.clients.size === COUNT, { message: 'every client to open' });
    await server.close({ retryAfter: 500 }); // the default gap, a short window
    await waitFor(() => retries.every((r) => r.events.length === 1));
    const { restartGap } = DEFAULTS.shutdown;
    for (const [event] of retries.map((r) => r.events)) {
      expect(event).toMatchObject({ attempt: 1, serverHint: true });
      expect(event!.delay).toBeGreaterThanOrEqual(restartGap);
      expect(event!.delay).toBeLessThan(restartGap + 500);
    }
  });

  it('spreads the clients a restart outlasted over up to twice their hint, then brings them all back', async () => {
    const COUNT = 30;
    const old = await startHeartline({ heartbeat: false });
    let target: number | undefined = old.port;
    const proxy = await startRoutedProxy({
      route: () => (target === undefined ? undefined : { port: target }),
    });
    const sockets = Array.from({ length: COUNT }, () => openClient(proxy.url, { session: false }));
    const retries = sockets.map((ws) => collect<ReconnectingEvent>(ws, 'reconnecting'));
    const opens = sockets.map((ws) => collect<Event>(ws, 'open'));
    await waitFor(() => old.server.clients.size === COUNT, { message: 'every client to open' });
    target = undefined; // nothing listens: every hinted attempt is refused
    await old.server.close({ retryAfter: 100, restartGap: 1_000 });
    await waitFor(() => retries.every((r) => r.events.length >= 2), {
      message: 'every hinted attempt to fail',
    });
    const { minDelay, factor } = CLIENT_DEFAULTS.reconnect;
    const hints = retries.map((r) => r.events[0]!.delay);
    const again = retries.map((r) => r.events[1]!);
    for (const [i, event] of again.entries()) {
      expect(event.serverHint).toBe(false);
      expect(event.delay).toBeGreaterThanOrEqual(minDelay);
      expect(event.delay).toBeLessThanOrEqual(minDelay * factor + 2 * hints[i]!);
    }
    // Not retried at once: some wait past what their hint and a first backoff alone would give.
    expect(Math.max(...again.map((e) => e.delay))).toBeGreaterThan(1_100 + minDelay * factor);
    const next = await startHeartline({ heartbeat: false });
    target = next.port;
    await waitFor(() => opens.every((o) => o.events.length === 2), {
      timeout: 15_000,
      message: 'every client to be back',
    });
    expect(next.server.clients.size).toBe(COUNT);
  });
});

describe('issue 13: the default outbox carries a dead link', () => {
  it('loses nothing a link dead for the whole default heartbeat budget collects at 1,000 msg/s of 100-byte messages', async () => {
    const { interval, timeout } = CLIENT_DEFAULTS.heartbeat;
    const COUNT = ((interval + timeout) / 1_000) * 1_000; // 15,000
    const { server, port } = await startHeartline({ heartbeat: false });
    const received: string[] = [];
    server.on('connection', (client) =>
      client.on('message', (data) => received.push(String(data))),
    );
    const proxy = await startFaultProxy({ port });
    // Default outbox; a short heartbeat only so that the test need not wait the 15 s itself:
    // what the outbox must hold is the messages, not the time.
    const ws = openClient(proxy.url, { heartbeat: { interval: 200, timeout: 200 } });
    const overflows = collect<OverflowEvent>(ws, 'overflow');
    const resumes = collect<ResumeEvent>(ws, 'resume');
    await waitFor(() => ws.mode === 'session', { message: 'a session' });
    proxy.blackhole();
    const pad = 'x'.repeat(100);
    const messages = Array.from({ length: COUNT }, (_, i) => `${i}:${pad}`.slice(0, 100));
    for (const m of messages) ws.send(m); // written into the dead link, kept until acknowledged
    await waitFor(() => resumes.events.length === 1, { timeout: 10_000, message: 'a resume' });
    expect(resumes.events[0]!.resumed).toBe(true);
    await waitFor(() => received.length >= COUNT, { timeout: 15_000, message: 'every message' });
    expect(received).toEqual(messages);
    expect(overflows.events).toEqual([]);
  });
});

/** Every error the server reports, from now on. */
function errorsOf(server: HeartlineServer): Error[] {
  const errors: Error[] = [];
  server.on('error', (error) => errors.push(error));
  return errors;
}
