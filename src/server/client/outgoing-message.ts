import { invalid } from '../../common/validate.js';
import type { CallKind } from '../../protocol/frames.js';

/** What the server can send: text, or binary data in any of Node's and the web's shapes. */
export type MessageData = string | Buffer | ArrayBuffer | ArrayBufferView;

/**
 * A message encoded once, ready to be written to any number of sockets. `ws` frames a Buffer
 * without copying it (no masking on the server side, compression off), so every recipient
 * shares these bytes and costs only its own 2–10 byte frame header.
 */
export interface PreparedMessage {
  /** The payload bytes (UTF-8 for text). */
  readonly data: Buffer;
  /** Sent as a binary frame (opcode 2) rather than text (opcode 1). */
  readonly binary: boolean;
  /** Session mode: its offset in the replay log, once appended (reliable messages only). */
  offset?: number;
  /** Session mode: the `m<offset>:` or `v:` frame, built once for every session recipient. */
  framed?: Buffer;
  /**
   * A request, reply or failure (PROTOCOL.md "Requests"): its frame starts with this letter
   * instead of `m`, and `data` begins with its `<id>:`.
   */
  readonly kind?: CallKind;
}

const EXPECTED = 'a string, Buffer, ArrayBuffer or ArrayBufferView';

/**
 * Encodes `data` once: strings become UTF-8 bytes sent as text, anything binary is wrapped
 * without a copy and sent as binary.
 *
 * @example
 * const message = prepareMessage(JSON.stringify({ type: 'tick' }));
 * for (const client of clients) client.send(message.data); // no re-encoding per client
 */
export function prepareMessage(data: MessageData, name = 'data'): PreparedMessage {
  if (typeof data === 'string') return { data: Buffer.from(data, 'utf8'), binary: false };
  if (Buffer.isBuffer(data)) return { data, binary: true };
  if (data instanceof ArrayBuffer) return { data: Buffer.from(data), binary: true };
  if (ArrayBuffer.isView(data)) {
    return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), binary: true };
  }
  return invalid(name, EXPECTED, data);
}

/**
 * The session-mode frame of a message (PROTOCOL.md "Frames"): the `m<offset>:` header for a
 * reliable message, `v:` for a volatile one, then the payload; built once and shared.
 */
export function sessionFrame(message: PreparedMessage): Buffer {
  if (message.framed) return message.framed;
  const header = message.offset === undefined ? 'v:' : `${message.kind ?? 'm'}${message.offset}:`;
  // One allocation: the ASCII header, then the payload bytes after it.
  const framed = Buffer.allocUnsafe(header.length + message.data.length);
  framed.write(header, 0, 'latin1');
  message.data.copy(framed, header.length);
  message.framed = framed;
  return framed;
}

/**
 * A request, reply or failure of request `id`, encoded once: its payload after `<id>:`, sent
 * in a `<kind><offset>:` frame (PROTOCOL.md "Requests").
 *
 * @example
 * prepareCall('r', 'n1.7', 'ok') // frames as r<offset>:n1.7:ok
 */
export function prepareCall(kind: CallKind, id: string, data: MessageData): PreparedMessage {
  const message = prepareMessage(data);
  return {
    data: Buffer.concat([Buffer.from(`${id}:`, 'latin1'), message.data]),
    binary: message.binary,
    kind,
  };
}
