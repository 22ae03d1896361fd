import { describe, expect, it } from 'vitest';
import { CallbackError, type ServerClient } from '../../src/server/index.js';
import { connectWs, startHeartline } from '../support/server-fixtures.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

describe('HeartlineServer and throwing handlers', () => {
  it('reports a throwing message handler and keeps serving every client', async () => {
    const { server, url } = await startHeartline();
    const errors: { error: Error; client: ServerClient | undefined }[] = [];
    server.on('error', (error, client) => errors.push({ error, client }));
    server.on('connection', (client) => {
      client.on('message', (data) => {
        if (data === 'explode') throw new Error('handler bug');
        server.broadcast(`echo ${data}`);
      });
      // A second listener still runs after the first one threw.
      client.on('message', (data) => {
        if (data === 'explode') client.send('second listener ran');
      });
    });
    const [a, b] = [connectWs(url), connectWs(url)];
    await Promise.all([waitForEvent(a, 'open'), waitForEvent(b, 'open')]);
    const inboxA = collect<Buffer>(a, 'message');
    const inboxB = collect<Buffer>(b, 'message');
    a.send('explode');
    b.send('hello');
    a.send('after');
    await waitFor(() => inboxB.events.length === 2 && inboxA.events.length === 3);
    expect(inboxA.events.map(String)[0]).toBe('second listener ran');
    expect(inboxA.events.map(String).slice(1).sort()).toEqual(['echo after', 'echo hello']);
    expect(inboxB.events.map(String).sort()).toEqual(['echo after', 'echo hello']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBeInstanceOf(CallbackError);
    expect(errors[0]!.error.message).toMatch(/A 'message' listener of client .+ threw/);
    expect((errors[0]!.error.cause as Error).message).toBe('handler bug');
    expect(errors[0]!.client?.state).toBe('open');
  });

  it('reports a throwing or rejecting connection handler and keeps the client', async () => {
    const { server, url } = await startHeartline();
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    server.on('connection', () => {
      throw new Error('sync');
    });
    server.on('connection', async (client) => {
      client.send('welcome');
      throw new Error('async');
    });
    const ws = connectWs(url);
    expect(String(await waitForEvent(ws, 'message'))).toBe('welcome');
    await waitFor(() => errors.length === 2);
    expect(errors.map((e) => (e.cause as Error).message).sort()).toEqual(['async', 'sync']);
    expect(server.clients.size).toBe(1);
  });

  it('does not crash without an error listener when a client misbehaves', async () => {
    const { server, url } = await startHeartline({ maxPayload: 10 });
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    ws.send('x'.repeat(11));
    expect(await waitForEvent(ws, 'close')).toBe(1009);
    await waitFor(() => server.clients.size === 0);
  });
});
