/**
 * Fixtures for the HeartlineServer tests: a server on 127.0.0.1 and port 0 that closes itself
 * when the test finishes, `ws` clients that do the same, and a raw TCP client that performs
 * the opening handshake by hand so that a test can send frames `ws` would never send (a
 * fragmented ping) or never read at all (a slow consumer).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { onTestFinished } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import { HeartlineServer, type HeartlineServerOptions } from '../../src/server/index.js';

export interface StartedServer {
  readonly server: HeartlineServer;
  readonly port: number;
  /** `ws://127.0.0.1:${port}` */
  readonly url: string;
}

/** Starts a HeartlineServer on 127.0.0.1:0 that closes itself when the test finishes. */
export async function startHeartline(
  options: Omit<HeartlineServerOptions, 'port' | 'server' | 'noServer'> = {},
): Promise<StartedServer> {
  const server = new HeartlineServer({
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
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff]);
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
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (protocols.length > 0 ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : '') +
      '\r\n',
  );
  const expected = createHash('sha1')
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      // Bytes after the headers belong to the first frames; give them back to the stream.
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length > 0) socket.unshift(rest);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(expected)) {
        reject(new Error(`Handshake failed: ${head.split('\r\n')[0]}`));
      } else {
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('Closed during the handshake')));
  });
  return socket;
}

/** Reads server frames from a raw socket until a close frame; resolves with its code. */
export function readCloseCode(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        if (opcode === 0x8) {
          socket.off('data', onData);
          resolve(length >= 2 ? buffer.readUInt16BE(offset) : 1005);
          return;
        }
        buffer = buffer.subarray(offset + length);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('Closed without a close frame')));
    socket.resume();
  });
}
