import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HeartlineServer } from '../../src/server/index.js';
import { connectWs, refusal } from '../support/server-fixtures.js';
import { waitForEvent } from '../support/wait.js';

/** One echo round trip through the server, as each recipe's smoke test. */
async function echoes(url: string): Promise<string> {
  const ws = connectWs(url);
  await waitForEvent(ws, 'open');
  ws.send('hello');
  return String(await waitForEvent(ws, 'message'));
}

function echo(server: HeartlineServer): HeartlineServer {
  server.on('connection', (client) => client.on('message', (data) => client.send(`echo ${data}`)));
  onTestFinished(() => server.close({ deadline: 0 }));
  return server;
}

describe('HeartlineServer recipes', () => {
  it('attaches to a Node http server and leaves it serving HTTP after close()', async () => {
    const httpServer = http.createServer((_req, res) => res.end('ok'));
    onTestFinished(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    const hl = echo(
      new HeartlineServer({ server: httpServer, path: '/ws', allowMissingOrigin: true }),
    );
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const { port } = httpServer.address() as AddressInfo;
    expect(await echoes(`ws://127.0.0.1:${port}/ws`)).toBe('echo hello');
    expect((await refusal(connectWs(`ws://127.0.0.1:${port}/nope`))).status).toBe(404);
    await hl.close();
    expect(httpServer.listening).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });

  it('shares a Node http server with another upgrade handler on another path', async () => {
    const httpServer = http.createServer();
    onTestFinished(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    const a = echo(new HeartlineServer({ noServer: true, path: '/a', allowMissingOrigin: true }));
    const b = echo(
      new HeartlineServer({ server: httpServer, path: '/b', allowMissingOrigin: true }),
    );
    httpServer.on('upgrade', (request, socket, head) => {
      if (request.url?.startsWith('/a')) a.handleUpgrade(request, socket, head);
    });
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const { port } = httpServer.address() as AddressInfo;
    expect(await echoes(`ws://127.0.0.1:${port}/a`)).toBe('echo hello');
    expect(await echoes(`ws://127.0.0.1:${port}/b`)).toBe('echo hello');
    expect(a.clients.size + b.clients.size).toBe(2);
  });

  it('runs beside an Express app on the server that app.listen() returns', async () => {
    const app = express();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    const httpServer = app.listen(0, '127.0.0.1');
    onTestFinished(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    await once(httpServer, 'listening');
    echo(new HeartlineServer({ server: httpServer, path: '/ws', allowMissingOrigin: true }));
    const { port } = httpServer.address() as AddressInfo;
    expect(await echoes(`ws://127.0.0.1:${port}/ws`)).toBe('echo hello');
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ ok: true });
  });

  it('runs beside a Fastify app on fastify.server', async () => {
    const app = Fastify();
    app.get('/health', async () => ({ ok: true }));
    onTestFinished(() => app.close());
    echo(new HeartlineServer({ server: app.server, path: '/ws', allowMissingOrigin: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    expect(await echoes(`ws://127.0.0.1:${port}/ws`)).toBe('echo hello');
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ ok: true });
  });
});
