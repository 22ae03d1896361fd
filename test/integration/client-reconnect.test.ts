import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { CloseEvent, DropEvent, ReconnectingEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { seededRandom } from '../support/random.js';
import { startServer } from '../support/servers.js';
import { collect, delay, waitFor, waitForEvent } from '../support/wait.js';

describe('HeartlineSocket reconnection', () => {
  it('survives a server restart', async () => {
    const server = await startServer();
    const ws = openClient(server.url, { reconnect: { minDelay: 50, maxDelay: 200 } });
    await waitForEvent(ws, 'open');
    await server.stop();
    const drop = await waitForEvent<DropEvent>(ws, 'drop');
    expect(drop).toMatchObject({ code: 1006, cause: 'network_error', willReconnect: true });
    expect(ws.state).toBe('reconnecting');
    expect(ws.readyState).toBe(ws.CONNECTING);
    await delay(300);
    await server.start();
    await waitForEvent(ws, 'open', { timeout: 3000 });
    ws.send('back');
    const echo = await waitForEvent<MessageEvent>(ws, 'message');
    expect(echo.data).toBe('back');
  });

  it('keeps refused attempts within the backoff bounds', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    await proxy.refuse();
    const o = { minDelay: 20, maxDelay: 160, factor: 2 };
    const ws = openClient(proxy.url, { reconnect: o });
    const times: number[] = [];
    ws.addEventListener('reconnecting', () => times.push(performance.now()));
    const events = collect<ReconnectingEvent>(ws, 'reconnecting');
    await waitFor(() => events.events.length >= 9, { timeout: 5000 });
    events.events.forEach((e, i) => {
      expect(e.attempt).toBe(i + 1);
      const failures = e.attempt - 1;
      const lower = failures === 0 ? 0 : o.minDelay;
      const upper =
        failures === 0 ? o.minDelay : Math.min(o.maxDelay, o.minDelay * o.factor ** failures);
      expect(e.delay).toBeGreaterThanOrEqual(lower);
      expect(e.delay).toBeLessThanOrEqual(upper);
      // the next attempt started no earlier than the delay said
      if (i > 0)
        expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(events.events[i - 1]!.delay - 2);
    });
    // jitter: the attempts at the cap are not all the same delay
    const capped = events.events.slice(4).map((e) => e.delay);
    expect(new Set(capped).size).toBeGreaterThan(1);
  });

  it('never lets the server see two sockets of one client at once while the link flaps for 10 s', async () => {
    const open = new Map<string, number>();
    let overlaps = 0;
    let connections = 0;
    const server = await startServer({
      onConnection: (socket, request) => {
        const id = new URL(request.url!, 'http://x').searchParams.get('id')!;
        connections++;
        if ((open.get(id) ?? 0) > 0) overlaps++;
        open.set(id, (open.get(id) ?? 0) + 1);
        socket.on('close', () => open.set(id, open.get(id)! - 1));
      },
    });
    const proxy = await startFaultProxy({ port: server.port });
    const clients = ['a', 'b', 'c'].map((id) =>
      openClient(() => `${proxy.url}/?id=${id}`, {
        heartbeat: { interval: 40, timeout: 40 },
        reconnect: { minDelay: 5, maxDelay: 60, connectTimeout: 200 },
      }),
    );
    const random = seededRandom(42);
    const until = performance.now() + 10_000;
    let faults = 0;
    while (performance.now() < until) {
      await delay(50 + random() * 250);
      const roll = random();
      if (roll < 0.6) proxy.reset();
      else if (roll < 0.8) {
        await proxy.refuse();
        await delay(random() * 100);
        await proxy.accept();
      } else {
        for (const ws of clients) ws.reconnect(); // app-driven replacement racing the faults
      }
      faults++;
    }
    await waitFor(() => clients.every((ws) => ws.state === 'open'), { timeout: 5000 });
    expect(faults).toBeGreaterThan(30);
    expect(connections).toBeGreaterThan(30);
    expect(overlaps).toBe(0);
  }, 30_000);

  it('stops on 1008 and fires close once with the real code and reason', async () => {
    const server = await startServer({ onConnection: (s) => s.close(1008, 'not allowed here') });
    const ws = openClient(server.url, { reconnect: { minDelay: 10 } });
    const closes = collect<CloseEvent>(ws, 'close');
    const retries = collect(ws, 'reconnecting');
    const drop = await waitForEvent<DropEvent>(ws, 'drop');
    expect(drop).toMatchObject({
      code: 1008,
      reason: 'not allowed here',
      name: 'PolicyViolation',
      willReconnect: false,
    });
    await waitFor(() => closes.events.length === 1);
    // No retry was ever scheduled, and `closed` is left only by reconnect(): nothing can follow.
    expect(retries.events).toEqual([]);
    expect(ws.state).toBe('closed');
    await new Promise((resolve) => setImmediate(resolve)); // anything queued in this turn
    expect(closes.events).toHaveLength(1);
    expect(closes.events[0]).toMatchObject({
      code: 1008,
      reason: 'not allowed here',
      wasClean: true,
    });
    expect(ws.readyState).toBe(ws.CLOSED);
  });

  it('reports the real code when the first attempt is refused, not 1000', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    await proxy.refuse();
    const ws = openClient(proxy.url, { reconnect: false });
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(1006);
    expect(close.wasClean).toBe(false);
  });

  it('cancels a scheduled attempt when close() is called', async () => {
    const paths: string[] = [];
    const server = await startServer({
      onConnection: (s, request) => {
        const path = new URL(request.url!, 'http://x').pathname;
        paths.push(path);
        s.close(1013, `busy; retry-after=${path === '/twin' ? 400 : 300}`);
      },
    });
    const ws = openClient(`${server.url}/closed`);
    const scheduled = await waitForEvent<ReconnectingEvent>(ws, 'reconnecting');
    expect(scheduled.delay).toBe(300);
    const closes = collect<CloseEvent>(ws, 'close');
    ws.close(4000, 'done');
    // The barrier: a twin whose retry comes due later than the cancelled one would have.
    const twin = openClient(`${server.url}/twin`);
    await waitFor(() => paths.filter((p) => p === '/twin').length === 2, {
      message: "the twin's retry",
    });
    expect(paths.filter((p) => p === '/closed')).toHaveLength(1);
    expect(closes.events).toHaveLength(1);
    expect(closes.events[0]).toMatchObject({ code: 4000, reason: 'done' });
    expect(twin.readyState).not.toBe(twin.CLOSED);
  });

  it('honors a retry-after hint in a 1012 close reason', async () => {
    let n = 0;
    const server = await startServer({
      onConnection: (s) => n++ === 0 && s.close(1012, 'Service restart; retry-after=250'),
    });
    // The first retry's backoff would be under minDelay: only the hint explains 250 ms.
    const ws = openClient(server.url, { reconnect: { minDelay: 100, maxDelay: 10_000 } });
    await waitForEvent(ws, 'open');
    const scheduled = await waitForEvent<ReconnectingEvent>(ws, 'reconnecting');
    expect(scheduled).toMatchObject({ attempt: 1, delay: 250, serverHint: true });
    const t0 = performance.now();
    await waitForEvent(ws, 'open', { timeout: 2000 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('abandons a handshake that hangs after connectTimeout without crashing', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    proxy.blackhole({ newConnections: true });
    const ws = openClient(proxy.url, {
      reconnect: { connectTimeout: 150, minDelay: 50, maxDelay: 100 },
    });
    const scheduled = await waitForEvent<ReconnectingEvent>(ws, 'reconnecting', { timeout: 1000 });
    expect(scheduled.attempt).toBe(1);
    proxy.heal();
    await waitForEvent(ws, 'open', { timeout: 2000 });
  });

  it('closes for good after maxRetries failed attempts', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    await proxy.refuse();
    const ws = openClient(proxy.url, { reconnect: { maxRetries: 3, minDelay: 5, maxDelay: 20 } });
    const attempts = collect<ReconnectingEvent>(ws, 'reconnecting');
    const close = await waitForEvent<CloseEvent>(ws, 'close', { timeout: 3000 });
    expect(attempts.events.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(close.code).toBe(1006);
  });

  it('honors shouldReconnect over the default policy', async () => {
    const server = await startServer({ onConnection: (s) => s.close(4001, 'token expired') });
    const seen: number[] = [];
    const ws = openClient(server.url, {
      reconnect: {
        minDelay: 5,
        shouldReconnect: (info) => {
          seen.push(info.code);
          return info.code !== 4001;
        },
      },
    });
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close).toMatchObject({ code: 4001, reason: 'token expired' });
    expect(seen).toEqual([4001]);
  });

  it('resets the attempt count only after the link stayed up for stableAfter', async () => {
    let stayUp = false;
    const server = await startServer({
      onConnection: (s) => {
        if (stayUp) setTimeout(() => s.close(1011, 'later'), 150);
        else s.close(1011, 'at once');
      },
    });
    const ws = openClient(server.url, {
      reconnect: { minDelay: 5, maxDelay: 20, stableAfter: 100 },
    });
    const attempts = collect<ReconnectingEvent>(ws, 'reconnecting');
    await waitFor(() => attempts.events.length >= 3);
    expect(attempts.events.slice(0, 3).map((e) => e.attempt)).toEqual([1, 2, 3]);
    stayUp = true;
    await waitFor(() => attempts.events.some((e, i) => i > 2 && e.attempt === 1), {
      timeout: 3000,
    });
  });

  it('skips the wait on reconnect(), and reopens a closed socket', async () => {
    let n = 0;
    const server = await startServer({
      onConnection: (s) => n++ === 0 && s.close(1013, 'retry-after=60000'),
    });
    const ws = openClient(server.url);
    await waitForEvent(ws, 'reconnecting');
    ws.reconnect();
    await waitForEvent(ws, 'open', { timeout: 1000 });
    ws.close();
    await waitForEvent(ws, 'close');
    expect(ws.state).toBe('closed');
    ws.reconnect();
    expect(ws.state).toBe('connecting');
    await waitForEvent(ws, 'open');
    ws.send('again');
    expect((await waitForEvent<MessageEvent>(ws, 'message')).data).toBe('again');
  });

  it('replaces an open link on reconnect() without firing close', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    await waitForEvent(ws, 'open');
    const closes = collect(ws, 'close');
    const { socket } = await (async () => {
      const next = server.nextConnection();
      ws.reconnect();
      return next;
    })();
    expect(socket.readyState).toBe(1);
    await waitForEvent(ws, 'open');
    await waitFor(() => server.sockets.size === 1, { message: 'the old socket to close' });
    expect(closes.events).toEqual([]);
  });

  it('ends a link still closing for reconnect() when close() is called meanwhile', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    const created: WebSocket[] = [];
    class Recording extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        created.push(this);
      }
    }
    const ws = openClient(proxy.url, { WebSocket: Recording, closeTimeout: 10_000 });
    await waitForEvent(ws, 'open');
    proxy.blackhole(); // the old link will never answer its close frame
    ws.reconnect(); // waits for that answer, at most closeTimeout
    ws.close();
    // without this, ws keeps the half-closed socket (and the process) for its own 30 s
    await waitFor(() => created[0]!.readyState === WebSocket.CLOSED, {
      timeout: 1000,
      message: 'the old link to end',
    });
    expect(created).toHaveLength(1);
  });

  it('calls a URL function before every attempt, awaiting it', async () => {
    const server = await startServer();
    const tokens: string[] = [];
    server.wss.on('connection', (_s, req) =>
      tokens.push(new URL(req.url!, 'http://x').searchParams.get('token')!),
    );
    let n = 0;
    const ws = openClient(
      async () => {
        await delay(5);
        return `${server.url}/?token=t${++n}`;
      },
      { reconnect: { minDelay: 5, maxDelay: 10 } },
    );
    await waitForEvent(ws, 'open');
    expect(ws.url).toBe(`${server.url}/?token=t1`);
    for (const s of server.sockets) s.terminate();
    await waitForEvent(ws, 'open');
    expect(tokens).toEqual(['t1', 't2']);
  });

  it('reports a URL function that throws, and retries', async () => {
    const server = await startServer();
    let n = 0;
    const ws = openClient(
      () => {
        if (n++ === 0) throw new Error('no token yet');
        return server.url;
      },
      { reconnect: { minDelay: 5, maxDelay: 10 } },
    );
    const error = await waitForEvent<ErrorEvent>(ws, 'error');
    expect(error.message).toBe('The URL function threw');
    await waitForEvent(ws, 'open');
  });
});
