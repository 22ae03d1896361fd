/**
 * Batch frames (PROTOCOL.md "Batches"): what one end writes to a link in one turn leaves in one
 * WebSocket message, each frame inside handled as if it had come alone; only when both ends said
 * so in connect and hello.
 */
import { describe, expect, it } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import type { ResumeEvent } from '../../src/client/index.js';
import { decodeBatch, encodeBatch, isBatch } from '../../src/protocol/batch.js';
import { encodeData } from '../../src/protocol/frames.js';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import {
  clientFrame,
  type FrameLog,
  rawSession,
  resumeOf,
  sendText,
  startHeartline,
} from '../support/server-fixtures.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const BINARY = 0x2;
const fast = { reconnect: { minDelay: 5, maxDelay: 20 } } as const;
const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A `ws` WebSocket class that records what a HeartlineSocket sends and receives on the wire. */
function tap() {
  const sent: (string | Uint8Array)[] = [];
  const received: (string | Buffer)[] = [];
  class Tap extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, options);
      this.on('message', (data: Buffer, isBinary) =>
        received.push(isBinary ? data : data.toString()),
      );
    }
    override send(data: never, ...rest: never[]): void {
      sent.push(data);
      super.send(data, ...rest);
    }
  }
  return { Tap, sent, received };
}

/** A `ws` WebSocket class that records each write to its TCP socket once it is open. */
function tcpTap() {
  const writes: number[] = [];
  class Tap extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, options);
      this.once('open', () => {
        const socket = (this as unknown as { _socket: Record<string, Function> })._socket;
        for (const name of ['_write', '_writev']) {
          const original = socket[name]!;
          socket[name] = function (this: unknown, ...args: unknown[]) {
            writes.push(1);
            return original.apply(this, args);
          };
        }
      });
    }
  }
  return { Tap, writes };
}

/** The frames of a raw link's text messages after the hello, batches unwrapped. */
function unwrapped(log: FrameLog): string[] {
  return log.texts().flatMap((t) => (isBatch(t) ? (decodeBatch(t) as string[]) : [t]));
}

/** A HeartlineServer that echoes every message, and what it received. */
async function echoServer(options: Parameters<typeof startHeartline>[0] = {}) {
  const started = await startHeartline({ heartbeat: false, ...options });
  const received: string[] = [];
  started.server.on('connection', (client) =>
    client.on('message', (data) => {
      received.push(String(data));
      client.send(data);
    }),
  );
  return { ...started, received };
}

/** A HeartlineSocket whose wire is tapped, open on a HeartlineServer, and the server's client. */
async function tappedPair() {
  const { server, url } = await startHeartline({ heartbeat: false });
  const connected = waitForEvent<ServerClient>(server, 'connection');
  const { Tap, sent, received } = tap();
  const ws = openClient(url, { WebSocket: Tap as never });
  await waitForEvent(ws, 'open');
  return { ws, client: await connected, sent, received };
}

function errorsOf(server: { on(e: 'error', f: (error: Error) => void): unknown }): Error[] {
  const errors: Error[] = [];
  server.on('error', (error) => errors.push(error));
  return errors;
}

