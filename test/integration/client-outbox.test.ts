import { describe, expect, it } from 'vitest';
import { OutboxOverflowError, type OverflowEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

describe('HeartlineSocket outbox', () => {
  it('delivers messages sent while offline once, in order, when the link returns', async () => {
    const received: string[] = [];
    const server = await startServer({
      onConnection: (s) => s.on('message', (d) => received.push(String(d))),
    });
    const proxy = await startFaultProxy({ port: server.port });
    const ws = openClient(proxy.url, { reconnect: { minDelay: 20, maxDelay: 50 } });
    await waitForEvent(ws, 'open');
    ws.send('before');
    await waitFor(() => received.length === 1);
    await proxy.refuse();
    proxy.reset();
    await waitForEvent(ws, 'drop');
    for (let i = 0; i < 200; i++) ws.send(`offline-${i}`);
    expect(ws.bufferedAmount).toBeGreaterThan(0);
    await proxy.accept();
    await waitFor(() => received.length === 201, { timeout: 5000 });
    ws.send('after');
    await waitFor(() => received.length === 202);
    expect(received).toEqual([
      'before',
      ...Array.from({ length: 200 }, (_, i) => `offline-${i}`),
      'after',
    ]);
    expect(ws.bufferedAmount).toBe(0);
  });

  it('queues sends made before the first open and flushes them before the open event', async () => {
    const received: string[] = [];
    const server = await startServer({
      onConnection: (s) => s.on('message', (d) => received.push(String(d))),
    });
    const ws = openClient(server.url);
    ws.send('one');
    ws.send(new Uint8Array([2]));
    ws.addEventListener('open', () => ws.send('three'));
    await waitFor(() => received.length === 3);
    expect(received).toEqual(['one', '\u0002', 'three']);
  });

  it("drops the oldest under 'drop-oldest' and says so with an overflow event", async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    await proxy.refuse();
    const ws = openClient(proxy.url, { outbox: { maxMessages: 2 } });
    const overflows = collect<OverflowEvent>(ws, 'overflow');
    ws.send('a');
    ws.send('b');
    ws.send('c');
    expect(overflows.events).toHaveLength(1);
    expect(overflows.events[0]).toMatchObject({ dropped: ['a'], policy: 'drop-oldest' });
  });

  it("throws OutboxOverflowError under 'reject' and still fires overflow", async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    await proxy.refuse();
    const ws = openClient(proxy.url, { outbox: { maxBytes: 4, overflow: 'reject' } });
    const overflows = collect<OverflowEvent>(ws, 'overflow');
    ws.send('abcd');
    expect(() => ws.send('e')).toThrow(OutboxOverflowError);
    expect(overflows.events[0]).toMatchObject({ dropped: ['e'], policy: 'reject' });
    expect(ws.bufferedAmount).toBe(4);
  });

  it('discards what is sent after close(), counting it in bufferedAmount, as WebSocket does', async () => {
    const heard: string[] = [];
    const server = await startServer({
      onConnection: (socket) => socket.on('message', (data) => heard.push(String(data))),
    });
    const ws = openClient(server.url);
    await waitForEvent(ws, 'open');
    ws.close();
    expect(() => ws.send('12345')).not.toThrow(); // closing
    await waitForEvent(ws, 'close');
    ws.send('678'); // closed
    expect(ws.bufferedAmount).toBe(8);
    ws.reconnect(); // a fresh start: what was discarded stays discarded
    await waitForEvent(ws, 'open');
    expect(ws.bufferedAmount).toBe(0);
    ws.send('barrier');
    await waitFor(() => heard.includes('barrier'));
    expect(heard).toEqual(['barrier']);
  });

  it('throws InvalidStateError on send() while connecting when the outbox is off', async () => {
    const server = await startServer();
    const ws = openClient(server.url, { outbox: false });
    expect(() => ws.send('early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
  });
});
