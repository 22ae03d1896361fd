/**
 * The `heartline.v1` wire format, shared by client and server; pure and browser-safe.
 * PROTOCOL.md describes every frame with an example exchange.
 *
 * Data frames carry the application's payload untouched after a short ASCII header, so the
 * hot path never runs JSON over user data:
 *
 *   m<n>:<payload>   a reliable message; n is the server's log offset (server → client) or
 *                    the client's sequence number (client → server)
 *   v:<payload>      a volatile message: no number, may be dropped, never replayed
 *   q<n>:<id>:<payload>  a request (reliable, numbered as m), answered by the frame below
 *   r<n>:<id>:<payload>  the reply to request <id>, from the other end (reliable)
 *   f<n>:<id>:<json>     request <id> failed: {"message": …, "code"?: …} (reliable, text)
 *
 * The same header prefixes text frames (payload is text) and binary frames (payload is
 * bytes). Control frames are JSON objects in text frames, so they start with `{`.
 */

/** The sub-protocol that switches session mode on. */
export const SESSION_PROTOCOL = 'heartline.v1';

/**
 * Offered first when the app has no sub-protocol of its own: a `ws` server without
 * `handleProtocols` selects the first offer whatever it is, and must not select `heartline.v1`
 * by accident. Reported to the app as `''`.
 */
export const PLAIN_MARKER = 'heartline.plain';

/** What a client offers: the app's protocols (or the plain marker), then `heartline.v1`. */
export function offerProtocols(app: readonly string[]): string[] {
  return [...(app.length > 0 ? app : [PLAIN_MARKER]), SESSION_PROTOCOL];
}

/** The protocol version inside control frames. */
export const PROTOCOL_VERSION = 1;

/** Client → server, the first frame on every link: start a session, or resume one. */
export interface ConnectFrame {
  readonly t: 'connect';
  readonly v: number;
  /** To resume: the session id, its secret token, the log epoch and the last offset received. */
  readonly sid?: string;
  readonly token?: string;
  readonly epoch?: string;
  readonly offset?: number;
  /**
   * To resume: the highest sequence number the client had sent. After a server crash, the
   * new server passes messages up to it on marked as possibly seen already (`redelivered`).
   */
  readonly sent?: number;
  /**
   * To resume, when the client's outbox dropped messages it had already written (an overflow
   * while the link was dead unnoticed): the lowest number it can still resend. The server
   * takes the numbers below it that it lacks as lost, so the client's next message is `from`.
   */
  readonly from?: number;
  /**
   * The largest batch frame the client takes, in bytes: it understands batches (PROTOCOL.md
   * "Batches"). The server sends batches only to a client that says so.
   */
  readonly batch?: number;
}

/** Server → client, the first frame on every link: the session, and whether it resumed. */
export interface HelloFrame {
  readonly t: 'hello';
  readonly v: number;
  readonly sid: string;
  readonly token: string;
  readonly epoch: string;
  /** The client's position: messages after this offset follow (replayed ones first). */
  readonly offset: number;
  readonly resumed: boolean;
  /** Why a resume was refused: `'unknown'`, `'token'`, `'expired'`, `'epoch'` or `'gap'`. */
  readonly reason?: string;
  /** The last client sequence number the server has; the client resends what follows. */
  readonly ack: number;
  /** The application sub-protocol the server chose among those offered, or `''`. */
  readonly protocol: string;
  /** The server's heartbeat, in ms; 0 when the server sends no pings. */
  readonly heartbeat: { readonly interval: number; readonly timeout: number };
  /** How long the server keeps a session after its link drops, in ms. */
  readonly window: number;
  /**
   * In answer to a connect with `batch`: the largest batch frame the server takes, in bytes.
   * Both ends may then send batches on this link; without it, neither does.
   */
  readonly batch?: number;
}

/** Either side: a liveness probe with the sender's clock; `ack` piggy-backs (server → client). */
export interface PingFrame {
  readonly t: 'ping';
  readonly ts: number;
  readonly ack?: number;
}

/** The answer to a ping, echoing its `ts` so the pinger measures the RTT. */
export interface PongFrame {
  readonly t: 'pong';
  readonly ts: number;
  readonly ack?: number;
}

/** Server → client: every client message up to `seq` has been handled. */
export interface AckFrame {
  readonly t: 'ack';
  readonly seq: number;
}