describe('batch frames between HeartlineSocket and HeartlineServer', () => {
  it('sends the messages of one turn in one frame each way, delivered one message each, in order', async () => {
    const { url, received } = await echoServer();
    const { Tap, sent, received: wire } = tap();
    const ws = openClient(url, { WebSocket: Tap as never });
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    for (const text of range(200, 'c')) ws.send(text);
    await waitFor(() => messages.events.length === 200, { message: '200 echoes' });
    expect(received).toEqual(range(200, 'c'));
    expect(messages.events.map((e) => e.data)).toEqual(range(200, 'c'));
    // On the wire: connect, then one batch of the 200 numbered frames.
    expect(sent).toHaveLength(2);
    expect(decodeBatch(sent[1]!)).toEqual(range(200, 'c').map((t, i) => encodeData(i + 1, t)));
    // The server's echoes came in batches too, with their offsets (and the acks among them).
    const batches = wire.filter((w) => isBatch(w));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(10);
  });

  it('batches binary and text together, and keeps each message binary or text', async () => {
    const { server, url } = await startHeartline({ heartbeat: false });
    const fromClient: [string, boolean][] = [];
    server.on('connection', (client) =>
      client.on('message', (data, isBinary) => {
        fromClient.push([isBinary ? `bytes ${[...(data as Buffer)]}` : String(data), isBinary]);
        client.send(isBinary ? Buffer.from(data as Buffer) : String(data));
      }),
    );
    const { Tap, sent } = tap();
    const ws = openClient(url, { WebSocket: Tap as never });
    ws.binaryType = 'arraybuffer';
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    ws.send('é');
    ws.send(new Uint8Array([0, 0x3b, 255]));
    ws.send('😀');
    await waitFor(() => messages.events.length === 3, { message: 'three echoes' });
    expect(fromClient).toEqual([
      ['é', false],
      ['bytes 0,59,255', true],
      ['😀', false],
    ]);
    const data = messages.events.map((e) => e.data);
    expect([data[0], [...new Uint8Array(data[1] as ArrayBuffer)], data[2]]).toEqual([
      'é',
      [0, 0x3b, 255],
      '😀',
    ]);
    expect(sent[1]).toBeInstanceOf(Uint8Array); // one binary batch
    expect(sent).toHaveLength(2);
  });

  it('sends one message alone as a plain frame, not as a batch of one', async () => {
    const { ws, client, sent, received } = await tappedPair();
    ws.send('alone');
    await waitForEvent(ws, 'ack');
    expect(sent.slice(1)).toEqual(['m1:alone']);
    // The ack came alone too (nothing else left in that turn); and so does the server's message.
    expect(received.slice(1)).toEqual(['{"t":"ack","seq":1}']);
    const message = waitForEvent(ws, 'message');
    client.send('alone');
    await message;
    expect(received.slice(2)).toEqual([expect.stringMatching(/^m\d+:alone$/)]);
  });

  it('delivers exactly once, in order, both ways, when the link is replaced in the middle of a batch', async () => {
    const { url, received: atServer } = await echoServer();
    const ws = openClient(url, fast);
    await waitForEvent(ws, 'open');
    const n = 3_000;
    const received: string[] = [];
    let atResume = -1;
    ws.addEventListener('resume', () => {
      atResume = received.length;
    });
    ws.addEventListener('message', (e) => {
      received.push(String(e.data));
      // In the middle of a batch: the rest of it is not delivered on this link, and what the
      // server handled is not acknowledged yet.
      if (received.length === 1_000) ws.reconnect();
    });
    for (const text of range(n, 'c')) ws.send(text);
    await waitFor(() => received.length >= n && atServer.length >= n, {
      message: 'every message both ways',
      timeout: 10_000,
    });
    expect(atResume).toBe(1_000); // the rest came after the resume: replayed, or new
    expect(received).toEqual(range(n, 'c'));
    expect(atServer).toEqual(range(n, 'c'));
  });

  it('delivers exactly once, in order, both ways, when the network cuts the link under batches', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const proxy = await startFaultProxy({ port });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    // An outbox that holds the whole run: what the default bounds drop is another matter.
    const ws = openClient(proxy.url, { ...fast, outbox: { maxMessages: 20_000 } });
    const client = await connected;
    const fromClient: string[] = [];
    client.on('message', (data) => fromClient.push(String(data)));
    await waitForEvent(ws, 'open');
    const received: string[] = [];
    const n = 5_000;
    ws.addEventListener('message', (e) => {
      received.push(String(e.data));
      if (received.length === 500) {
        proxy.blackhole(); // what the proxy has not forwarded yet is lost
        proxy.reset();
      }
    });
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    // Both ends stream batches of 100 a turn, so that some are in flight when the cut comes.
    for (let i = 0; i < n; i += 100) {
      for (const text of range(n, 'c').slice(i, i + 100)) ws.send(text);
      for (const text of range(n, 's').slice(i, i + 100)) client.send(text);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await resumed).toMatchObject({ resumed: true });
    await waitFor(() => received.length >= n && fromClient.length >= n, {
      message: 'every message both ways',
      timeout: 10_000,
    });
    expect(received).toEqual(range(n, 's'));
    expect(fromClient).toEqual(range(n, 'c'));
  });
});

