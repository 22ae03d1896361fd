import { describe, expect, it } from 'vitest';
import type { DropEvent, HeartbeatEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

// Timing tolerance for two busy cores: detection must land within interval + timeout + this.
const SLACK = 150;

describe('HeartlineSocket heartbeat', () => {
  it('detects a blackholed link within interval + timeout and reconnects', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    const ws = openClient(proxy.url, { heartbeat: { interval: 200, timeout: 200 } });
    await waitForEvent(ws, 'open');
    await waitForEvent(ws, 'heartbeat'); // the link is proven once, so the clock starts from a pong
    proxy.blackhole();
    const cutAt = performance.now();
    const drop = await waitForEvent<DropEvent>(ws, 'drop', { timeout: 2000 });
    const detectedIn = performance.now() - cutAt;
    expect(drop.code).toBe(4408);
    expect(drop.name).toBe('HeartbeatTimeout');
    expect(drop.cause).toBe('heartbeat_timeout');
    expect(drop.willReconnect).toBe(true);
    expect(detectedIn).toBeLessThan(200 + 200 + SLACK);
    await waitForEvent(ws, 'open', { timeout: 2000 });
    expect(ws.readyState).toBe(ws.OPEN);
    expect(proxy.accepted).toBe(2);
  });

  it('detects a server that accepts but never answers', async () => {
    const server = await startServer({ silent: true });
    const ws = openClient(server.url, {
      heartbeat: { interval: 100, timeout: 100 },
      reconnect: false,
    });
    await waitForEvent(ws, 'open');
    const drop = await waitForEvent<DropEvent>(ws, 'drop', { timeout: 1000 });
    expect(drop.code).toBe(4408);
    expect(drop.willReconnect).toBe(false);
    expect(ws.state).toBe('closed');
  });

  it('counts any inbound message as proof of life: a server that echoes "ping" is alive', async () => {
    const server = await startServer({ pong: false }); // echoes "ping" back, never says "pong"
    const connected = server.nextConnection();
    // The text ping, as a classic snippet's server expects it (in Node the default pings at the
    // protocol level).
    const ws = openClient(server.url, { heartbeat: { interval: 50, timeout: 50, ping: 'ping' } });
    const drops = collect(ws, 'drop');
    const { socket } = await connected;
    let pings = 0;
    socket.on('message', (d) => String(d) === 'ping' && pings++);
    // Five pings answered by their echo alone: had only a pong counted, the first would have
    // ended the link within its 50 ms timeout.
    await Promise.race([
      waitFor(() => pings >= 5, { message: 'five pings on the first link' }),
      waitForEvent(ws, 'drop'),
    ]);
    expect(drops.events).toEqual([]);
    expect(ws.state).toBe('open');
  });

  it('keeps a busy one-way stream alive without pings', async () => {
    const server = await startServer({
      onConnection: (socket) => {
        const timer = setInterval(() => socket.send('tick'), 10);
        socket.on('close', () => clearInterval(timer));
      },
    });
    const ws = openClient(server.url, {
      heartbeat: { interval: 100, timeout: 50, ping: 'never-sent' },
    });
    const received: string[] = [];
    server.wss.on('connection', (s) => s.on('message', (d) => received.push(String(d))));
    const ticks = collect(ws, 'message');
    // 20 ticks span more than interval + timeout; the barrier follows any ping sent meanwhile.
    await waitFor(() => ticks.events.length >= 20, { message: '20 ticks' });
    ws.send('barrier');
    await waitFor(() => received.includes('barrier'), { message: 'the barrier at the server' });
    expect(received).toEqual(['barrier']);
    expect(ws.state).toBe('open');
  });

  it('consumes pongs, exposes the RTT and fires heartbeat events', async () => {
    const server = await startServer();
    const ws = openClient(server.url, { heartbeat: { interval: 50, timeout: 500 } });
    const messages = collect(ws, 'message');
    const beat = await waitForEvent<HeartbeatEvent>(ws, 'heartbeat');
    expect(beat.rtt).toBeGreaterThanOrEqual(0);
    expect(beat.rtt).toBeLessThan(500);
    expect(ws.rtt).toBe(beat.rtt);
    await waitForEvent(ws, 'heartbeat');
    expect(messages.events).toEqual([]);
  });

  it('honors a ping function and a custom isPong', async () => {
    const server = await startServer({ pong: false });
    const ws = openClient(server.url, {
      heartbeat: {
        interval: 50,
        timeout: 500,
        ping: () => JSON.stringify({ type: 'ping', at: Date.now() }),
        isPong: (d) => typeof d === 'string' && d.startsWith('{') && JSON.parse(d).type === 'ping', // the echo
      },
    });
    const beat = await waitForEvent<HeartbeatEvent>(ws, 'heartbeat');
    expect(beat.rtt).toBeGreaterThanOrEqual(0);
  });

  it('sends a binary ping when given one', async () => {
    const server = await startServer();
    const got: boolean[] = [];
    server.wss.on('connection', (s) => s.on('message', (_d, isBinary) => got.push(isBinary)));
    const ws = openClient(server.url, {
      heartbeat: {
        interval: 30,
        timeout: 500,
        ping: new Uint8Array([1]),
        isPong: (d) => (d as Buffer)[0] === 1,
      },
    });
    await waitForEvent(ws, 'heartbeat');
    expect(got[0]).toBe(true);
  });

  it('honors heartbeat: false: no ping is ever sent and "pong" is delivered', async () => {
    const server = await startServer();
    const received: string[] = [];
    server.wss.on('connection', (s) => s.on('message', (d) => received.push(String(d))));
    const ws = openClient(server.url, { heartbeat: false });
    await waitForEvent(ws, 'open');
    ws.send('ping'); // the test server answers "pong"
    const message = await waitForEvent<MessageEvent>(ws, 'message');
    expect(String(message.data)).toBe('pong');
    ws.send('barrier'); // echoed after anything the client sent before it
    await waitForEvent(ws, 'message', { filter: (e: MessageEvent) => e.data === 'barrier' });
    expect(received).toEqual(['ping', 'barrier']);
  });

  it('reports a throwing ping function and still detects the dead link', async () => {
    const server = await startServer({ silent: true });
    const ws = openClient(server.url, {
      heartbeat: {
        interval: 30,
        timeout: 60,
        ping: () => {
          throw new Error('boom');
        },
      },
      reconnect: false,
    });
    const error = await waitForEvent<ErrorEvent>(ws, 'error');
    expect(error.message).toBe('heartbeat.ping threw');
    await waitForEvent(ws, 'close', { timeout: 1000 });
    await waitFor(() => ws.state === 'closed');
  });
});
