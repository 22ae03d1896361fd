import { describe, expect, it } from 'vitest';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { connectWs, refusal, startHeartline } from '../support/server-fixtures.js';
import { waitForEvent } from '../support/wait.js';

describe('HeartlineServer upgrade checks', () => {
  it('answers a foreign origin with 403 and never accepts the socket', async () => {
    const { server, url } = await startHeartline({ origins: ['https://app.example.com'] });
    let connections = 0;
    server.on('connection', () => connections++);
    const answer = await refusal(connectWs(url, [], { origin: 'https://evil.example.net' }));
    expect(answer.status).toBe(403);
    expect(answer.body).toBe('Origin not allowed: https://evil.example.net');
    expect(connections).toBe(0);
    expect(server.stats().rejected).toEqual({ 403: 1 });
  });

  it('accepts exact and wildcard origins from the allow-list', async () => {
    const { url } = await startHeartline({
      origins: ['https://app.example.com', 'https://*.example.org'],
    });
    for (const origin of ['https://APP.example.com:443', 'https://eu.cdn.example.org']) {
      const ws = connectWs(url, [], { origin });
      await waitForEvent(ws, 'open');
      expect(ws.readyState, origin).toBe(ws.OPEN);
    }
    const refused = await refusal(connectWs(url, [], { origin: 'https://example.org' }));
    expect(refused.status).toBe(403); // the wildcard needs a label before .example.org
  });

  it('accepts a request without Origin by default: a non-browser client', async () => {
    const { url } = await startHeartline();
    await waitForEvent(connectWs(url), 'open');
  });

  it('refuses a request without Origin with `allowMissingOrigin: false`', async () => {
    const { url } = await startHeartline({ allowMissingOrigin: false, origins: '*' });
    const answer = await refusal(connectWs(url));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/Missing Origin header/);
  });

  it('allows same-origin requests by default', async () => {
    const { url, port } = await startHeartline({ allowMissingOrigin: false });
    await waitForEvent(connectWs(url, [], { origin: `http://127.0.0.1:${port}` }), 'open');
    const answer = await refusal(connectWs(url, [], { origin: 'http://127.0.0.1:1' }));
    expect(answer.status).toBe(403);
  });

  it('answers an unknown sub-protocol with 400 and selects a supported one', async () => {
    const { url } = await startHeartline({ protocols: ['chat.v2', 'chat.v1'] });
    const answer = await refusal(connectWs(url, ['mqtt']));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/offered "mqtt"; this server supports "chat.v2", "chat.v1"/);
    const ws = connectWs(url, ['chat.v1', 'chat.v2']);
    await waitForEvent(ws, 'open');
    expect(ws.protocol).toBe('chat.v2');
  });

  it("agrees on a HeartlineSocket's app protocol and keeps it in plain mode", async () => {
    const { server, url } = await startHeartline({ protocols: ['chat.v1'] });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const socket = openClient(url, {}, ['chat.v1']);
    await waitForEvent(socket, 'open');
    expect(socket.protocol).toBe('chat.v1');
    expect((await connected).protocol).toBe('chat.v1');
  });

  it('answers 400 when a required sub-protocol is missing', async () => {
    const { url } = await startHeartline({ protocols: ['chat.v1'], requireProtocol: true });
    expect((await refusal(connectWs(url))).status).toBe(400);
  });

  it('answers 404 for a path it does not serve and ignores the query', async () => {
    const { url } = await startHeartline({ path: '/live' });
    expect((await refusal(connectWs(`${url}/other`))).status).toBe(404);
    await waitForEvent(connectWs(`${url}/live?token=abc`), 'open');
  });

  it('answers 503 with Retry-After over the connection cap', async () => {
    const { url, server } = await startHeartline({
      maxConnections: { limit: 1, retryAfter: 7_000 },
    });
    await waitForEvent(connectWs(url), 'open');
    const answer = await refusal(connectWs(url));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('7');
    expect(server.clients.size).toBe(1);
  });

  it('reports a throwing origins function and answers 500', async () => {
    const { url, server } = await startHeartline({
      allowMissingOrigin: false,
      origins: () => {
        throw new Error('boom');
      },
    });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    expect((await refusal(connectWs(url, [], { origin: 'https://a.example' }))).status).toBe(500);
    expect(errors[0]?.name).toBe('CallbackError');
    expect(errors[0]?.cause).toMatchObject({ message: 'boom' });
  });
});