describe('requests in batches', () => {
  it('carries a turn of requests each way in batches, each handled and answered once', async () => {
    const { ws, client, sent, received } = await tappedPair();
    const handled: string[] = [];
    client.on('request', (data) => {
      handled.push(String(data));
      return `re ${data}`;
    });
    ws.addEventListener('request', (e) => e.respondWith(`client re ${e.data}`));
    const asks = range(100, 'q');
    const replies = await Promise.all(asks.map((q) => ws.request(q)));
    expect(replies).toEqual(asks.map((q) => `re ${q}`));
    expect(handled).toEqual(asks);
    const back = await Promise.all(asks.map((q) => client.request(q)));
    expect(back).toEqual(asks.map((q) => `client re ${q}`));
    // Each way, the 100 requests (and then the 100 answers) left in a few batches, not 100 frames.
    expect(sent.filter((s) => isBatch(s)).length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(10);
    expect(received.filter((r) => isBatch(r)).length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(10);
  });
});

describe('batch negotiation', () => {
  it('never sends a batch to a server whose hello did not offer them', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    await peer.frames(0, 1);
    peer.links[0]!.socket.send(peer.hello());
    await waitForEvent(ws, 'open');
    for (const text of ['a', 'b', 'c']) ws.send(text);
    const frames = await peer.frames(0, 4);
    expect(frames.slice(1)).toEqual(['m1:a', 'm2:b', 'm3:c']);
  });

  it('sends batches to a server whose hello offered them, and unwraps the server’s', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    await peer.frames(0, 1);
    const link = peer.links[0]!.socket;
    link.send(peer.hello({ batch: 64 }));
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    for (const text of ['a', 'b', 'c']) ws.send(text);
    ws.send('x'.repeat(60)); // too big for a batch of 64 bytes: alone, after the others
    const frames = await peer.frames(0, 3);
    expect(frames.slice(1)).toEqual(['b4:m1:a4:m2:b4:m3:c', `m4:${'x'.repeat(60)}`]);
    link.send(encodeBatch(['m1:one', 'v:two', '{"t":"ack","seq":2}', 'm5:three']));
    await waitFor(() => messages.events.length === 3, { message: 'the batch, unwrapped' });
    expect(messages.events.map((e) => e.data)).toEqual(['one', 'two', 'three']);
  });

  it('closes with 1002 a link whose server sends a batch it never offered', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: false });
    await peer.frames(0, 1);
    const link = peer.links[0]!.socket;
    link.send(peer.hello());
    await waitForEvent(ws, 'open');
    const errors = collect<ErrorEvent>(ws, 'error');
    link.send(encodeBatch(['m1:a', 'm2:b']));
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(1002);
    expect(String(errors.events[0]?.error?.message)).toContain('start with m<number>: or v:');
  });

  it('closes with 1002 a link whose server sends a malformed batch, delivering none of it', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: false });
    await peer.frames(0, 1);
    const link = peer.links[0]!.socket;
    link.send(peer.hello({ batch: 1024 }));
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    link.send('b4:m1:a9:m2:b');
    const close = await waitForEvent<CloseEvent>(ws, 'close');
    expect(close.code).toBe(1002);
    expect(messages.events).toEqual([]);
  });

  it('drops, frame by frame, what a resumed session already had, inside a batch too', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, fast);
    await peer.frames(0, 1);
    peer.links[0]!.socket.send(peer.hello({ batch: 1024 }));
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    peer.links[0]!.socket.send(encodeBatch(['m1:a', 'm2:b', 'm3:c']));
    await waitFor(() => messages.events.length === 3);
    peer.links[0]!.socket.terminate();
    const [connect] = await peer.frames(1, 1);
    expect(JSON.parse(connect as string)).toMatchObject({ offset: 3, batch: 1_048_576 });
    peer.links[1]!.socket.send(peer.hello({ resumed: true, offset: 1, batch: 1024 }));
    await waitForEvent(ws, 'resume');
    peer.links[1]!.socket.send(encodeBatch(['m2:b', 'm3:c', 'm4:d']));
    await waitFor(() => messages.events.length === 4);
    expect(messages.events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never sends a batch to a client whose connect did not offer them', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const old = await rawSession(port);
    expect(old.hello).not.toHaveProperty('batch');
    const client = await connected;
    for (const text of range(20, 's')) client.send(text);
    await waitFor(() => old.log.texts().length === 20, { message: '20 plain frames' });
    expect(old.log.texts()).toEqual(range(20, 's').map((t, i) => `m${i + 1}:${t}`));
  });

  it('sends batches to a client whose connect offered them, within its limit', async () => {
    const { server, port } = await startHeartline({ heartbeat: false, maxPayload: 4096 });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const raw = await rawSession(port, { batch: 64 });
    expect(raw.hello).toMatchObject({ batch: 4096 }); // what the server takes: its maxPayload
    const client = await connected;
    for (const text of range(20, 's')) client.send(text);
    await waitFor(() => unwrapped(raw.log).length === 20, { message: '20 frames' });
    expect(unwrapped(raw.log)).toEqual(range(20, 's').map((t, i) => `m${i + 1}:${t}`));
    const batches = raw.log.texts().filter((t) => isBatch(t));
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(64);
  });

  it('replays a resumed session in batches, and the client takes them', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const first = await rawSession(port, { batch: 65_536 });
    const client = await connected;
    first.socket.destroy();
    await waitFor(() => client.state === 'detached');
    for (const text of range(2_000, 's')) client.send(text);
    const second = await rawSession(port, { ...resumeOf(first.hello), batch: 65_536 });
    expect(second.hello).toMatchObject({ resumed: true });
    await waitFor(() => unwrapped(second.log).length === 2_000, { message: 'the replay' });
    expect(unwrapped(second.log)).toEqual(range(2_000, 's').map((t, i) => `m${i + 1}:${t}`));
    const batches = second.log.texts().filter((t) => isBatch(t));
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(16 * 1024);
  });
});

