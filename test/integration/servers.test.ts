import { EventEmitter } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent, waitForEventArgs } from '../support/wait.js';

function connect(url: string, protocols?: string[]): WebSocket {
  const ws = new WebSocket(url, protocols);
  ws.on('error', () => {});
  onTestFinished(() => ws.terminate());
  return ws;
}

describe('startServer', () => {
  it('echoes with the same binary flag and answers "ping" with "pong"', async () => {
    const server = await startServer();
    const ws = connect(server.url);
    await waitForEvent(ws, 'open');
    const replies = collect<Buffer>(ws, 'message');
    ws.send('ping');
    ws.send('hello');
    await waitFor(() => replies.events.length === 2);
    expect(replies.events.map(String)).toEqual(['pong', 'hello']);

    const binary = waitForEventArgs(ws, 'message');
    ws.send(new Uint8Array([9]));
    expect((await binary)[1]).toBe(true);
  });

  it('honors the `echo: false` option but still answers "ping"', async () => {
    const server = await startServer({ echo: false });
    const ws = connect(server.url);
    await waitForEvent(ws, 'open');
    const replies = collect<Buffer>(ws, 'message');
    ws.send('hello');
    ws.send('ping');
    ws.send('ping'); // a barrier: an echo of "hello" would arrive before the second pong
    await waitFor(() => replies.events.length === 2);
    expect(replies.events.map(String)).toEqual(['pong', 'pong']);
  });

  it('honors the `silent` option: no echo, no pong, no protocol pong', async () => {
    const server = await startServer({ silent: true });
    const accepted = server.nextConnection();
    const ws = connect(server.url);
    await waitForEvent(ws, 'open');
    const { socket } = await accepted;
    const messages = collect(ws, 'message');
    const pongs = collect(ws, 'pong');
    const seen = waitForEvent(socket, 'ping');
    ws.send('ping');
    ws.ping();
    await seen;
    // A barrier from the server's side: a reply to either would have been written before it.
    socket.send('barrier');
    await waitFor(() => messages.events.length === 1);
    expect(messages.events.map(String)).toEqual(['barrier']);
    expect(pongs.events).toEqual([]);
  });

  it('honors the `path` and `handleProtocols` options and reports the request', async () => {
    const server = await startServer({
      path: '/live',
      handleProtocols: (offered) => (offered.has('heartline.v1') ? 'heartline.v1' : false),
    });
    expect(server.url).toMatch(/\/live$/);
    const next = server.nextConnection();
    const ws = connect(server.url, ['chat', 'heartline.v1']);
    await waitForEvent(ws, 'open');
    expect(ws.protocol).toBe('heartline.v1');
    expect((await next).request.url).toBe('/live');

    const wrongPath = connect(server.url.replace('/live', '/other'));
    const error = await waitForEvent<Error>(wrongPath, 'error');
    expect(error.message).toMatch(/400/);
  });

  it('restarts on the same port with stop() and start()', async () => {
    const server = await startServer();
    const { port } = server;
    const ws = connect(server.url);
    await waitForEvent(ws, 'open');
    const closed = waitForEvent(ws, 'close');
    await server.stop();
    expect(await closed).toBe(1006);
    expect(server.sockets.size).toBe(0);

    const refused = connect(server.url);
    expect((await waitForEvent<NodeJS.ErrnoException>(refused, 'error')).code).toBe('ECONNREFUSED');

    await server.start();
    expect(server.port).toBe(port);
    const again = connect(server.url);
    await waitForEvent(again, 'open');
    expect(server.sockets.size).toBe(1);
  });

  it('rejects nextConnection() after its timeout', async () => {
    const server = await startServer();
    await expect(server.nextConnection({ timeout: 50 })).rejects.toThrow(
      /no connection within 50 ms/,
    );
  });
});

describe('waitForEvent', () => {
  it('rejects with a message naming the event and removes its listener', async () => {
    const emitter = new EventEmitter();
    await expect(waitForEvent(emitter, 'ready', { timeout: 30 })).rejects.toThrow(
      "Timed out after 30 ms waiting for a 'ready' event on EventEmitter",
    );
    expect(emitter.listenerCount('ready')).toBe(0);
  });

  it('works on an EventTarget and honors the `filter` option', async () => {
    const target = new EventTarget();
    const found = waitForEvent<MessageEvent>(target, 'message', { filter: (e) => e.data === 2 });
    target.dispatchEvent(new MessageEvent('message', { data: 1 }));
    target.dispatchEvent(new MessageEvent('message', { data: 2 }));
    expect((await found).data).toBe(2);
  });
});

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    expect(await waitFor(() => ++n >= 3 && n)).toBe(3);
  });

  it('rejects after its timeout with the message and the last error', async () => {
    const failing = waitFor(
      () => {
        throw new Error('not yet');
      },
      { timeout: 30, message: 'the impossible' },
    );
    await expect(failing).rejects.toThrow('Timed out after 30 ms waiting for the impossible');
    await expect(failing).rejects.toHaveProperty('cause.message', 'not yet');
  });
});