export type ControlFrame = ConnectFrame | HelloFrame | PingFrame | PongFrame | AckFrame;

/** What a request frame is: `q` a request, `r` its reply, `f` its failure (PROTOCOL.md "Requests"). */
export type CallKind = 'q' | 'r' | 'f';

/** A request's id: chosen by its sender, 1–64 characters of `[A-Za-z0-9_.-]`. */
export interface Call {
  readonly kind: CallKind;
  readonly id: string;
}

/**
 * A reliable (`n` set) or volatile (`n` undefined) application message; a request, reply or
 * failure carries `call` (always reliable).
 */
export interface DataFrame<P = string | Uint8Array> {
  readonly t: 'data';
  readonly n: number | undefined;
  readonly payload: P;
  readonly call?: Call;
}

export type Frame = ControlFrame | DataFrame;

/** A frame that breaks the protocol; `code` is the close code the receiver should use. */
export class FrameError extends Error {
  override readonly name = 'FrameError' as const;
  /** 1002 for a malformed frame, 1007 for text that is not UTF-8, 1008 for a frame not allowed. */
  readonly code: 1002 | 1007 | 1008;
  constructor(message: string, code: 1002 | 1007 | 1008 = 1002) {
    super(message);
    this.code = code;
  }
}

/**
 * The longest control frame, in characters. The largest frame either end sends, a hello, is
 * about 300; the bound keeps a peer from making the other parse megabytes of JSON per frame.
 */
export const MAX_CONTROL_LENGTH = 4_096;

/** The longest `sid`, `token` and `epoch` of a connect frame (the server makes them 22, 22 and 12). */
export const MAX_ID_LENGTH = 64;

const COLON = 0x3a;
const M = 0x6d;
const V = 0x76;
/** The longest header: 'm' + 16 digits (2^53) + ':'. */
const MAX_HEADER = 18;

/** Serialises a reliable data frame: `m<n>:` + payload, text or bytes as given. */
export function encodeData(n: number, payload: string): string;
export function encodeData(n: number, payload: Uint8Array): Uint8Array;
export function encodeData(n: number, payload: string | Uint8Array): string | Uint8Array;
export function encodeData(n: number, payload: string | Uint8Array): string | Uint8Array {
  return withHeader(`m${n}:`, payload);
}

/** The longest request id; ids are `[A-Za-z0-9_.-]`. */
export const MAX_CALL_ID = 64;
const CALL_ID = /^[\w.-]{1,64}$/;

/** Whether `id` may name a request. */
export function isCallId(id: string): boolean {
  return CALL_ID.test(id);
}

/**
 * Serialises a request, reply or failure: `<kind><n>:<id>:` + payload (PROTOCOL.md "Requests").
 * @example encodeCall('q', 7, '3', 'get user 42') // 'q7:3:get user 42'
 */
export function encodeCall(kind: CallKind, n: number, id: string, payload: string): string;
export function encodeCall(kind: CallKind, n: number, id: string, payload: Uint8Array): Uint8Array;
export function encodeCall(
  kind: CallKind,
  n: number,
  id: string,
  payload: string | Uint8Array,
): string | Uint8Array;
export function encodeCall(
  kind: CallKind,
  n: number,
  id: string,
  payload: string | Uint8Array,
): string | Uint8Array {
  return withHeader(`${kind}${n}:${id}:`, payload);
}

/** Serialises a volatile data frame: `v:` + payload. */
export function encodeVolatile(payload: string): string;
export function encodeVolatile(payload: Uint8Array): Uint8Array;
export function encodeVolatile(payload: string | Uint8Array): string | Uint8Array;
export function encodeVolatile(payload: string | Uint8Array): string | Uint8Array {
  return withHeader('v:', payload);
}

function withHeader(header: string, payload: string | Uint8Array): string | Uint8Array {
  if (typeof payload === 'string') return header + payload;
  const out = new Uint8Array(header.length + payload.byteLength);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  out.set(payload, header.length);
  return out;
}