describe('HeartlineServer: inbound batches', () => {
  /** A raw client that offered batches, and the server's client for it. */
  async function batchSession(options: Parameters<typeof startHeartline>[0] = {}) {
    const { server, port } = await startHeartline({ heartbeat: false, ...options });
    const errors = errorsOf(server);
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const raw = await rawSession(port, { batch: 65_536 });
    const client = await connected;
    const received: unknown[] = [];
    client.on('message', (data, isBinary) =>
      received.push(isBinary ? [...(data as Buffer)] : String(data)),
    );
    return { server, raw, client, received, errors };
  }

  it('hands each frame of a batch to the app as one message, and acknowledges them', async () => {
    const { raw, received } = await batchSession();
    sendText(raw.socket, encodeBatch(['m1:a', 'm2:b', '{"t":"ping","ts":5}', 'v:c']) as string);
    raw.socket.write(
      clientFrame(BINARY, Buffer.from(encodeBatch([encodeData(3, new Uint8Array([7])), 'm4:é']))),
    );
    await waitFor(() => received.length === 5, { message: 'five messages' });
    expect(received).toEqual(['a', 'b', 'c', [7], 'é']);
    // The ack and the pong leave with the turn's replies: in a batch.
    const controls = () =>
      raw.log.frames
        .filter((f) => f.opcode === 0x1)
        .flatMap((f) => {
          const t = f.payload.toString('utf8');
          return isBatch(t) ? (decodeBatch(t) as string[]) : [t];
        })
        .filter((t) => t.startsWith('{'))
        .map((t) => JSON.parse(t) as Record<string, unknown>);
    await waitFor(() => controls().some((c) => c.t === 'ack' && c.seq === 4));
    expect(controls()).toContainEqual({ t: 'pong', ts: 5 });
  });

  it('applies the numbering rules frame by frame: duplicates dropped, a gap is 1002', async () => {
    const { raw, received, errors } = await batchSession();
    sendText(raw.socket, encodeBatch(['m1:a', 'm2:b']) as string);
    sendText(raw.socket, encodeBatch(['m2:b', 'm3:c', 'm5:e', 'm6:f']) as string);
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(1002);
    expect(received).toEqual(['a', 'b', 'c']);
    expect(errors[0]!.message).toMatch(/numbered a message 5 after 3/);
  });

  it.each([
    ['a malformed batch', 'b4:m1:a9:m2:b', 1002, /a batch is b and 1 to 1024 frames/],
    [
      `a batch of 1,025 frames`,
      encodeBatch(Array.from({ length: 1_025 }, (_, i) => encodeData(i + 1, ''))) as string,
      1002,
      /1 to 1024 frames/,
    ],
  ])('closes with %s with 1002, handing none of it to the app', async (_, batch, code, what) => {
    const { raw, received, errors } = await batchSession();
    sendText(raw.socket, batch);
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(code);
    expect(received).toEqual([]);
    expect(errors[0]!.message).toMatch(what);
  });

  it('closes with 1007 a binary batch whose text frame is not UTF-8', async () => {
    const { raw, received } = await batchSession();
    const bad = Buffer.concat([Buffer.from('b5:m1:'), Buffer.from([0xc3, 0x28])]);
    raw.socket.write(clientFrame(BINARY, bad));
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(1007);
    expect(received).toEqual([]);
  });

  it('bounds a batch as one message by maxPayload: 1009', async () => {
    const { server, raw, received } = await batchSession({ maxPayload: 1_024 });
    const frames = Array.from({ length: 40 }, (_, i) => encodeData(i + 1, 'x'.repeat(30)));
    const batch = encodeBatch(frames) as string;
    expect(batch.length).toBeGreaterThan(1_024);
    sendText(raw.socket, batch);
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(1009);
    expect(received).toEqual([]);
    // Counted when the server's socket closes, which may come just after its close frame.
    await waitFor(() => server.stats().terminations.message_too_big === 1, {
      message: 'the termination counted',
    });
  });

  it('counts every frame of a batch against rateLimit', async () => {
    const { raw, received } = await batchSession({
      rateLimit: { messages: 5, interval: 10_000 },
    });
    sendText(raw.socket, encodeBatch(range(8, 'm').map((t, i) => encodeData(i + 1, t))) as string);
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(1008);
    expect(received).toEqual(range(5, 'm'));
  });

  it('closes with 1002 a batch from a client whose connect did not offer them', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const errors = errorsOf(server);
    const old = await rawSession(port);
    sendText(old.socket, encodeBatch(['m1:a', 'm2:b']) as string);
    await waitFor(() => old.log.closeCode, { message: 'the close' });
    expect(old.log.closeCode).toBe(1002);
    expect(errors[0]!.message).toMatch(/must be a control frame or start with m<number>: or v:/);
  });

  it('writes what a turn gathered before the close frame of that turn', async () => {
    const { raw, client } = await batchSession();
    client.send('one');
    client.send('two');
    client.close(4000, 'bye');
    await waitFor(() => raw.log.closeCode, { message: 'the close' });
    expect(raw.log.closeCode).toBe(4000);
    expect(unwrapped(raw.log)).toEqual(['m1:one', 'm2:two']);
  });
});

