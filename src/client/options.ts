import { REQUEST_DEFAULTS, type RequestSettings, resolveRequests } from '../common/requests.js';
import {
  checkBoolean,
  checkDelay,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkOneOf,
  invalid,
} from '../common/validate.js';
import type { BackoffOptions } from './backoff.js';
import type { HeartbeatOptions } from './heartbeat.js';
import type { OutboxOptions } from './outbox.js';
import { isOutgoing, type Outgoing } from './payload.js';
import { defaultShouldReconnect, type ReconnectInfo } from './retry.js';

/** The part of the WebSocket API Heartline drives; the browser's `WebSocket` and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown; origin?: string }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: never): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: destroy the TCP socket at once, without a closing handshake. */
  terminate?(): void;
  /** `ws` only: send a protocol-level ping; `on('pong')` hears the answer. */
  ping?(): void;
  /**
   * `ws` only, an EventEmitter: `'ping'` and `'pong'`, and what a refused handshake was told:
   * `'upgrade'` (a 101 came), `'unexpected-response'` (another HTTP status).
   */
  on?(event: string, listener: (...args: never[]) => void): unknown;
  listenerCount?(event: string): number;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

export type Logger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data?: object,
) => void;

export interface ReconnectOptions extends BackoffOptions {
  /** Attempts in a row before giving up; the count resets once a link stays up `stableAfter` ms. */
  readonly maxRetries: number;
  /**
   * ms an attempt may take, URL factory and opening handshake included; 0 (with `reconnect:
   * false`) leaves the opening handshake to the WebSocket, and bounds only the session's hello.
   */
  readonly connectTimeout: number;
  /** ms a link must stay open before the attempt count resets. */
  readonly stableAfter: number;
  /** Whether to reconnect after a lost link; the default follows the close-code catalog. */
  readonly shouldReconnect: (info: ReconnectInfo) => boolean;
}

/** What `new HeartlineSocket(url, protocols, options)` accepts. */
export interface HeartlineSocketOptions {
  /** A WebSocket constructor; defaults to `globalThis.WebSocket` (in Node 20, pass `ws`'s). */
  WebSocket?: WebSocketConstructor | (new (...args: never[]) => unknown);
  /** Heartbeat settings, `false` to turn it off, or a number as the interval. */
  heartbeat?: Partial<HeartbeatOptions> | number | false;
  /**
   * Reconnection settings, or `false` to close for good on the first lost link and to leave
   * the opening handshake to the WebSocket implementation (no `connectTimeout`), as WebSocket does.
   */
  reconnect?: Partial<ReconnectOptions> | false;
  /**
   * Bounds of the queue of messages sent while not open (and, in session mode, not yet
   * acknowledged), or `false` to make `send()` while not open throw, as WebSocket does.
   */
  outbox?: Partial<OutboxOptions> | false;
  /**
   * `'auto'` offers `heartline.v1`, so that a Heartline server resumes sessions with nothing
   * lost; any other server gets plain mode, a strict one that refuses the offer too (it gets
   * one more try without it: PROTOCOL.md, "Strict servers"). `false` never offers it.
   */
  session?: 'auto' | false;
  /**
   * Session mode: how long `request()` waits for its answer by default, and how many requests
   * may wait at once (one more is refused at once).
   * @example requests: { timeout: 5_000 }
   */
  requests?: Partial<RequestSettings>;
  /** ms to wait for the server's answer to `close()` before dropping the link anyway. */
  closeTimeout?: number;
  /** In browsers, close the link on `pagehide` and reopen it on `pageshow` (bfcache). */
  closeOnUnload?: boolean;
  /** Receives diagnostics; nothing is formatted when it is absent. */
  logger?: Logger;
}

/**
 * What `send()` did with a message: `'sent'`, written to the open link; `'queued'`, kept in the
 * outbox for the next link; `'dropped'`, not kept (the socket is closing or closed, a volatile
 * message while not open, or one too big for the outbox while not open).
 */
export type SendResult = 'sent' | 'queued' | 'dropped';

