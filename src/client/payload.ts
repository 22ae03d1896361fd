/**
 * What the client sends and receives, by type: the one place that sniffs a message's type,
 * for the option check, the outbox's byte count and session mode's framing.
 */
import { utf8Length } from '../protocol/utf8.js';

/** What `send()` accepts, as `WebSocket.send()` does. */
export type Outgoing = string | ArrayBufferLike | ArrayBufferView | Blob;

/** A payload on a session link: text, or bytes (a Blob must be read first). */
export type Payload = string | Uint8Array;

const isBlob = (value: unknown): value is Blob =>
  typeof Blob !== 'undefined' && value instanceof Blob;

/** Whether `value` is something `send()` accepts (for the `heartbeat.ping` option). */
export function isOutgoing(value: unknown): value is Outgoing {
  return (
    typeof value === 'string' ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    isBlob(value)
  );
}

/**
 * The size a message will have on the wire, as `bufferedAmount` counts it.
 *
 * @example
 * byteLength('héllo') // 6
 */
export function byteLength(data: Outgoing): number {
  if (typeof data === 'string') return utf8Length(data);
  if (isBlob(data)) return data.size;
  if (typeof (data as { byteLength?: unknown }).byteLength === 'number') {
    // buffers and views, SharedArrayBuffer and another realm's buffers included
    return (data as { byteLength: number }).byteLength;
  }
  return utf8Length(String(data));
}

/** What `send()` accepts, as a session payload; a Blob cannot be framed synchronously. */
export function toPayload(data: unknown): Payload {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (isBlob(data)) {
    throw new TypeError(
      'A Blob cannot be sent in session mode; send await blob.arrayBuffer() instead',
    );
  }
  return String(data);
}

/** A payload received on a session link, as the app's `binaryType` asks for bytes. */
export function fromBytes(payload: Payload, binaryType: string): unknown {
  if (typeof payload === 'string') return payload;
  if (binaryType === 'arraybuffer') return payload.slice().buffer;
  if (binaryType === 'blob') return new Blob([payload as Uint8Array<ArrayBuffer>]);
  // 'nodebuffer' (ws): a Buffer over the same bytes, where Buffer exists
  const B = (globalThis as { Buffer?: { from(b: ArrayBufferLike, o: number, l: number): unknown } })
    .Buffer;
  return B ? B.from(payload.buffer, payload.byteOffset, payload.byteLength) : payload;
}
