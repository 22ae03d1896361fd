/**
 * The byte formats `heartline/redis` writes into Redis and reads back, shared by the Lua
 * scripts (scripts.ts) and the nodes:
 *
 * - an **audience** is JSON, small and read by the scripts through `cjson`:
 *   `{"c":"<id>"}` one client, `{"r":["room",…],"x":["<id>",…]}` rooms, `{"x":[…]}` everyone;
 * - an **entry** on the feed and in a read reply is `<offset>:<len>:<audience><b><len>:<payload>`,
 *   lengths in bytes, `b` the form byte: `0` text, `1` binary, and for a request, reply or
 *   failure its letter, `q` `r` `f` for text, `Q` `R` `F` for binary;
 * - a **feed message** is `<epoch>|<count>|` followed by `count` entries.
 *
 * Payloads are never copied when parsed: each is a view into the message it arrived in.
 */
import type { CallKind } from '../protocol/frames.js';
import type { PreparedMessage } from '../server/client/outgoing-message.js';
import type { Audience } from '../server/engine/engine.js';

/** An audience as Redis keeps it. */
export function encodeAudience(audience: Audience): string {
  const except = audience.kind !== 'client' && audience.except ? [...audience.except] : undefined;
  if (audience.kind === 'client') return JSON.stringify({ c: audience.id });
  if (audience.kind === 'rooms')
    return JSON.stringify(except ? { r: audience.rooms, x: except } : { r: audience.rooms });
  return JSON.stringify(except ? { x: except } : {});
}

/** The parsed form of an audience; `except` as a set, for membership checks. */
export function decodeAudience(text: string): Audience {
  const a = JSON.parse(text) as { c?: string; r?: string[]; x?: string[] };
  if (a.c !== undefined) return { kind: 'client', id: a.c };
  const except = a.x ? new Set(a.x) : undefined;
  return a.r ? { kind: 'rooms', rooms: a.r, except } : { kind: 'all', except };
}

/** One entry read back from Redis: its offset, audience and the message to deliver. */
export interface Entry {
  readonly offset: number;
  readonly audience: Audience;
  readonly message: PreparedMessage;
}

/** The form byte of a message (see above). */
export function formOf(message: PreparedMessage): string {
  if (!message.kind) return message.binary ? '1' : '0';
  return message.binary ? message.kind.toUpperCase() : message.kind;
}

/** Reads a form byte back: whether the payload is binary, and the call kind if any. */
function fromForm(byte: number): { binary: boolean; kind?: CallKind } {
  if (byte === 0x30 || byte === 0x31) return { binary: byte === 0x31 };
  const letter = String.fromCharCode(byte);
  const kind = letter.toLowerCase();
  if (kind !== 'q' && kind !== 'r' && kind !== 'f') throw new Error('Malformed Heartline record');
  return { binary: letter !== kind, kind };
}

const COLON = 0x3a;
const BAR = 0x7c;

/** A reader over one Buffer that never copies. */
class Reader {
  at = 0;
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** Decimal digits up to `stop`; skips the stop byte. */
  number(stop: number): number {
    const end = this.bytes.indexOf(stop, this.at);
    if (end < 0) throw new Error('Truncated Heartline record');
    const n = Number(this.bytes.toString('latin1', this.at, end));
    if (!Number.isSafeInteger(n) || n < 0) throw new Error('Malformed Heartline record');
    this.at = end + 1;
    return n;
  }

  take(length: number): Buffer {
    const end = this.at + length;
    if (end > this.bytes.length) throw new Error('Truncated Heartline record');
    const slice = this.bytes.subarray(this.at, end);
    this.at = end;
    return slice;
  }

  get done(): boolean {
    return this.at >= this.bytes.length;
  }
}

function readEntry(r: Reader): Entry {
  const offset = r.number(COLON);
  const audience = decodeAudience(r.take(r.number(COLON)).toString('utf8'));
  const form = fromForm(r.take(1)[0]!);
  const data = r.take(r.number(COLON));
  return { offset, audience, message: { data, offset, ...form } };
}

/** Parses a packed list of entries (a read reply, or a feed message's body). */
export function parseEntries(bytes: Buffer): Entry[] {
  const r = new Reader(bytes);
  const entries: Entry[] = [];
  while (!r.done) entries.push(readEntry(r));
  return entries;
}

/** A feed message: the epoch it was appended in, and its entries (consecutive offsets). */
export interface FeedBatch {
  readonly epoch: string;
  readonly entries: Entry[];
}

/** Parses one feed message. */
export function parseFeed(bytes: Buffer): FeedBatch {
  const r = new Reader(bytes);
  const bar = bytes.indexOf(BAR);
  if (bar < 0) throw new Error('Malformed Heartline feed message');
  const epoch = r.take(bar).toString('latin1');
  r.at++;
  const count = r.number(BAR);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(r));
  return { epoch, entries };
}

/** A volatile message on the `vol` channel: `<audience-length>:<audience><b><payload>`. */
export function packVolatile(audience: string, message: PreparedMessage): Buffer {
  const head = Buffer.from(`${Buffer.byteLength(audience)}:${audience}${message.binary ? 1 : 0}`);
  return Buffer.concat([head, message.data]);
}

export function parseVolatile(bytes: Buffer): { audience: Audience; message: PreparedMessage } {
  const r = new Reader(bytes);
  const audience = decodeAudience(r.take(r.number(COLON)).toString('utf8'));
  const binary = r.take(1)[0] === 0x31;
  return { audience, message: { data: bytes.subarray(r.at), binary } };
}
