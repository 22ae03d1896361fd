/**
 * Issue 12 ("A drop-in that answers refusals, pings any server and passes the Web Platform
 * Tests"): its Node items, each failing before its fix. What only a browser shows (the text
 * heartbeat's warning, relative URLs, listener errors on `window`, offline) is in
 * test/browser/conformance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type CloseEvent,
  type DropEvent,
  type ErrorEvent,
  HeartlineSocket,
  type ReconnectingEvent,
} from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startGate } from '../support/gate.js';
import { startHeartline } from '../support/server-fixtures.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 20, maxDelay: 2_000 } } as const;

describe('issue 12: handshake refusals are answers, not network failures', () => {
  it.each([
    [400, 4400, 'HttpBadRequest'],
    [403, 4403, 'HttpForbidden'],
    [404, 4404, 'HttpNotFound'],
  ])('closes for good on HTTP %i with %i and the server’s words', async (status, code, name) => {
    const gate = await startGate(() => ({ status, body: `  No,\n thanks (${status})  ` }));
    const ws = openClient(gate.url, { ...fast, session: false });
    const errors = collect<ErrorEvent>(ws, 'error');
    const drop = waitForEvent<DropEvent>(ws, 'drop');
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close).toMatchObject({ code, reason: `No, thanks (${status})`, wasClean: false });
    expect(await drop).toMatchObject({ name, cause: 'handshake_refused', willReconnect: false });
    expect(gate.requests).toHaveLength(1);
    const text = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[status];
    expect(errors.events.map((e) => e.message)).toEqual([
      `${gate.url} refused: HTTP ${status} ${text}: No, thanks (${status})`,
    ]);
  });

  it('closes for good with 4403 against a HeartlineServer that refuses a missing Origin', async () => {
    const { url } = await startHeartline({ allowMissingOrigin: false });
    const ws = openClient(url, fast);
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(4403);
    expect(close.reason).toMatch(/^Missing Origin header/);
  });

  it('calls a URL function once more after a 401, for a fresh token, then closes with 4401', async () => {
    const gate = await startGate(() => ({ status: 401, body: 'token expired' }));
    let calls = 0;
    const ws = openClient(() => `${gate.url}?token=${++calls}`, fast);
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close).toMatchObject({ code: 4401, reason: 'token expired' });
    expect(gate.requests.map((r) => r.url)).toEqual(['/?token=1', '/?token=2']);
  });

  it('opens after a 401 when the fresh token is accepted, without a drop or a retry', async () => {
    const gate = await startGate((request) =>
      request.url === '/?token=1' ? { status: 401 } : null,
    );
    let calls = 0;
    const ws = openClient(() => `${gate.url}?token=${++calls}`, fast);
    const noise = [collect(ws, 'drop'), collect(ws, 'reconnecting'), collect(ws, 'error')];
    await waitForEvent(ws, 'open');
    expect(noise.map((c) => c.events.length)).toEqual([0, 0, 0]);
  });

  it('closes at once with 4401 when the URL is a string: there is no fresh token to try', async () => {
    const gate = await startGate(() => ({ status: 401 }));
    const ws = openClient(gate.url, fast);
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close).toMatchObject({ code: 4401, reason: 'Unauthorized' });
    expect(gate.requests).toHaveLength(1);
  });

  it.each([
    [429, 4429],
    [503, 4503],
  ])('retries HTTP %i (%i), after its Retry-After', async (status, code) => {
    const gate = await startGate((_request, n) =>
      n === 0 ? { status, headers: { 'Retry-After': '1' }, body: 'later' } : null,
    );
    const ws = openClient(gate.url, { reconnect: { minDelay: 20, maxDelay: 5_000 } });
    const scheduled = await waitForEvent<ReconnectingEvent>(ws, 'reconnecting');
    expect(scheduled).toMatchObject({ delay: 1000, serverHint: true });
    const t0 = performance.now();
    await waitForEvent(ws, 'open', { timeout: 3000 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(code).toBe(4000 + status);
  });
});

describe('issue 12: a strict server gets plain mode', () => {
  it('tries again without the offer when a server refuses it with 400, and remembers that for the URL', async () => {
    // pywebsocket3's rule: a handler must pick one of the offered sub-protocols, or 400.
    const gate = await startGate((request) =>
      request.headers['sec-websocket-protocol'] ? { status: 400, body: 'unknown offer' } : null,
    );
    const ws = openClient(gate.url, fast);
    const noise = [collect(ws, 'drop'), collect(ws, 'error')];
    await waitForEvent(ws, 'open');
    expect(ws.mode).toBe('plain');
    expect(ws.protocol).toBe('');
    expect(noise.map((c) => c.events.length)).toEqual([0, 0]);
    expect([gate.offer(0), gate.offer(1)]).toEqual(['heartline.plain,heartline.v1', undefined]);
    // The next link goes straight without it.
    for (const client of [...gate.requests]) client.socket.destroy();
    await waitForEvent(ws, 'open');
    expect(gate.requests).toHaveLength(3);
    expect(gate.offer(2)).toBeUndefined();
  });

  it('closes with 4400 when the server refuses the app’s own offer too', async () => {
    const gate = await startGate(() => ({ status: 400, body: 'Unsupported sub-protocol' }));
    const ws = openClient(gate.url, fast, ['chat.v1']);
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close).toMatchObject({ code: 4400, reason: 'Unsupported sub-protocol' });
    expect([gate.offer(0), gate.offer(1)]).toEqual(['chat.v1,heartline.v1', 'chat.v1']);
  });

  it('keeps offering heartline.v1 to a server that is merely down (ws says why an attempt failed)', async () => {
    const { port } = await startHeartline();
    const proxy = await startFaultProxy({ port });
    await proxy.refuse();
    const ws = openClient(proxy.url, fast);
    await waitForEvent(ws, 'reconnecting');
    await waitForEvent(ws, 'reconnecting');
    await proxy.accept();
    await waitForEvent(ws, 'open');
    expect(ws.mode).toBe('session');
  });
});

describe('issue 12: a heartbeat that works against any server', () => {
  it('pings a quiet plain ws server at the protocol level: no stray "ping", no 4408', async () => {
    const heard: string[] = [];
    const server = await startServer({
      echo: false,
      onConnection: (socket) => socket.on('message', (data) => heard.push(String(data))),
    });
    const ws = openClient(server.url, { heartbeat: { interval: 40, timeout: 40 } });
    const beats = collect(ws, 'heartbeat');
    const drops = collect(ws, 'drop');
    await waitForEvent(ws, 'open');
    await waitFor(() => beats.events.length >= 5, { message: 'five answered pings' });
    expect(drops.events).toEqual([]);
    expect(heard).toEqual([]);
    expect(ws.rtt).toBeGreaterThanOrEqual(0);
  });

  // A guard: what worked before (an explicit text ping, in Node) still does.
  it('sends an explicit heartbeat.ping as a message, in Node too, and consumes its pong', async () => {
    const heard: string[] = [];
    const server = await startServer({
      onConnection: (socket) => socket.on('message', (data) => heard.push(String(data))),
    });
    const ws = openClient(server.url, { heartbeat: { interval: 40, timeout: 200, ping: 'ping' } });
    const messages = collect(ws, 'message');
    await waitForEvent(ws, 'heartbeat');
    expect(heard[0]).toBe('ping');
    expect(messages.events).toEqual([]);
  });

  it('delivers a "pong" message to the app when the heartbeat pings at the protocol level', async () => {
    const server = await startServer({ onConnection: (socket) => socket.send('pong') });
    const ws = openClient(server.url);
    const message = await waitForEvent<MessageEvent>(ws, 'message');
    expect(message.data).toBe('pong');
  });
});

describe('issue 12: the drop-in, in Node', () => {
  it('says whether the open link is in session mode', async () => {
    const heartline = await startHeartline();
    const plain = await startServer();
    const a = openClient(heartline.url);
    const b = openClient(plain.url);
    expect(a.mode).toBeUndefined();
    await Promise.all([waitForEvent(a, 'open'), waitForEvent(b, 'open')]);
    expect([a.mode, b.mode]).toEqual(['session', 'plain']);
    a.close();
    expect(a.mode).toBeUndefined();
  });

  it('throws TypeErrors for missing arguments and converts the rest as WebIDL does', async () => {
    const server = await startServer();
    const Ws = (await import('ws')).WebSocket;
    const Missing = HeartlineSocket as unknown as new () => HeartlineSocket;
    expect(() => new Missing()).toThrow(TypeError);
    expect(() => new Missing()).not.toThrow(/Expected/);
    const ws = new HeartlineSocket(new URL(server.url) as never, [], { WebSocket: Ws });
    await waitForEvent(ws, 'open');
    expect(() => (ws.send as unknown as () => void)()).toThrow(TypeError);
    ws.binaryType = 'notBlobOrArrayBuffer' as never;
    expect(ws.binaryType).toBe('nodebuffer');
    const close = waitForEvent<CloseEvent>(ws, 'close');
    ws.close('4000.5' as never, 42 as never); // [Clamp] unsigned short: ties round to even
    expect(await close).toMatchObject({ code: 4000, reason: '42' });
  });
});
