/**
 * Fixtures for the HeartlineServer tests: a server on 127.0.0.1 and port 0 that closes itself
 * when the test finishes, `ws` clients that do the same, and a raw TCP client that performs
 * the opening handshake by hand so that a test can send frames `ws` would never send (a
 * fragmented ping) or never read at all (a slow consumer).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { onTestFinished } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import { HeartlineServer, type HeartlineServerOptions } from '../../src/server/index.js';
import { onFrames, upgradeRaw } from './raw-ws.js';
import { waitFor } from './wait.js';

export interface StartedServer<Identity = unknown> {
  readonly server: HeartlineServer<Identity>;
  readonly port: number;
  /** `ws://127.0.0.1:${port}` */
  readonly url: string;
}

/** Starts a HeartlineServer on 127.0.0.1:0 that closes itself when the test finishes. */
export async function startHeartline<Identity = unknown>(
  options: Omit<HeartlineServerOptions<Identity>, 'port' | 'server' | 'noServer'> = {},
): Promise<StartedServer<Identity>> {
  const server = new HeartlineServer<Identity>({
    ...options,
    port: 0,
    host: '127.0.0.1',
  });
  onTestFinished(() => server.close({ deadline: 0 }));
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `ws://127.0.0.1:${port}` };
}

/** A `ws` client that is terminated when the test finishes; errors are the test's to await. */
export function connectWs(url: string, protocols?: string[], options?: ClientOptions): WebSocket {
  const ws = new WebSocket(url, protocols, options);
  ws.on('error', () => {});
  onTestFinished(() => {
    ws.terminate();
  });
  return ws;
}

/** Resolves with the HTTP status a refused upgrade got, and its headers. */
export function refusal(
  ws: WebSocket,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('The upgrade was accepted')));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
  });
}

/** Builds one masked client frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Buffer, { fin = true } = {}): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, 0x80 | length]);
  else if (length < 65_536) header = Buffer.from([first, 0x80 | 126, length >> 8, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

/**
 * Opens a TCP connection and performs the WebSocket opening handshake by hand. Resolves once
 * the 101 response has been read, with the socket paused: nothing more is read from it until
 * the test resumes it, so the server's writes pile up as they would for a client that stopped
 * reading.
 */
export async function rawWebSocket(
  port: number,
  path = '/',
  protocols: readonly string[] = [],
): Promise<net.Socket> {
  const socket = await upgradeRaw(port, { path, protocols });
  onTestFinished(() => {
    socket.destroy();
  });
  return socket;
}

/** Reads server frames from a raw socket until a close frame; resolves with its code. */
export function readCloseCode(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('close', () => reject(new Error('Closed without a close frame')));
    onFrames(socket, (frame) => {
      if (frame.opcode !== 0x8) return true;
      resolve(frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005);
      return false;
    });
  });
}

/** One frame the server sent, as a raw client reads it. */
export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** What a raw client has read so far; see `readFrames`. */
export interface FrameLog {
  readonly frames: ServerFrame[];
  /** The code of the server's close frame, once one came. */
  readonly closeCode: number | undefined;
  /** The reason of that close frame. */
  readonly closeReason: string | undefined;
  /** Text frames that are `heartline.v1` control frames, parsed. */
  controls(): Record<string, unknown>[];
  /** The payloads of text data frames, as text (`m<n>:` headers included). */
  texts(): string[];
}

/**
 * Reads the server's frames from a raw socket from now on (resuming it), into a log that a
 * test waits on. Unlike `readCloseCode` it keeps every frame, and it answers a close frame with
 * one of its own, as every client must (RFC 6455 §5.5.1), so the server ends the link at once.
 */
export function readFrames(socket: net.Socket): FrameLog {
  const frames: ServerFrame[] = [];
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  onFrames(socket, (frame) => {
    frames.push(frame);
    if (frame.opcode === 0x8) {
      closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
      closeReason = frame.payload.subarray(2).toString('utf8');
      if (socket.writable) socket.write(clientFrame(0x8, frame.payload.subarray(0, 2)));
    }
  });
  const text = (f: ServerFrame) => (f.opcode === 0x1 ? f.payload.toString('utf8') : undefined);
  return {
    frames,
    get closeCode() {
      return closeCode;
    },
    get closeReason() {
      return closeReason;
    },
    controls: () =>
      frames.flatMap((f) => {
        const t = text(f);
        return t?.startsWith('{') ? [JSON.parse(t) as Record<string, unknown>] : [];
      }),
    texts: () =>
      frames.flatMap((f) => {
        const t = text(f);
        return t !== undefined && !t.startsWith('{') ? [t] : [];
      }),
  };
}

/** The sub-protocols a `HeartlineSocket` offers when the app has none: session mode. */
export const SESSION_OFFER = ['heartline.plain', 'heartline.v1'] as const;

/**
 * Sends an upgrade request with exactly the headers given (no `Host` unless given) on a new TCP
 * connection; resolves with the status code of the answer, and the socket.
 */
export async function rawUpgrade(
  port: number,
  headers: Readonly<Record<string, string>>,
): Promise<{ status: number; socket: net.Socket }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  const lines = Object.entries({
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`GET / HTTP/1.1\r\n${lines.join('')}\r\n`);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.pause();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0), socket };
}

/** Writes one text message from a raw client (masked, as clients must). */
export function sendText(socket: net.Socket, text: string): void {
  socket.write(clientFrame(0x1, Buffer.from(text)));
}

/** A raw `heartline.v1` link after its handshake: the socket, what it read, and the hello. */
export interface RawSession {
  readonly socket: net.Socket;
  readonly log: FrameLog;
  /** The server's hello (`undefined` when it closed the link instead). */
  readonly hello: Record<string, unknown> | undefined;
}

/**
 * Opens a raw `heartline.v1` link, sends `connect` with `fields` (a resume's sid, token, epoch
 * and offset) and waits for the hello, or for the server to close the link instead. The socket
 * keeps reading; pause it to play a client that stopped reading.
 */
export async function rawSession(
  port: number,
  fields: Readonly<Record<string, unknown>> = {},
): Promise<RawSession> {
  const socket = await rawWebSocket(port, '/', SESSION_OFFER);
  const log = readFrames(socket);
  sendText(socket, JSON.stringify({ t: 'connect', v: 1, ...fields }));
  const hello = () => log.controls().find((c) => c.t === 'hello');
  await waitFor(() => hello() ?? log.closeCode, { message: 'a hello, or a close frame' });
  return { socket, log, hello: hello() };
}

/** The connect fields that resume the session a hello started, from `offset`. */
export function resumeOf(
  hello: Record<string, unknown> | undefined,
  offset = hello?.offset,
): Record<string, unknown> {
  return { sid: hello?.sid, token: hello?.token, epoch: hello?.epoch, offset };
}
