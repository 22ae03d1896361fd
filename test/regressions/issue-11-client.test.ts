/**
 * Issue 11 ("Hardening: every buffer bounded on every path, every protocol edge answered"):
 * the client's items, each failing before its fix. The server's are in issue-11.test.ts.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type {
  CloseEvent,
  ErrorEvent,
  ProtocolError,
  ReconnectingEvent,
  StateChangeEvent,
} from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 20, maxDelay: 200 } } as const;

describe('issue 11: the client end of heartline.v1', () => {
  it('answers a heartline.v1 server that never says hello with 4426 and an error, then uses plain mode', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { ...fast.reconnect, connectTimeout: 300 } });
    const errors = collect<ErrorEvent>(ws, 'error');
    const moves = collect<StateChangeEvent>(ws, 'statechange');
    await waitForEvent<ReconnectingEvent>(ws, 'reconnecting');
    expect(moves.events.map((e) => e.cause)).toEqual(['session_error']);
    expect(errors.events).toHaveLength(1);
    const error = errors.events[0]!.error as ProtocolError;
    expect(error).toMatchObject({ name: 'ProtocolError', closeCode: 4426 });
    expect(error.message).toMatch(/sent no hello within 300 ms; later attempts .* plain mode/);
    // The fake peer selects heartline.v1 only when offered: now it is not, and the link opens.
    await waitForEvent(ws, 'open');
    expect(ws.mode).toBe('plain');
    expect(peer.links[1]!.request.headers['sec-websocket-protocol']).toBeUndefined();
  });

  it('opens in plain mode against a ws server that selects no sub-protocol', async () => {
    // ws, as a client, refuses a 101 without the sub-protocol it offered: the offer must go.
    const server = await startServer({ handleProtocols: () => false });
    const ws = openClient(server.url, fast);
    const drops = collect(ws, 'drop');
    await waitForEvent(ws, 'open');
    expect(ws.mode).toBe('plain');
    expect(drops.events).toEqual([]);
  });

  it.each([
    ['0', 20],
    ['2147483647', 200],
  ])('clamps a retry-after=%s hint to [minDelay, maxDelay]', async (hint, expected) => {
    let n = 0;
    const server = await startServer({
      onConnection: (socket) => n++ === 0 && socket.close(1013, `busy; retry-after=${hint}`),
    });
    const ws = openClient(server.url, fast);
    const scheduled = await waitForEvent<ReconnectingEvent>(ws, 'reconnecting');
    expect(scheduled).toMatchObject({ delay: expected, serverHint: true });
  });

  it.each([
    // Long, but under any bound a frame parser puts on a whole control frame (a hello that
    // fails parseFrame is no hello at all: 4426 and plain mode, PROTOCOL.md).
    ['a hello whose protocol was not offered', (p: Peer) => p.hello({ protocol: 'x'.repeat(300) })],
    ['a hello with a 300-character reason', (p: Peer) => p.hello({ reason: 'x'.repeat(300) })],
  ])('closes with 1002 and an error on %s', async (_what, hello) => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, fast);
    await peer.frames(0, 1);
    const errors = collect<ErrorEvent>(ws, 'error');
    peer.links[0]!.socket.send(hello(peer));
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(1002);
    expect(errors.events).toHaveLength(1);
    expect((errors.events[0]!.error as Error).message.length).toBeLessThan(200);
    expect(await waitForEvent(peer.links[0]!.socket, 'close')).toBe(1002);
  });

  it.each([
    ['an ack above the highest sequence number sent', '{"t":"ack","seq":3}'],
    ['a ping whose ack is above it', '{"t":"ping","ts":1,"ack":3}'],
    // parseFrame already refused this one (1e999 parses as Infinity); kept as a guard.
    ['a ping whose ts is not finite', '{"t":"ping","ts":1e999}'],
  ])('closes a live session with 1002 and an error on %s', async (_what, frame) => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, fast);
    await peer.open(ws);
    ws.send('one');
    ws.send('two');
    await peer.frames(0, 3);
    const errors = collect<ErrorEvent>(ws, 'error');
    peer.links[0]!.socket.send(frame);
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(1002);
    expect(errors.events.map((e) => (e.error as ProtocolError).closeCode)).toEqual([1002]);
  });

  // A guard for the bound above: an ack up to the highest number sent is no violation.
  it('takes an ack up to the highest sequence number sent', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, fast);
    await peer.open(ws);
    ws.send('one');
    ws.send('two');
    await peer.frames(0, 3);
    const acked = waitForEvent(ws, 'ack');
    peer.links[0]!.socket.send('{"t":"ack","seq":2}');
    expect(await acked).toMatchObject({ count: 2, seq: 2 });
    expect(ws.state).toBe('open');
  });
});

describe('issue 11: the client says why', () => {
  it('fires an error when an attempt times out, not only a statechange', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    proxy.blackhole({ newConnections: true });
    const ws = openClient(proxy.url, { reconnect: { connectTimeout: 100, maxRetries: 0 } });
    const errors = collect<ErrorEvent>(ws, 'error');
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(4504);
    expect(errors.events.map((e) => e.message)).toEqual([
      `${proxy.url}/: no connection within connectTimeout (100 ms)`,
    ]);
  });

  it('prints what a listener threw when nothing listens for it', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => printed.mockRestore());
    const server = await startServer();
    const ws = openClient(server.url);
    const bug = new TypeError('cannot read properties of undefined');
    ws.onopen = () => {
      throw bug;
    };
    await waitFor(() => printed.mock.calls.length > 0);
    expect(printed.mock.calls[0]).toEqual(['HeartlineSocket: A "open" listener threw:', bug]);
  });
});

type Peer = Awaited<ReturnType<typeof startFakePeer>>;
