import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { CallbackError, type ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { connectWs, refusal, SESSION_OFFER, startHeartline } from '../support/server-fixtures.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 5, maxDelay: 20 } } as const;

/** The `user` query parameter of an upgrade request. */
function userOf(request: IncomingMessage): string | null {
  return new URL(request.url ?? '/', 'http://localhost').searchParams.get('user');
}

/** Identities by user name: anyone but "mallory" is let in, as `{ user }`. */
async function byUser(request: IncomingMessage) {
  await new Promise((resolve) => setImmediate(resolve)); // async, as a token check is
  const user = userOf(request);
  if (user === null) return false;
  if (user === 'mallory') return { status: 403, reason: 'mallory is banned' };
  return { user };
}

describe('authenticate', () => {
  it('refuses with 401 before the WebSocket is accepted, and with any status and reason', async () => {
    const { server, url } = await startHeartline({ authenticate: byUser });
    const connections = collect(server, 'connection');
    expect(await refusal(connectWs(url))).toMatchObject({ status: 401, body: 'Unauthorized' });
    expect(await refusal(connectWs(`${url}/?user=mallory`))).toMatchObject({
      status: 403,
      body: 'mallory is banned',
    });
    expect(server.stats().rejected).toMatchObject({ 401: 1, 403: 1 });
    expect(connections.events).toEqual([]);
  });

  it('gives each client its identity, in plain and session mode', async () => {
    const { server, url } = await startHeartline<{ user: string }>({ authenticate: byUser });
    const connections = collect<ServerClient<{ user: string }>>(server, 'connection');
    const plain = connectWs(`${url}/?user=alice`);
    await waitForEvent(plain, 'open');
    const session = openClient(`${url}/?user=bob`, fast);
    await waitForEvent(session, 'open');
    await waitFor(() => connections.events.length === 2);
    const byMode = Object.fromEntries(connections.events.map((c) => [c.mode, c.identity]));
    expect(byMode).toEqual({ plain: { user: 'alice' }, session: { user: 'bob' } });
  });

  it('answers 500 and reports the bug when it throws, returns undefined or a bad status', async () => {
    const bugs: ((r: IncomingMessage) => unknown)[] = [
      () => {
        throw new Error('token store down');
      },
      () => undefined,
      () => ({ status: 200 }),
    ];
    const { server, url } = await startHeartline({
      authenticate: (request) => bugs[Number(userOf(request))]!(request),
    });
    const errors = collect<Error>(server, 'error');
    for (let i = 0; i < bugs.length; i++) {
      expect((await refusal(connectWs(`${url}/?user=${i}`))).status).toBe(500);
    }
    await waitFor(() => errors.events.length === 3);
    expect(errors.events[0]).toBeInstanceOf(CallbackError);
    expect(String(errors.events[0]!.cause)).toMatch(/token store down/);
    expect(errors.events[1]!.message).toMatch(/returned undefined/);
    expect(errors.events[2]!.message).toMatch(/status 200/);
  });

  it('answers 503 when it does not decide within upgradeTimeout, and counts against the cap', async () => {
    const waiting: (() => void)[] = [];
    const { server, url } = await startHeartline({
      upgradeTimeout: 300,
      maxConnections: 1,
      authenticate: () => new Promise<false>((resolve) => waiting.push(() => resolve(false))),
    });
    server.on('error', () => {});
    const first = refusal(connectWs(url));
    await waitFor(() => waiting.length === 1, { message: 'the first request to wait' });
    // The waiting request holds the only place: the next one is refused at once.
    expect(await refusal(connectWs(url))).toMatchObject({ status: 503 });
    expect(waiting).toHaveLength(1);
    expect(await first).toMatchObject({ status: 503, body: 'Authentication timed out' });
    waiting[0]!(); // deciding after the answer changes nothing
  });

  it('accepts nothing for a client that left while it decided', async () => {
    const pending: { request: IncomingMessage; decide: () => void }[] = [];
    const { server, url } = await startHeartline({
      authenticate: (request) =>
        new Promise<{ user: string }>((resolve) =>
          pending.push({ request, decide: () => resolve({ user: 'x' }) }),
        ),
    });
    const errors = collect(server, 'error');
    const ws = connectWs(url);
    await waitFor(() => pending.length === 1, { message: 'the request to wait' });
    const left = waitForEvent(pending[0]!.request.socket, 'close');
    ws.terminate();
    await left; // the server has seen the client go
    pending[0]!.decide();
    // A barrier: a later client is let in, the one that left never was.
    const next = connectWs(url);
    await waitFor(() => pending.length === 2, { message: 'the second request to wait' });
    pending[1]!.decide();
    await waitForEvent(next, 'open');
    await waitFor(() => server.clients.size === 1);
    expect(server.stats().connections).toBe(1);
    expect(errors.events).toEqual([]);
  });

  it('runs again on every resume: the same identity resumes, another is refused with 3003', async () => {
    const calls: string[] = [];
    const { server, port } = await startHeartline({
      authenticate: (request) => {
        calls.push(userOf(request) ?? '');
        return byUser(request);
      },
    });
    const proxy = await startFaultProxy({ port });
    let user = 'alice';
    const connections = collect<ServerClient>(server, 'connection');
    const ws = openClient(() => `${proxy.url}/?user=${user}`, fast);
    const resumes = collect<ResumeEvent>(ws, 'resume');
    await waitForEvent(ws, 'open');
    const session = connections.events[0]!;

    proxy.reset(); // the link drops; the same user comes back
    await waitFor(() => resumes.events.length === 1, { message: 'a resume' });
    expect(resumes.events[0]!.resumed).toBe(true);
    expect(calls).toEqual(['alice', 'alice']);

    user = 'eve'; // the session's token, presented by someone else
    const closed = waitForEvent<{ code: number }>(ws, 'close');
    proxy.reset();
    expect((await closed).code).toBe(3003);
    expect(calls).toEqual(['alice', 'alice', 'eve']);
    // No session was started for eve, and alice's waits for her, untouched.
    expect(connections.events).toHaveLength(1);
    expect(session.state).toBe('detached');
    expect(server.stats().rejected).toMatchObject({ 403: 1 });
  });

  it('reads a token offered as a sub-protocol, which is never selected', async () => {
    const { server, url } = await startHeartline({
      protocols: ['chat.v1'],
      authenticate: (request) => {
        const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(/\s*,\s*/);
        const token = offered.find((p) => p.startsWith('token.'))?.slice('token.'.length);
        return token === 'c2VjcmV0' ? { user: 'alice' } : false;
      },
    });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = openClient(url, fast, ['chat.v1', 'token.c2VjcmV0']);
    await waitForEvent(ws, 'open');
    const client = await connected;
    expect(client.identity).toEqual({ user: 'alice' });
    expect([ws.protocol, client.protocol, client.mode]).toEqual(['chat.v1', 'chat.v1', 'session']);
    const wrong = openClient(url, fast, ['chat.v1', 'token.bm9wZQ']);
    expect((await waitForEvent<{ code: number }>(wrong, 'close')).code).toBe(4401);
  });

  it('offers heartline.v1 only to whom it lets in: a refused session gets no hello', async () => {
    const { url } = await startHeartline({ authenticate: byUser });
    const ws = connectWs(url, [...SESSION_OFFER]);
    expect((await refusal(ws)).status).toBe(401);
  });
});
