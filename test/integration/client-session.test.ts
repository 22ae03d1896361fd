import { describe, expect, it } from 'vitest';
import type { ErrorEvent, ResumeEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

describe('HeartlineSocket session mode (client side, against a scripted peer)', () => {
  it('stays in plain mode against a default ws server: it selects the plain marker', async () => {
    const server = await startServer();
    const offered: string[] = [];
    server.wss.on('connection', (_s, req) =>
      offered.push(String(req.headers['sec-websocket-protocol'])),
    );
    const ws = openClient(server.url);
    await waitForEvent(ws, 'open');
    expect(offered).toEqual(['heartline.plain,heartline.v1']);
    expect(ws.protocol).toBe('');
    ws.send('plain');
    expect((await waitForEvent<MessageEvent>(ws, 'message')).data).toBe('plain');
  });

  it('offers the app protocols first and reports the one the server chose', async () => {
    const server = await startServer();
    const ws = openClient(server.url, {}, ['chat.v2']);
    await waitForEvent(ws, 'open');
    expect(ws.protocol).toBe('chat.v2');
  });

  it('opens only after the hello, then numbers and sends what was queued', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, {}, ['chat.v2']);
    ws.send('early');
    const [connect] = await peer.frames(0, 1);
    // It offers batches; this peer's hello takes none, so every frame after it comes alone.
    expect(JSON.parse(connect as string)).toEqual({ t: 'connect', v: 1, batch: 1_048_576 });
    expect(ws.state).toBe('connecting');
    peer.links[0]!.socket.send(peer.hello({ protocol: 'chat.v2' }));
    await waitForEvent(ws, 'open');
    expect(ws.protocol).toBe('chat.v2');
    ws.send('later');
    ws.send(new Uint8Array([1, 2]));
    const frames = await peer.frames(0, 4);
    expect(frames.slice(1, 3)).toEqual(['m1:early', 'm2:later']);
    expect([...(frames[3] as Buffer)]).toEqual([...Buffer.from('m3:'), 1, 2]);
  });

  it('delivers each server message once: duplicates and old offsets are dropped, volatile ones pass', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    ws.binaryType = 'arraybuffer';
    await peer.frames(0, 1);
    const link = peer.links[0]!.socket;
    link.send(peer.hello({ offset: 10 }));
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    for (const frame of ['m11:a', 'm11:a', 'm9:old', 'v:cursor', 'm15:b']) link.send(frame);
    link.send(Buffer.concat([Buffer.from('m16:'), Buffer.from([7, 8])]));
    await waitFor(() => messages.events.length === 4);
    expect(messages.events.slice(0, 3).map((e) => e.data)).toEqual(['a', 'cursor', 'b']);
    expect([...new Uint8Array(messages.events[3]!.data as ArrayBuffer)]).toEqual([7, 8]);
  });

  it('resumes with its position and resends what was not acknowledged', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    await peer.open(ws, { offset: 3 });
    ws.send('one');
    ws.send('two');
    ws.send('three');
    await peer.frames(0, 4);
    const acked = waitForEvent<{ count: number; seq: number }>(ws, 'ack');
    peer.links[0]!.socket.send('{"t":"ack","seq":1}');
    expect(await acked).toMatchObject({ count: 1, seq: 1 });
    peer.links[0]!.socket.send('m7:seven');
    await waitForEvent(ws, 'message');
    peer.links[0]!.socket.terminate();
    const [connect] = await peer.frames(1, 1);
    expect(JSON.parse(connect as string)).toEqual({
      t: 'connect',
      v: 1,
      sid: 'S1',
      token: 'K1',
      epoch: 'E1',
      offset: 7,
      sent: 3, // the highest number it sent, for a server that took over from a crashed one
      batch: 1_048_576,
    });
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    peer.links[1]!.socket.send(peer.hello({ offset: 7, resumed: true, ack: 2 }));
    expect(await resumed).toMatchObject({ resumed: true, sessionId: 'S1' });
    const frames = await peer.frames(1, 2);
    expect(frames.slice(1)).toEqual(['m3:three']);
  });

  it('starts a fresh session when the server refuses the resume, renumbering what it resends', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    await peer.open(ws);
    ws.send('a');
    ws.send('b');
    await peer.frames(0, 3);
    peer.links[0]!.socket.terminate();
    await peer.frames(1, 1);
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    peer.links[1]!.socket.send(
      peer.hello({ sid: 'S2', token: 'K2', resumed: false, reason: 'expired', offset: 50 }),
    );
    expect(await resumed).toMatchObject({ resumed: false, reason: 'expired', sessionId: 'S2' });
    expect((await peer.frames(1, 3)).slice(1)).toEqual(['m1:a', 'm2:b']);
  });

  it('answers server pings with pongs and takes their acks, never showing them to the app', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    await peer.frames(0, 1);
    const link = peer.links[0]!.socket;
    link.send(peer.hello());
    await waitForEvent(ws, 'open');
    const messages = collect(ws, 'message');
    link.send('{"t":"ping","ts":123.5,"ack":0}');
    const frames = await peer.frames(0, 2);
    expect(JSON.parse(frames[1] as string)).toEqual({ t: 'pong', ts: 123.5 });
    expect(messages.events).toEqual([]);
  });

  it('falls back to plain mode for good when the server picks heartline.v1 but sends no hello', async () => {
    const peer = await startFakePeer(); // echoes nothing; we make it echo the connect frame
    let links = 0;
    peer.server.wss.on('connection', (s) => {
      links++;
      s.on('message', (d) => s.send(String(d)));
    });
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    const errors = collect<ErrorEvent>(ws, 'error');
    // the link never opened for the app: a failed attempt, retried, not a drop
    const drops = collect(ws, 'drop');
    await waitForEvent(ws, 'reconnecting');
    await waitForEvent(ws, 'open');
    expect(drops.events).toEqual([]);
    expect(errors.events[0]!.error).toMatchObject({ code: 'HL_ERR_PROTOCOL', closeCode: 4426 });
    expect(errors.events[0]!.message).toMatch(
      /expected a hello frame.*later attempts to this URL use plain mode/,
    );
    // the second link offered no heartline.v1, so the peer selected nothing: plain mode
    expect(peer.links[1]!.request.headers['sec-websocket-protocol']).toBeUndefined();
    ws.send('x');
    expect((await waitForEvent<MessageEvent>(ws, 'message')).data).toBe('x');
    expect(links).toBe(2);
  });

  it('closes with 1002 on a malformed frame in a live session', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    await peer.open(ws);
    peer.links[0]!.socket.send('m01:bad');
    const close = await waitForEvent<{ code: number }>(ws, 'close');
    expect(close.code).toBe(1002);
  });

  it('never sends a volatile message that finds the link down, and never replays one', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    await peer.open(ws);
    ws.send('cursor-1', { volatile: true });
    expect((await peer.frames(0, 2))[1]).toBe('v:cursor-1');
    peer.links[0]!.socket.terminate();
    await waitForEvent(ws, 'drop');
    ws.send('cursor-2', { volatile: true });
    await peer.frames(1, 1);
    peer.links[1]!.socket.send(peer.hello({ resumed: true }));
    await waitForEvent(ws, 'open');
    ws.send('after');
    expect((await peer.frames(1, 2)).slice(1)).toEqual(['m1:after']);
  });
});
