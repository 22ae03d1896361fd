import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { connectWs, startHeartline } from '../support/server-fixtures.js';
import { collect, delay, waitFor, waitForEvent, waitForEventArgs } from '../support/wait.js';

// Two busy cores: detection must land within interval + timeout + one sweep period (15 ms
// here) + this.
const SLACK = 150;
const HEARTBEAT = { interval: 300, timeout: 300 };

describe('HeartlineServer heartbeat', () => {
  it('terminates a client behind a blackholed link within interval + timeout', async () => {
    const { server, port } = await startHeartline({ heartbeat: HEARTBEAT });
    const proxy = await startFaultProxy({ port });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    await waitForEvent(connectWs(proxy.url), 'open');
    const client = await connected;
    await waitFor(() => client.rtt !== undefined, { message: 'a first answered ping' });
    proxy.blackhole();
    const cutAt = performance.now();
    const [code, reason] = await waitForEventArgs(client, 'close', { timeout: 3_000 });
    const detectedIn = performance.now() - cutAt;
    expect([code, reason]).toEqual([4408, 'Heartbeat timeout']);
    expect(detectedIn).toBeLessThan(HEARTBEAT.interval + HEARTBEAT.timeout + 15 + SLACK);
    expect(server.stats().terminations.heartbeat_timeout).toBe(1);
    expect(server.clients.size).toBe(0);
  });

  it('terminates a ws client with `autoPong: false` within interval + timeout', async () => {
    const { server, url } = await startHeartline({ heartbeat: HEARTBEAT });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url, [], { autoPong: false });
    await waitForEvent(ws, 'open');
    const client = await connected;
    const openedAt = performance.now();
    const [code] = await waitForEventArgs(client, 'close', { timeout: 3_000 });
    expect(code).toBe(4408);
    expect(performance.now() - openedAt).toBeLessThan(
      HEARTBEAT.interval + HEARTBEAT.timeout + 15 + SLACK,
    );
    // The server terminated without a closing handshake: the client sees 1006.
    expect(await waitForEvent(ws, 'close')).toBe(1006);
  });

  it('counts any inbound message as proof of life', async () => {
    const { server, url } = await startHeartline({ heartbeat: { interval: 100, timeout: 100 } });
    const ws = connectWs(url, [], { autoPong: false });
    await waitForEvent(ws, 'open');
    for (let i = 0; i < 12; i++) {
      ws.send('still here');
      await delay(50);
    }
    expect(server.clients.size).toBe(1);
    expect(server.stats().terminations.heartbeat_timeout).toBe(0);
  });

  it('answers the text "ping" of classic-snippet clients with "pong" and hides it from the app', async () => {
    const { server, url } = await startHeartline();
    const seen: unknown[] = [];
    server.on('connection', (client) => client.on('message', (data) => seen.push(data)));
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const replies = collect<Buffer>(ws, 'message');
    ws.send('ping');
    await waitFor(() => replies.events.length === 1);
    expect(String(replies.events[0])).toBe('pong');
    expect(seen).toEqual([]);
  });

  it('honors `heartbeat.textPing: false` by passing "ping" to the app', async () => {
    const { server, url } = await startHeartline({ heartbeat: { textPing: false } });
    const seen: unknown[] = [];
    server.on('connection', (client) => client.on('message', (data) => seen.push(data)));
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const replies = collect<Buffer>(ws, 'message');
    ws.send('ping');
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['ping']);
    expect(replies.events).toEqual([]);
  });

  it('keeps a HeartlineSocket with its default "ping"/"pong" heartbeat connected', async () => {
    const { server, url } = await startHeartline({ heartbeat: { interval: 150, timeout: 150 } });
    const socket = openClient(url, { heartbeat: { interval: 100, timeout: 100 } });
    await waitForEvent(socket, 'open');
    const drops = collect(socket, 'drop');
    const beats = collect(socket, 'heartbeat');
    // Counted, not timed: five answered pings span more than both heartbeats' budgets.
    await waitFor(() => beats.events.length >= 5, { message: 'five answered pings' });
    expect(drops.events).toEqual([]);
    const client = [...server.clients.values()][0]!;
    expect(client.rtt).toBeGreaterThanOrEqual(0);
    expect(client.protocol).toBe(''); // it offered heartline.plain, heartline.v1
    expect(socket.protocol).toBe('');
    expect(server.stats().terminations.heartbeat_timeout).toBe(0);
  });

  it('does not ping a client it heard from within the interval; a silent one it does', async () => {
    const { url } = await startHeartline({ heartbeat: { interval: 100, timeout: 500 } });
    const busy = connectWs(url);
    const silent = connectWs(url);
    let busyPings = 0;
    let silentPings = 0;
    busy.on('ping', () => busyPings++);
    silent.on('ping', () => silentPings++);
    await Promise.all([once(busy, 'open'), once(silent, 'open')]);
    const chatter = setInterval(() => busy.send('tick'), 20);
    try {
      // Counted: three pings to the silent one are three sweeps that found the busy one alive.
      await waitFor(() => silentPings >= 3, { message: 'three pings to the silent client' });
    } finally {
      clearInterval(chatter);
    }
    expect(busyPings).toBe(0); // its traffic proved it alive; a ping would be a wasted write
  });
});
