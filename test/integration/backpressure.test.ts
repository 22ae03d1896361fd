import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { connectWs, startHeartline } from '../support/server-fixtures.js';
import { startServer } from '../support/servers.js';
import { collect, delay, waitFor, waitForEvent } from '../support/wait.js';

/** The TCP socket under a `ws` client, to stop and start its reading. */
const tcpOf = (ws: WebSocket) => (ws as unknown as { _socket: net.Socket })._socket;

describe('backpressure the server app can see', () => {
  it('lets a producer that awaits flushed() outpace a stalling reader without ever reaching 4507', async () => {
    const highWaterMark = 256 * 1024;
    const { server, url } = await startHeartline({ highWaterMark, heartbeat: false });
    const errors = collect(server, 'error');
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const client = await connected;
    const drains = collect(client, 'drain');
    let received = 0;
    ws.on('message', () => received++);
    const chunk = Buffer.alloc(16 * 1024, 7);
    const total = 400; // 6.4 MiB, 25 times the mark
    let congestedSeen = false;
    // The reader stops for 100 ms every 150 ms: the stalls are the scenario.
    const stalls = (async () => {
      for (let i = 0; i < 10 && received < total; i++) {
        tcpOf(ws).pause();
        await delay(100);
        tcpOf(ws).resume();
        await delay(50);
      }
    })();
    for (let i = 0; i < total; i++) {
      await client.flushed();
      expect(client.send(chunk)).toBe(true);
      congestedSeen ||= client.congested;
      expect(client.bufferedAmount).toBeLessThanOrEqual(highWaterMark);
    }
    await stalls;
    tcpOf(ws).resume();
    await waitFor(() => received === total, { timeout: 10_000, message: 'every chunk' });
    expect(congestedSeen).toBe(true);
    expect(drains.events.length).toBeGreaterThan(0);
    expect(client.state).toBe('open');
    expect(errors.events).toEqual([]);
  });

  it('closes a producer that ignores it with 4507 at the mark, having said congested first', async () => {
    const highWaterMark = 256 * 1024;
    const { server, url } = await startHeartline({ highWaterMark, heartbeat: false });
    server.on('error', () => {});
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const client = await connected;
    tcpOf(ws).pause();
    const chunk = Buffer.alloc(16 * 1024, 7);
    let congestedAt = -1;
    for (let i = 0; i < 1_000 && client.state === 'open'; i++) {
      client.send(chunk);
      if (congestedAt < 0 && client.congested) congestedAt = client.bufferedAmount;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(client.state).not.toBe('open');
    expect(congestedAt).toBeGreaterThanOrEqual(highWaterMark / 2);
    expect(congestedAt).toBeLessThan(highWaterMark);
    tcpOf(ws).resume();
    expect(await waitForEvent(ws, 'close')).toBe(4507);
  });

  it('counts the members of a room that are congested', async () => {
    const { server, url } = await startHeartline({ highWaterMark: 64 * 1024, heartbeat: false });
    const clients = collect<ServerClient>(server, 'connection');
    const sockets = [connectWs(url), connectWs(url), connectWs(url)];
    await Promise.all(sockets.map((ws) => waitForEvent(ws, 'open')));
    await waitFor(() => clients.events.length === 3);
    for (const c of clients.events) c.join('feed');
    const room = server.to('feed');
    expect(room.congested).toBe(0);
    tcpOf(sockets[0]!).pause();
    // Until the kernel's buffers for the paused reader are full and half its mark too (16 MiB
    // at most); the others keep reading.
    for (let i = 0; i < 2_000 && room.congested === 0; i++) {
      room.send(Buffer.alloc(8 * 1024));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(room.congested).toBe(1);
    expect(clients.events[0]!.congested).toBe(true);
  });
});

describe('backpressure the client app can see', () => {
  it("says what send() did: 'queued' while connecting, 'sent' when open, 'dropped' after close", async () => {
    const { url } = await startHeartline();
    const ws = openClient(url);
    expect(ws.send('early')).toBe('queued');
    expect(ws.send('cursor', { volatile: true })).toBe('dropped');
    await waitForEvent(ws, 'open');
    expect(ws.send('now')).toBe('sent');
    expect(ws.send('cursor', { volatile: true })).toBe('sent');
    ws.close();
    expect(ws.send('late')).toBe('dropped');
  });

  it("says 'dropped' for a message too big for the outbox while not open", async () => {
    const { url } = await startHeartline();
    const ws = openClient(url, { outbox: { maxBytes: 4 } });
    const overflow = collect(ws, 'overflow');
    expect(ws.send('too long')).toBe('dropped');
    expect(overflow.events).toHaveLength(1);
  });

  it('fires drain once the server acknowledged everything sent (session mode)', async () => {
    const { url } = await startHeartline();
    const ws = openClient(url);
    const drains = collect(ws, 'drain');
    await waitForEvent(ws, 'open');
    for (let i = 0; i < 5; i++) ws.send(`m${i}`);
    await waitForEvent(ws, 'drain');
    expect(ws.bufferedAmount).toBe(0);
    // A barrier: one more message, one more drain.
    ws.send('m5');
    await waitFor(() => drains.events.length === 2);
  });

  it('fires drain once what was queued before the open went out (plain mode)', async () => {
    const plain = await startServer({ onConnection: () => {} });
    const ws = openClient(plain.url, { session: false });
    ws.send('a');
    ws.send('b');
    const order: string[] = [];
    ws.ondrain = () => order.push('drain'); // the on<type> handler, as for every event
    ws.addEventListener('open', () => order.push('open'));
    await waitForEvent(ws, 'open');
    expect(order).toEqual(['drain', 'open']);
  });
});
