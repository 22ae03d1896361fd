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
  // One allocation: the ASCII header, then the payload bytes after it.
  const framed = Buffer.allocUnsafe(framedLength(message));
  writeFrame(message, framed, 0);
  message.framed = framed;
  return framed;
}

/** Decimal digits of a non-negative safe integer. */
export function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** The bytes of `sessionFrame(message)`, without building it. */
export function framedLength(message: PreparedMessage): number {
  const offset = message.offset;
  return (offset === undefined ? 2 : 2 + decimalDigits(offset)) + message.data.length;
}

/**
 * Writes the session frame of `message` (header, then payload) into `out` at `at`, where a
 * batch is built, so a frame that goes out in a batch is never built on its own; returns where
 * it ends.
 */
export function writeFrame(message: PreparedMessage, out: Buffer, at: number): number {
  const offset = message.offset;
  if (offset === undefined) {
    out[at++] = 0x76; // v
  } else {
    out[at++] = (message.kind ?? 'm').charCodeAt(0);
    at = writeDecimal(offset, out, at);
  }
  out[at++] = 0x3a; // :
  return at + message.data.copy(out, at);
}

/** Writes `n` in decimal ASCII at `at`; returns where it ends. */
export function writeDecimal(n: number, out: Buffer, at: number): number {
  const end = at + decimalDigits(n);
  for (let k = end - 1; k >= at; k--, n = Math.floor(n / 10)) out[k] = 0x30 + (n % 10);
  return end;
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