/** The second argument of `send()`. */
export interface SendOptions {
  /**
   * May be dropped rather than queued or replayed: for cursor positions, typing indicators,
   * anything a newer message replaces. Sent only while the link is open.
   * @default false
   */
  readonly volatile?: boolean;
}

export interface ResolvedOptions {
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly heartbeat: HeartbeatOptions | false;
  readonly reconnect: ReconnectOptions;
  /** The outbox's bounds; with `outbox: false`, DEFAULTS' (session mode's unacknowledged). */
  readonly outbox: OutboxOptions;
  /** Whether `send()` while not open queues (`outbox` is not `false`) rather than throws. */
  readonly queue: boolean;
  readonly session: 'auto' | false;
  readonly requests: RequestSettings;
  readonly closeTimeout: number;
  readonly closeOnUnload: boolean;
  readonly logger: Logger | undefined;
}

/**
 * Every default in one place; the README's options table is checked against this object.
 * `heartbeat.interval` is below the 55–60 s idle cut of common proxies and balancers.
 */
export const DEFAULTS = Object.freeze({
  heartbeat: Object.freeze({
    interval: 10_000,
    timeout: 5_000,
    // null: a protocol-level ping where the WebSocket can send one (ws), else the text "ping"
    ping: null as Outgoing | (() => Outgoing) | null,
    isPong: (data: unknown): boolean => data === 'pong',
  }),
  reconnect: Object.freeze({
    // The wait left when a crashed server returns is a share of the current window, which
    // grows by `factor` per failure: ×1.3 from 250 ms brings clients back a median 0.2-0.35 s
    // after a server gone 1-2 s (×1.5: 0.35-0.45 s, too close to bench 5b's 0.5 s to hold in
    // every run; ×2 from 500 ms: 0.4-0.8 s), for ~19 attempts in the first minute (×1.5: 14),
    // before the window reaches the 30 s cap and its full jitter (README, "Why these defaults").
    minDelay: 250,
    maxDelay: 30_000,
    factor: 1.3,
    jitter: 'full' as 'full' | 'none',
    maxRetries: Number.POSITIVE_INFINITY,
    connectTimeout: 10_000,
    stableAfter: 5_000,
    shouldReconnect: defaultShouldReconnect,
  }),
  // Bytes are the bound: 4 MiB carries a link dead for the whole default heartbeat budget
  // (10 s + 5 s) at 1,000 msg/s of messages up to 279 bytes, or 41 s of 100-byte ones. The
  // count only bounds what bytes cannot: each message costs ~50 bytes of bookkeeping however
  // short, and an empty one counts 0 bytes, so 100,000 (5 MB) caps that; it binds first only
  // for messages under 42 bytes, which it still carries for 100 s at 1,000 msg/s.
  outbox: Object.freeze({
    maxMessages: 100_000,
    maxBytes: 4_194_304,
    overflow: 'drop-oldest' as 'drop-oldest' | 'reject',
  }),
  session: 'auto' as 'auto' | false,
  requests: REQUEST_DEFAULTS,
  closeTimeout: 5_000,
  closeOnUnload: true,
});

const TOP_KEYS = [
  'WebSocket',
  'heartbeat',
  'reconnect',
  'outbox',
  'session',
  'requests',
  'closeTimeout',
  'closeOnUnload',
  'logger',
];

function resolveHeartbeat(raw: unknown): HeartbeatOptions | false {
  if (raw === false) return false;
  if (typeof raw === 'number') raw = { interval: raw };
  const h = group('heartbeat', raw, DEFAULTS.heartbeat);
  if (!(typeof h.ping === 'function' || h.ping === null || isOutgoing(h.ping))) {
    invalid('heartbeat.ping', 'a string, ArrayBuffer, typed array, Blob, function or null', h.ping);
  }
  return Object.freeze({
    interval: checkDelay('heartbeat.interval', h.interval, 1),
    timeout: checkDelay('heartbeat.timeout', h.timeout, 1),
    ping: h.ping,
    isPong: checkFunction<(data: unknown) => boolean>('heartbeat.isPong', h.isPong),
  });
}

