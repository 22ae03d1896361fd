import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodeControl, encodeData, FrameError } from '../../src/protocol/frames.js';
import type { ServerClient } from '../../src/server/index.js';
import {
  awaitConnect,
  type Connect,
  type HandshakeLimits,
} from '../../src/server/session/handshake.js';
import {
  clientFrame,
  rawWebSocket,
  readCloseCode,
  startHeartline,
} from '../support/server-fixtures.js';
import { startServer } from '../support/servers.js';
import { waitFor } from '../support/wait.js';

const TEXT = 0x1;
const connect = encodeControl({ t: 'connect', v: 1 });

/** A raw client and the server side of its socket, handed to `awaitConnect`. */
async function handshakeOf(limits: Partial<HandshakeLimits> = {}) {
  const server = await startServer({ echo: false, pong: false });
  const accepted = server.nextConnection();
  const raw = await rawWebSocket(server.port);
  const { socket } = await accepted;
  const overflows: string[] = [];
  const readErrors: (Error & { code?: string })[] = [];
  const all = {
    timeout: 2_000,
    maxFrames: 10,
    maxBytes: 1_024,
    overflow: (what: string) => overflows.push(what),
    readError: (error: Error & { code?: string }) => readErrors.push(error),
    ...limits,
  };
  return { raw, socket, overflows, readErrors, result: awaitConnect(socket as WebSocket, all) };
}

describe('awaitConnect', () => {
  it('resolves with the connect frame and holds what came in the same TCP write, in order', async () => {
    const { raw, result } = await handshakeOf();
    raw.write(
      Buffer.concat([
        clientFrame(TEXT, Buffer.from(connect)),
        clientFrame(TEXT, Buffer.from(encodeData(1, 'first'))),
        clientFrame(TEXT, Buffer.from(encodeData(2, 'second'))),
      ]),
    );
    const got = (await result) as Connect;
    expect(got.frame).toEqual({ t: 'connect', v: 1 });
    // The two data frames were read from the same chunk, synchronously after connect.
    expect(got.take().map(([data]) => data.toString())).toEqual(['m1:first', 'm2:second']);
  });

  it('answers a FrameError when the first frame is not connect, or none comes in time', async () => {
    const wrong = await handshakeOf();
    wrong.raw.write(clientFrame(TEXT, Buffer.from(encodeData(1, 'too early'))));
    expect(await wrong.result).toMatchObject({
      message: 'expected a connect frame first, got data',
    });
    const late = await handshakeOf({ timeout: 50 });
    const failure = await late.result;
    expect(failure).toBeInstanceOf(FrameError);
    expect((failure as FrameError).message).toBe('no connect frame within 50 ms');
  });

  it('answers null when the socket closes first', async () => {
    const { raw, result } = await handshakeOf();
    raw.destroy();
    expect(await result).toBeNull();
  });

  it('closes with 1008 a client that floods frames before its session is ready, and says so', async () => {
    const { raw, result, overflows } = await handshakeOf({ maxFrames: 2 });
    const frames = [connect, ...['a', 'b', 'c'].map((t, i) => encodeData(i + 1, t))];
    raw.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, Buffer.from(f)))));
    await result;
    expect(await readCloseCode(raw)).toBe(1008);
    expect(overflows).toEqual([
      'sent more than 2 frames or 1024 bytes before its session was ready',
    ]);
  });

  it('closes with 1008 a client that sends more bytes than `maxBytes` before its session is ready', async () => {
    const { raw, result, overflows } = await handshakeOf({ maxBytes: 100 });
    const frames = [connect, encodeData(1, 'x'.repeat(60)), encodeData(2, 'y'.repeat(60))];
    raw.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, Buffer.from(f)))));
    const got = (await result) as Connect;
    expect(await readCloseCode(raw)).toBe(1008);
    expect(overflows).toHaveLength(1);
    expect(got.take()).toEqual([]); // nothing of a flood is handled
  });

  it('passes on what ws could not read after connect, before the session is ready, and holds nothing of it', async () => {
    const { raw, result, overflows, readErrors } = await handshakeOf();
    const frames = [
      Buffer.from(connect),
      Buffer.from(encodeData(1, 'a')),
      Buffer.from([0xc3, 0x28]),
    ];
    raw.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, f))));
    const got = (await result) as Connect;
    expect(await readCloseCode(raw)).toBe(1007);
    expect(readErrors.map((e) => e.code)).toEqual(['WS_ERR_INVALID_UTF8']);
    expect(overflows).toEqual([]);
    expect(got.take()).toEqual([]); // the link is closing: what it held is not handled
  });
});

describe('HeartlineServer session handshake', () => {
  it('hands the app a data frame sent in the same TCP write as connect (nothing lost)', async () => {
    const { server, port } = await startHeartline();
    const received: string[] = [];
    server.on('connection', (client: ServerClient) =>
      client.on('message', (data) => received.push(String(data))),
    );
    const raw = await rawWebSocket(port, '/', ['heartline.plain', 'heartline.v1']);
    raw.write(
      Buffer.concat(
        [connect, encodeData(1, 'a'), encodeData(2, 'b')].map((f) =>
          clientFrame(TEXT, Buffer.from(f)),
        ),
      ),
    );
    raw.resume();
    await waitFor(() => received.length === 2, { message: 'both messages at the app' });
    expect(received).toEqual(['a', 'b']);
  });

  it('reports a client that breaks the rules before its session starts, and counts it', async () => {
    const { server, port } = await startHeartline({ maxPayload: 64 });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const raw = await rawWebSocket(port, '/', ['heartline.plain', 'heartline.v1']);
    raw.write(clientFrame(TEXT, Buffer.alloc(100, 0x61)));
    raw.resume();
    await waitFor(() => errors.length === 1, { message: 'the violation to be reported' });
    expect(errors[0]).toMatchObject({
      code: 'HL_ERR_CLIENT_VIOLATION',
      closeCode: 1009,
      message: expect.stringMatching(/before its session started/),
    });
    expect(server.stats().terminations.message_too_big).toBe(1);
  });
});
