import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../support/servers.js';
import { collect, delay, waitFor, waitForEvent, waitForEventArgs } from '../support/wait.js';

/**
 * Bytes on the wire of one short text frame (RFC 6455 §5.2): a 2-byte header, plus a 4-byte
 * masking key when the client sends it.
 */
function frameBytes(text: string, from: 'client' | 'server'): number {
  const length = Buffer.byteLength(text);
  if (length > 125) throw new RangeError('frameBytes: short frames only');
  return 2 + (from === 'client' ? 4 : 0) + length;
}

/** Resolves once the proxy has read and thrown away `bytes` bytes in all: they can never arrive. */
function discarded(proxy: { readonly discarded: number }, bytes: number): Promise<unknown> {
  return waitFor(() => proxy.discarded === bytes, {
    message: `the proxy to discard ${bytes} bytes (it has discarded ${proxy.discarded})`,
  });
}

/** A real `ws` client that is terminated when the test finishes. */
function connect(url: string): WebSocket {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  onTestFinished(() => ws.terminate());
  return ws;
}

async function open(url: string): Promise<WebSocket> {
  const ws = connect(url);
  await waitForEvent(ws, 'open');
  return ws;
}

/** Sends `text` and resolves with the echo, measuring the round trip. */
async function roundTrip(ws: WebSocket, text: string): Promise<{ echo: string; ms: number }> {
  const started = performance.now();
  const reply = waitForEvent<Buffer>(ws, 'message', { filter: (d) => d.toString() === text });
  ws.send(text);
  const echo = (await reply).toString();
  return { echo, ms: performance.now() - started };
}

async function setup() {
  const server = await startServer();
  const proxy = await startFaultProxy({ port: server.port });
  const accepted = server.nextConnection();
  const client = await open(proxy.url);
  const { socket } = await accepted;
  return { server, proxy, client, socket };
}

