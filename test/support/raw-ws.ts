/**
 * A WebSocket client by hand, for tests that play a client no library would be (one that stops
 * reading, floods, sends what it may not): the opening handshake on a raw TCP socket, and the
 * server's frames split from the bytes read. Free of vitest, so scripts run outside a test
 * (memory-attack.ts) use it too; server-fixtures.ts wraps it for tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';

/** One frame a server sent. */
export interface RawFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

export interface RawUpgradeOptions {
  readonly path?: string;
  readonly protocols?: readonly string[];
  /** An `Origin` header, when given. */
  readonly origin?: string;
}

/**
 * Connects to 127.0.0.1:`port` and runs the opening handshake; resolves once the 101 response
 * has been read, with the socket paused (what follows the headers is given back to the stream),
 * or rejects with the status line of a refusal.
 */
export async function upgradeRaw(
  port: number,
  options: RawUpgradeOptions = {},
): Promise<net.Socket> {
  const { path = '/', protocols = [], origin } = options;
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      (origin ? `Origin: ${origin}\r\n` : '') +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
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

/**
 * Splits the complete server frames (unmasked, RFC 6455 §5.2) off the front of `buffer`;
 * `rest` is the start of the next one.
 *
 * @example
 * const { frames, rest } = splitFrames(Buffer.concat([pending, chunk]));
 */
export function splitFrames(buffer: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  let b = buffer;
  for (;;) {
    if (b.length < 2) break;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) break;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) break;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) break;
    frames.push({ opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) });
    b = b.subarray(offset + length);
  }
  return { frames, rest: b };
}

/**
 * Reads the frames of `socket` from now on (resuming it), calling `onFrame` for each; `onFrame`
 * returns `false` to stop: the socket is paused again, and what was read past that frame is
 * dropped (a client that stops reading there).
 */
export function onFrames(socket: net.Socket, onFrame: (frame: RawFrame) => unknown): void {
  let pending: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    const { frames, rest } = splitFrames(pending.length ? Buffer.concat([pending, chunk]) : chunk);
    pending = rest;
    for (const frame of frames) {
      if (onFrame(frame) !== false) continue;
      socket.off('data', onData);
      socket.pause();
      return;
    }
  };
  socket.on('data', onData);
  socket.resume();
}
