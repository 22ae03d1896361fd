/**
 * Batch frames of `heartline.v1` (PROTOCOL.md "Batches"): an envelope of complete frames, so
 * that what one end writes to a link in one event-loop turn leaves in one WebSocket message.
 * The receiver unwraps a batch and hands each frame inside to its ordinary per-frame path, so
 * any frame kind can ride in one. Pure and browser-safe.
 *
 *   b<bytes>:<frame><bytes>:<frame>…    a text batch: every frame inside is a text frame
 *   b<bytes>:<text><bytes>;<binary>…    a binary batch: `:` marks a text frame, `;` a binary one
 *
 * `<bytes>` is the size of the frame after it in bytes (UTF-8 for text), in decimal.
 */
import { FrameError } from './frames.js';
import { NON_ASCII, utf8End, utf8Length } from './utf8.js';

/** The most frames one batch may carry; more is a protocol error (1002). */
export const MAX_BATCH_ENTRIES = 1_024;

/**
 * The largest batch a Heartline end sends, in bytes, whatever its peer takes: a turn's writes
 * reach the kernel in pieces of about this size, as the server's corking flushes them.
 */
export const BATCH_BYTES = 16 * 1024;

/** What a Heartline client says in `connect.batch`: the largest batch it takes, in bytes. */
export const CLIENT_BATCH_LIMIT = 1024 * 1024;

const B = 0x62;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
/** Frame sizes of up to 9 digits: far above any WebSocket payload limit in use. */
const MAX_DIGITS = 9;

/** Whether a message of a link that negotiated batches is a batch (a frame never starts with `b`). */
export function isBatch(raw: string | Uint8Array): boolean {
  return (typeof raw === 'string' ? raw.charCodeAt(0) : raw[0]) === B;
}

/**
 * Wraps frames in one batch: a text batch when all are text, else a binary one. `sizes`, when
 * the caller knows them, are the frames' sizes in bytes. Send a single frame as itself, not as
 * a batch of one.
 *
 * @example
 * encodeBatch(['m1:a', 'm2:é']) // 'b4:m1:a5:m2:é'
 */
export function encodeBatch(
  frames: readonly (string | Uint8Array)[],
  sizes?: readonly number[],
): string | Uint8Array {
  if (frames.every((f) => typeof f === 'string')) {
    let out = 'b';
    frames.forEach((f, i) => {
      out += `${sizes?.[i] ?? utf8Length(f as string)}:${f}`;
    });
    return out;
  }
  const encoder = new TextEncoder();
  const parts = frames.flatMap((f) => {
    const bytes = typeof f === 'string' ? encoder.encode(f) : f;
    return [encoder.encode(bytes.length + (typeof f === 'string' ? ':' : ';')), bytes];
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 1));
  out[0] = B;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let decoder: TextDecoder | undefined;

/** UTF-8 bytes as text, or a `FrameError` 1007. */
function utf8(bytes: Uint8Array): string {
  decoder ??= new TextDecoder('utf-8', { fatal: true });
  try {
    return decoder.decode(bytes);
  } catch {
    throw new FrameError('a text frame in a batch is not valid UTF-8', 1007);
  }
}

/**
 * Splits a batch into its frames, checking the whole envelope before returning any: a text
 * message's batch is given as a string, a binary message's as bytes. Text frames come back as
 * strings, binary frames as views of `raw` (a Buffer's stay Buffers). Throws a `FrameError`:
 * 1002 for a malformed batch, 1007 for a text frame of a binary batch that is not UTF-8. The
 * frames themselves are the caller's to parse.
 *
 * @example
 * decodeBatch('b4:m1:a5:m2:é') // ['m1:a', 'm2:é']
 */
export function decodeBatch(raw: string | Uint8Array): (string | Uint8Array)[] {
  const string = typeof raw === 'string';
  const length = string ? raw.length : raw.byteLength;
  const at = (i: number) => (string ? raw.charCodeAt(i) : raw[i]!);
  // In ASCII, bytes and characters are one to one: no need to walk each frame.
  const ascii = !string || !NON_ASCII.test(raw);
  const frames: (string | Uint8Array)[] = [];
  for (let i = 1; ; ) {
    let size = 0;
    const start = i;
    let c = at(i);
    for (; c >= 0x30 && c <= 0x39 && i - start < MAX_DIGITS; c = at(++i))
      size = size * 10 + c - 0x30;
    const bytes = c === SEMICOLON && !string;
    const end = size > 0 && at(start) !== 0x30 && (c === COLON || bytes) ? i + 1 : -1;
    const stop = end < 0 ? -1 : ascii ? end + size : utf8End(raw as string, end, size);
    if (frames.length === MAX_BATCH_ENTRIES || end < 0 || stop < 0 || stop > length) {
      throw new FrameError(
        `a batch is b and 1 to ${MAX_BATCH_ENTRIES} frames, each after its size in bytes (no leading zero) and : (text) or, in a binary message, ; (binary)`,
      );
    }
    const frame = string ? raw.slice(end, stop) : raw.subarray(end, stop);
    frames.push(typeof frame === 'string' || bytes ? frame : utf8(frame));
    i = stop;
    if (i === length) return frames;
  }
}