describe('HeartlineSocket: what one turn writes', () => {
  it('writes what a turn gathered before its close frame', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url);
    await peer.frames(0, 1);
    peer.links[0]!.socket.send(peer.hello({ batch: 1024 }));
    await waitForEvent(ws, 'open');
    const closed = waitForEvent<CloseEvent>(ws, 'close');
    ws.send('one');
    ws.send('two');
    ws.close(4000, 'bye');
    const frames = await peer.frames(0, 2);
    expect(frames[1]).toBe('b6:m1:one6:m2:two');
    expect((await closed).code).toBe(4000);
  });

  it('sends the frames of one turn in one TCP write, in plain mode too', async () => {
    const { server, url } = await startHeartline({ heartbeat: false, resume: false });
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const { Tap, writes } = tcpTap();
    const ws = openClient(url, { WebSocket: Tap as never, session: false, heartbeat: false });
    await waitForEvent(ws, 'open');
    const received = collect<string>(await connected, 'message');
    const before = writes.length;
    for (const text of range(50, 'p')) ws.send(text);
    await waitFor(() => received.events.length === 50, { message: '50 messages' });
    expect(received.events.map(String)).toEqual(range(50, 'p'));
    expect(writes.length - before).toBe(1);
  });

  it('splits a long turn into batches of at most 16 KiB', async () => {
    const { url } = await echoServer();
    const { Tap, sent } = tap();
    const ws = openClient(url, { WebSocket: Tap as never });
    await waitForEvent(ws, 'open');
    const messages = collect<MessageEvent>(ws, 'message');
    for (const text of range(2_000, 'message number ')) ws.send(text);
    await waitFor(() => messages.events.length === 2_000, { message: '2,000 echoes' });
    expect(messages.events.map((e) => e.data)).toEqual(range(2_000, 'message number '));
    const batches = sent.slice(1);
    expect(batches.length).toBeGreaterThan(2);
    for (const b of batches) expect(Buffer.byteLength(b as string)).toBeLessThanOrEqual(16_384);
    expect(batches.flatMap((b) => decodeBatch(b))).toHaveLength(2_000);
  });
});