/** Serialises a control frame. */
export function encodeControl(frame: ControlFrame): string {
  return JSON.stringify(frame);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isText(value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** A base64url id (a session id or a resume token) of at most MAX_ID_LENGTH characters. */
function isId(value: unknown): value is string {
  return isText(value, MAX_ID_LENGTH) && /^[\w-]+$/.test(value);
}

/** An epoch: printable ASCII (the engine chooses its form), at most MAX_ID_LENGTH characters. */
function isEpoch(value: unknown): value is string {
  return isText(value, MAX_ID_LENGTH) && /^[\x21-\x7e]+$/.test(value);
}

/**
 * What a frame error says in development, keyed by what it says in production builds (where
 * `process.env.NODE_ENV` is `'production'`, which bundlers replace, so that this table is left
 * out of the bundle): the short form names the frame and the field, the long one the rule.
 * `arg` is the value at fault.
 */
const DETAIL: Readonly<Record<string, (arg: unknown) => string>> = {
  'bad frame start': (text) =>
    `${text ? 'a text frame must be a control frame or start' : 'a binary frame must start'} with m<number>: or v:`,
  'bad data frame header': (digits) =>
    `a data frame header must be m<number>: or v:, got ${JSON.stringify((digits as string).slice(0, 20))}`,
  'bad data frame number': (digits) => `a data frame number must be a safe integer, got ${digits}`,
  'control frame too long': (length) =>
    `a control frame is at most ${MAX_CONTROL_LENGTH} characters, got ${length}`,
  'control frame not a JSON object': () => 'a control frame must be a JSON object',
  'bad batch': (t) => `a ${t} frame's batch must be a count`,
  'bad ts': (t) => `a ${t} frame needs a numeric ts`,
  'bad ack': (t) => `a ${t} frame's ack must be a count`,
  'bad ack frame seq': () => 'an ack frame needs seq, a count',
  'unsupported protocol version': (v) => `unsupported protocol version ${JSON.stringify(v)}`,
  'connect frame: token, epoch or offset without sid': () =>
    'a connect frame without sid carries no token, epoch or offset',
  'bad resuming connect frame': () =>
    `a resuming connect frame needs sid, token, epoch and offset: sid and token in base64url and epoch in printable ASCII, each of 1–${MAX_ID_LENGTH} characters, offset a count`,
  'bad connect frame sent': () => "a connect frame's sent must be a count",
  'bad connect frame from': () =>
    "a connect frame's from must be a count from 1 to sent + 1, given with sid",
  'bad hello frame': () =>
    'a hello frame needs sid, token, epoch, offset, ack, resumed, window and heartbeat',
  'unknown control frame type': (t) => `unknown control frame type ${JSON.stringify(t)}`,
  'bad request id': (kind) =>
    `a ${kind} frame needs an id of 1–${MAX_CALL_ID} characters [A-Za-z0-9_.-] after its number`,
};

/** Throws the `FrameError` whose production message is `brief` (see `DETAIL`). */
function fail(brief: string, arg?: unknown, code?: 1008): never {
  throw new FrameError(
    typeof process !== 'undefined' && process.env.NODE_ENV !== 'production'
      ? DETAIL[brief]!(arg)
      : brief,
    code,
  );
}

/**
 * The number of a data header: the decimal digits in [1, colon) of the frame, no leading zero,
 * at most 16 of them and a safe integer. Read in place, on every frame, so no slice or regex.
 */
function headerNumber(raw: string | Uint8Array, colon: number): number {
  const text = typeof raw === 'string';
  let n = 0;
  let ok = colon > 1 && colon <= 17;
  for (let i = 1; ok && i < colon; i++) {
    const d = (text ? raw.charCodeAt(i) : raw[i]!) - 0x30;
    ok = d >= 0 && d <= 9 && (d > 0 || i > 1 || colon === 2);
    n = n * 10 + d;
  }
  if (!ok) {
    const digits = ascii(raw, 1, Math.min(colon, 21));
    fail('bad data frame header', digits);
  }
  if (!Number.isSafeInteger(n)) {
    fail('bad data frame number', ascii(raw, 1, colon));
  }
  return n;
}

function parseControl(text: string): ControlFrame {
  if (text.length > MAX_CONTROL_LENGTH) fail('control frame too long', text.length);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('control frame not a JSON object');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('control frame not a JSON object');
  const f = raw as Record<string, unknown>;
  // connect and hello: the largest batch frame the sender takes (PROTOCOL.md "Batches")
  if (f.batch !== undefined && !isCount(f.batch)) fail('bad batch', f.t);
  switch (f.t) {
    case 'ping':
    case 'pong':
      if (!Number.isFinite(f.ts)) fail('bad ts', f.t);
      if (f.ack !== undefined && !isCount(f.ack)) fail('bad ack', f.t);
      return f as unknown as PingFrame | PongFrame;
    case 'ack':
      if (!isCount(f.seq)) fail('bad ack frame seq');
      return f as unknown as AckFrame;
    case 'connect': {
      if (f.v !== PROTOCOL_VERSION) fail('unsupported protocol version', f.v, 1008);
      if (f.sid === undefined) {
        if (f.token !== undefined || f.epoch !== undefined || f.offset !== undefined)
          fail('connect frame: token, epoch or offset without sid');
      } else if (!(isId(f.sid) && isId(f.token) && isEpoch(f.epoch) && isCount(f.offset))) {
        fail('bad resuming connect frame');
      }
      if (f.sent !== undefined && !isCount(f.sent)) fail('bad connect frame sent');
      if (
        f.from !== undefined &&
        !(
          f.sid !== undefined &&
          isCount(f.from) &&
          f.from >= 1 &&
          f.from <= ((f.sent as number) ?? 0) + 1
        )
      ) {
        fail('bad connect frame from');
      }
      return f as unknown as ConnectFrame;
    }
    case 'hello': {
      if (f.v !== PROTOCOL_VERSION) fail('unsupported protocol version', f.v, 1008);
      const hb = f.heartbeat as Record<string, unknown> | undefined;
      const ok =
        isText(f.sid) &&
        isText(f.token) &&
        isText(f.epoch) &&
        isCount(f.offset) &&
        isCount(f.ack) &&
        isCount(f.window) &&
        typeof f.resumed === 'boolean' &&
        (f.reason === undefined || typeof f.reason === 'string') &&
        typeof f.protocol === 'string' &&
        typeof hb === 'object' &&
        hb !== null &&
        isCount(hb.interval) &&
        isCount(hb.timeout);
      if (!ok) fail('bad hello frame');
      return f as unknown as HelloFrame;
    }
    default:
      fail('unknown control frame type', f.t);
  }
}

/**
 * Parses one WebSocket message of a `heartline.v1` link: text (a string) or binary (bytes).
 * Throws `FrameError` with the close code to use when the frame is malformed.
 *
 * @example
 * parseFrame('m12:hello') // { t: 'data', n: 12, payload: 'hello' }
 */
export function parseFrame(raw: string | Uint8Array): Frame {
  const text = typeof raw === 'string';
  const first = text ? raw.charCodeAt(0) : raw[0];
  if (text && first === 0x7b /* { */) return parseControl(raw);
  const colon = indexOfColon(raw, 1, MAX_HEADER + 1);
  if (colon < 1) fail('bad frame start', text);
  if (first === V && colon === 1) return { t: 'data', n: undefined, payload: rest(raw, 2) };
  const kind = first === M ? undefined : CALL_KINDS[first as number];
  if (first !== M && kind === undefined) fail('bad frame start', text);
  const n = headerNumber(raw, colon);
  if (kind === undefined) return { t: 'data', n, payload: rest(raw, colon + 1) };
  const end = indexOfColon(raw, colon + 1, colon + 2 + MAX_CALL_ID);
  const id = end < 0 ? '' : ascii(raw, colon + 1, end);
  if (!CALL_ID.test(id)) fail('bad request id', kind);
  return { t: 'data', n, payload: rest(raw, end + 1), call: { kind, id } };
}

const CALL_KINDS: Readonly<Record<number, CallKind>> = { 113: 'q', 114: 'r', 102: 'f' };

/** The payload from `from` on: a view of the bytes, never a copy. */
function rest(raw: string | Uint8Array, from: number): string | Uint8Array {
  return typeof raw === 'string' ? raw.slice(from) : raw.subarray(from);
}

/** The index of the first ':' in [from, to) (clamped to the frame), or -1. */
function indexOfColon(raw: string | Uint8Array, from: number, to: number): number {
  if (typeof raw === 'string') {
    const i = raw.indexOf(':', from);
    return i >= 0 && i < to ? i : -1;
  }
  const limit = Math.min(raw.byteLength, to);
  for (let i = from; i < limit; i++) if (raw[i] === COLON) return i;
  return -1;
}

/** The characters of [from, to) of a header, as a string (headers are ASCII). */
function ascii(raw: string | Uint8Array, from: number, to: number): string {
  if (typeof raw === 'string') return raw.slice(from, to);
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(raw[i]!);
  return out;
}