function resolveReconnect(raw: unknown): ReconnectOptions {
  const disabled = raw === false;
  const r = group('reconnect', disabled ? undefined : raw, DEFAULTS.reconnect);
  const minDelay = checkDelay('reconnect.minDelay', r.minDelay, 1);
  const maxDelay = checkDelay('reconnect.maxDelay', r.maxDelay, 1);
  if (maxDelay < minDelay)
    invalid('reconnect.maxDelay', `a number >= minDelay (${minDelay})`, maxDelay);
  return Object.freeze({
    minDelay,
    maxDelay,
    factor: checkNumber('reconnect.factor', r.factor, { min: 1, max: 1000 }),
    jitter: checkOneOf('reconnect.jitter', r.jitter, ['full', 'none'] as const),
    // `reconnect: false` is the same policy with no retries: one code path.
    maxRetries: disabled
      ? 0
      : checkNumber('reconnect.maxRetries', r.maxRetries, { integer: true, allowInfinity: true }),
    connectTimeout: disabled ? 0 : checkDelay('reconnect.connectTimeout', r.connectTimeout, 1),
    stableAfter: checkDelay('reconnect.stableAfter', r.stableAfter),
    shouldReconnect: checkFunction<(info: ReconnectInfo) => boolean>(
      'reconnect.shouldReconnect',
      r.shouldReconnect,
    ),
  });
}

function resolveOutbox(raw: unknown): OutboxOptions | false {
  if (raw === false) return false;
  const b = group('outbox', raw, DEFAULTS.outbox);
  return Object.freeze({
    maxMessages: checkNumber('outbox.maxMessages', b.maxMessages, { integer: true }),
    maxBytes: checkNumber('outbox.maxBytes', b.maxBytes, { integer: true }),
    overflow: checkOneOf('outbox.overflow', b.overflow, ['drop-oldest', 'reject'] as const),
  });
}

/**
 * One group of options as given, merged over its defaults; unknown keys throw. The values are
 * still unchecked: each resolver checks every field.
 */
function group<T extends object>(name: string, raw: unknown, defaults: T): T {
  const o = checkObject(name, raw);
  checkKnownKeys(name, o, Object.keys(defaults));
  const merged = { ...defaults } as Record<string, unknown>;
  // `{ interval: undefined }` means "the default", as it would with a spread of user options.
  for (const [key, value] of Object.entries(o)) if (value !== undefined) merged[key] = value;
  return merged as T;
}

/**
 * Merges user options over DEFAULTS, expands shorthands, validates every field and returns a
 * frozen object. Nothing else in the client reads raw options.
 */
export function resolveOptions(options: HeartlineSocketOptions | undefined): ResolvedOptions {
  const o = checkObject('options', options);
  checkKnownKeys('', o, TOP_KEYS);
  const outbox = resolveOutbox(o.outbox);
  if (o.WebSocket !== undefined) checkFunction('WebSocket', o.WebSocket);
  if (o.logger !== undefined) checkFunction('logger', o.logger);
  return Object.freeze({
    WebSocket: o.WebSocket as WebSocketConstructor | undefined,
    heartbeat: resolveHeartbeat(o.heartbeat),
    reconnect: resolveReconnect(o.reconnect),
    outbox: outbox || DEFAULTS.outbox,
    queue: outbox !== false,
    session:
      o.session === undefined || o.session === 'auto' || o.session === false
        ? (o.session ?? DEFAULTS.session)
        : invalid('session', "'auto' or false", o.session),
    requests: resolveRequests(o.requests),
    closeTimeout: checkDelay('closeTimeout', o.closeTimeout ?? DEFAULTS.closeTimeout, 1),
    closeOnUnload: checkBoolean('closeOnUnload', o.closeOnUnload ?? DEFAULTS.closeOnUnload),
    logger: o.logger as Logger | undefined,
  });
}