describe('startFaultProxy', () => {
  it('forwards frames both ways until a fault is set', async () => {
    const { proxy, client } = await setup();
    expect(proxy.url).toBe(`ws://127.0.0.1:${proxy.port}`);

    expect((await roundTrip(client, 'hello')).echo).toBe('hello');
    const binary = waitForEventArgs(client, 'message');
    client.send(Buffer.from([1, 2, 3]));
    const [data, isBinary] = await binary;
    expect(isBinary).toBe(true);
    expect([...(data as Buffer)]).toEqual([1, 2, 3]);
    client.send('ping');
    expect(String(await waitForEvent(client, 'message'))).toBe('pong');
  });

  it('forwards a clean close as a clean close', async () => {
    const { client, socket } = await setup();
    const serverClose = waitForEventArgs(socket, 'close');
    const clientClose = waitForEvent(client, 'close');
    client.close(1000, 'bye');
    const [code, reason] = await serverClose;
    expect(code).toBe(1000);
    expect(String(reason)).toBe('bye');
    expect(await clientClose).toBe(1000);
  });

  it('carries a message larger than the socket buffers, with backpressure', async () => {
    const { client } = await setup();
    const big = Buffer.alloc(16 * 1024 * 1024, 7);
    const echo = waitForEvent<Buffer>(client, 'message', { timeout: 10_000 });
    client.send(big);
    expect((await echo).equals(big)).toBe(true);
  });

  it('resets the client when the target refuses the connection', async () => {
    const { server, proxy } = await setup();
    await server.stop();
    const orphan = connect(proxy.url);
    const error = await waitForEvent<Error>(orphan, 'error');
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
    await server.start();
    expect((await roundTrip(await open(proxy.url), 'restarted')).echo).toBe('restarted');
  });

  it('counts live and accepted connections', async () => {
    const { proxy, client } = await setup();
    await open(proxy.url);
    expect(proxy.accepted).toBe(2);
    expect(proxy.connections).toBe(2);
    client.close();
    await waitForEvent(client, 'close');
    await waitFor(() => proxy.connections === 1, { message: 'the proxy to drop a connection' });
    expect(proxy.accepted).toBe(2);
  });

  describe('FaultProxy#blackhole', () => {
    it('keeps both ends OPEN while nothing gets through either way', async () => {
      const { proxy, client, socket } = await setup();
      proxy.blackhole();
      const toClient = collect(client, 'message');
      const toServer = collect(socket, 'message');
      const serverClose = collect(socket, 'close');
      client.send('lost on the way up');
      socket.send('lost on the way down');
      // Both frames reached the proxy and died there, so neither can arrive later.
      await discarded(
        proxy,
        frameBytes('lost on the way up', 'client') + frameBytes('lost on the way down', 'server'),
      );

      expect(toClient.events).toEqual([]);
      expect(toServer.events).toEqual([]);
      expect(client.readyState).toBe(WebSocket.OPEN);
      expect(socket.readyState).toBe(WebSocket.OPEN);
      expect(serverClose.events).toEqual([]);
      expect(proxy.connections).toBe(1);
    });

    it('never forwards FIN or RST, so the other end never learns of a close', async () => {
      const { proxy, client, socket } = await setup();
      proxy.blackhole();
      const serverClose = collect(socket, 'close');
      client.terminate();
      await waitForEvent(client, 'close');
      // The client's FIN reached the proxy's socket when the client closed. Client, proxy and
      // server share this event loop, so a round trip begun now, through the same proxy to the
      // same server, ends only after the proxy has read that FIN and the server has read
      // whatever the proxy forwarded because of it.
      expect((await roundTrip(await open(proxy.url), 'after')).echo).toBe('after');

      expect(serverClose.events).toEqual([]);
      expect(socket.readyState).toBe(WebSocket.OPEN);
    });

    it('lets new connections pass by default', async () => {
      const { proxy } = await setup();
      proxy.blackhole();
      const fresh = await open(proxy.url);
      expect((await roundTrip(fresh, 'still here')).echo).toBe('still here');
    });

    it('leaves the handshake of new connections hanging with newConnections: true', async () => {
      const { server, proxy } = await setup();
      proxy.blackhole({ newConnections: true });
      const connections = collect(server.wss, 'connection');
      const hanging = connect(proxy.url);
      // The upgrade request reached the proxy and was thrown away: no upstream exists for it.
      await waitFor(() => proxy.discarded > 0, { message: 'the proxy to discard the request' });

      expect(hanging.readyState).toBe(WebSocket.CONNECTING);
      expect(connections.events).toEqual([]);
      expect(proxy.connections).toBe(2);
    });

    it('lets new connections pass again after heal(), but old ones stay dead', async () => {
      const { proxy, client } = await setup();
      proxy.blackhole({ newConnections: true });
      proxy.heal();
      const fresh = await open(proxy.url);
      expect((await roundTrip(fresh, 'healed')).echo).toBe('healed');

      const toClient = collect(client, 'message');
      client.send('still lost');
      await discarded(proxy, frameBytes('still lost', 'client'));
      expect(toClient.events).toEqual([]);
    });
  });

  describe('FaultProxy#reset', () => {
    it('makes both ends see an abnormal close (1006) at once', async () => {
      const { proxy, client, socket } = await setup();
      const started = performance.now();
      const clientClose = waitForEvent(client, 'close', { timeout: 1000 });
      const serverClose = waitForEvent(socket, 'close', { timeout: 1000 });
      proxy.reset();

      expect(await clientClose).toBe(1006);
      expect(await serverClose).toBe(1006);
      expect(performance.now() - started).toBeLessThan(500);
      await waitFor(() => proxy.connections === 0, {
        message: 'the proxy to drop its connections',
      });
    });

    it('also resets blackholed connections', async () => {
      const { proxy, client } = await setup();
      proxy.blackhole();
      const clientClose = waitForEvent(client, 'close', { timeout: 1000 });
      proxy.reset();
      expect(await clientClose).toBe(1006);
    });

    it('lets new connections pass', async () => {
      const { proxy } = await setup();
      proxy.reset();
      const fresh = await open(proxy.url);
      expect((await roundTrip(fresh, 'again')).echo).toBe('again');
    });
  });

  describe('FaultProxy#refuse', () => {
    it('refuses new connections with ECONNREFUSED and leaves current ones alone', async () => {
      const { proxy, client } = await setup();
      await proxy.refuse();
      const refused = connect(proxy.url);
      const error = await waitForEvent<NodeJS.ErrnoException>(refused, 'error');
      expect(error.code).toBe('ECONNREFUSED');
      expect((await roundTrip(client, 'alive')).echo).toBe('alive');
    });

    it('accepts again on the same port after accept()', async () => {
      const { proxy } = await setup();
      const { port } = proxy;
      await proxy.refuse();
      await proxy.accept();
      expect(proxy.port).toBe(port);
      const fresh = await open(proxy.url);
      expect((await roundTrip(fresh, 'back')).echo).toBe('back');
    });
  });

  describe('FaultProxy#delay', () => {
    it('adds the delay to an echo round trip, both ways, in order', async () => {
      const { proxy, client } = await setup();
      const before = await roundTrip(client, 'warm-up');
      proxy.delay(100);
      const slow = await roundTrip(client, 'slow');
      expect(slow.echo).toBe('slow');
      expect(slow.ms).toBeGreaterThanOrEqual(before.ms + 90);
      expect(slow.ms).toBeGreaterThanOrEqual(190);

      const received = collect<Buffer>(client, 'message');
      for (let i = 0; i < 20; i++) client.send(`m${i}`);
      await waitFor(() => received.events.length === 20, { message: '20 echoes' });
      expect(received.events.map(String)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    });

    it('keeps order when the delay is lifted with chunks still held', async () => {
      const { proxy, client } = await setup();
      proxy.delay(100);
      const received = collect<Buffer>(client, 'message');
      client.send('first');
      await delay(20);
      proxy.delay(0);
      client.send('second');
      await waitFor(() => received.events.length === 2, { message: 'two echoes' });
      expect(received.events.map(String)).toEqual(['first', 'second']);
    });

    it('delivers held chunks before it forwards the close', async () => {
      const { proxy, client, socket } = await setup();
      proxy.delay(100);
      const received = collect<Buffer>(socket, 'message');
      const serverClose = waitForEvent(socket, 'close');
      client.send('last words');
      client.close(1000);
      expect(await serverClose).toBe(1000);
      expect(received.events.map(String)).toEqual(['last words']);
    });

    it('is lifted by heal()', async () => {
      const { proxy, client } = await setup();
      proxy.delay(200);
      proxy.heal();
      expect((await roundTrip(client, 'fast')).ms).toBeLessThan(150);
    });
  });

  describe('FaultProxy#close', () => {
    it('closes every connection and the listener, and is idempotent', async () => {
      const { proxy, client } = await setup();
      const clientClose = waitForEvent(client, 'close', { timeout: 1000 });
      await Promise.all([proxy.close(), proxy.close()]);
      await proxy.close();
      expect(await clientClose).toBe(1006);
      expect(proxy.connections).toBe(0);
      const refused = connect(proxy.url);
      const error = await waitForEvent<NodeJS.ErrnoException>(refused, 'error');
      expect(error.code).toBe('ECONNREFUSED');
    });
  });
});
