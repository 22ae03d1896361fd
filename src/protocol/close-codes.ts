import { utf8Length } from './utf8.js';

/**
 * Every WebSocket close code with a name: RFC 6455 §7.4.1, the IANA "WebSocket Close Code
 * Number" registry (https://www.iana.org/assignments/websocket/websocket.xhtml), and
 * Heartline's own codes in the private range 4000–4999, which mirror HTTP statuses.
 */
export const CloseCode = {
  NormalClosure: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** RFC 6455 §7.4.1: reserved, never sent. */
  Reserved1004: 1004,
  /** RFC 6455 §7.4.1: MUST NOT be sent; reported when a close frame had no code. */
  NoStatusReceived: 1005,
  /** RFC 6455 §7.4.1: MUST NOT be sent; reported when the connection dropped without a close frame. */
  AbnormalClosure: 1006,
  InvalidFramePayloadData: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** RFC 6455 §7.4.1: MUST NOT be sent; reported when the TLS handshake failed. */
  TlsHandshake: 1015,
  /** IANA registry: HTTP 401 equivalent. */
  Unauthorized: 3000,
  /** IANA registry: HTTP 403 equivalent. */
  Forbidden: 3003,
  /** IANA registry: HTTP 408 equivalent. */
  Timeout: 3008,
  /** Heartline: the client closed this link to open another; its session continues. */
  Reconnecting: 4000,
  /** Heartline: the server refused the opening handshake with HTTP 400 (Node clients only). */
  HttpBadRequest: 4400,
  /** Heartline: the server refused the opening handshake with HTTP 401 (Node clients only). */
  HttpUnauthorized: 4401,
  /** Heartline: the server refused the opening handshake with HTTP 403 (Node clients only). */
  HttpForbidden: 4403,
  /** Heartline: the server refused the opening handshake with HTTP 404 (Node clients only). */
  HttpNotFound: 4404,
  /** Heartline: no message within the heartbeat timeout; the link was presumed dead. */
  HeartbeatTimeout: 4408,
  /** Heartline: the server could not resume the session (window passed, unknown, or wrong token). */
  ResumeRejected: 4410,
  /** Heartline: the server chose `heartline.v1` but the session handshake failed. */
  SessionHandshakeFailed: 4426,
  /** Heartline: the server refused the opening handshake with HTTP 429 (Node clients only). */
  HttpTooManyRequests: 4429,
  /** Heartline: the server refused the opening handshake with HTTP 503 (Node clients only). */
  HttpServiceUnavailable: 4503,
  /** Heartline: the opening handshake did not complete within `reconnect.connectTimeout`. */
  ConnectTimeout: 4504,
  /** Heartline: the client read too slowly and its send buffer on the server filled up. */
  SlowConsumer: 4507,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

/**
 * The codes after which retrying cannot help, so that the default policy gives up: the peer
 * refused what this client sends or who it is (RFC 6455 §7.4.1, IANA, and the HTTP refusals
 * that waiting does not change). Every other code, listed or not, is retried.
 */
const FINAL: readonly number[] = [
  1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003, 4400, 4401, 4403, 4404,
];

/** Whether the default reconnect policy retries after `code` (see `FINAL`). */
export function retriesAfter(code: number): boolean {
  return !FINAL.includes(code);
}

/**
 * The catalog name of `code`, such as `'PolicyViolation'` (its `CloseCode` key), or the name
 * of its range for codes the catalog does not list.
 */
export function closeName(code: number): string {
  for (const name in CloseCode) if (CloseCode[name as CloseCodeName] === code) return name;
  return RANGES[rangeOf(code)]![0];
}

/** The ranges of RFC 6455 §7.4.2 for unlisted codes: name, then explanation. */
const RANGES: readonly (readonly [string, string])[] = [
  ['Invalid', 'Not a close code: codes are whole numbers from 0 to 65535.'],
  ['Unused', 'Codes 0–999 are not used by WebSocket (RFC 6455 §7.4.2).'],
  [
    'ReservedForProtocol',
    'Reserved for future revisions of the WebSocket protocol (RFC 6455 §7.4.2).',
  ],
  ['ReservedForExtensions', 'Reserved for WebSocket extensions (RFC 6455 §7.4.2).'],
  ['Registered', 'A code registered with IANA by a library or framework (3000–3999).'],
  ['Application', 'An application-defined code (4000–4999); its meaning is up to the server.'],
  ['Invalid', 'Not a valid close code: the range above 4999 is undefined (RFC 6455 §7.4.2).'],
];

/** The index in `RANGES` of a code the catalog does not list. */
function rangeOf(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 65535) return 0;
  return code < 1000
    ? 1
    : code < 2000
      ? 2
      : code < 3000
        ? 3
        : code < 4000
          ? 4
          : code < 5000
            ? 5
            : 6;
}

/**
 * One sentence per catalog code, for people. Only `describeClose()` reads it, so an app that
 * never calls it does not bundle the sentences.
 */
const EXPLANATIONS: Readonly<Record<number, string>> = {
  1000: 'The peer closed the connection normally; a server or proxy may do this when it restarts or the link is idle.',
  1001: 'The peer is going away: a server shutting down or a browser leaving the page.',
  1002: 'The peer received a frame that breaks the WebSocket protocol; retrying sends the same frames again.',
  1003: 'The peer cannot accept this type of data (for example binary on a text-only endpoint).',
  1004: 'Reserved by RFC 6455; no endpoint should send it.',
  1005: 'The close frame carried no status code.',
  1006: 'The connection dropped without a close frame: the network failed, the server crashed, or the handshake was refused.',
  1007: 'A message did not match its type, such as invalid UTF-8 in a text message.',
  1008: 'The peer refused a message or the connection by its policy (authorization, origin, rate limit).',
  1009: 'A message was larger than the peer accepts.',
  1010: 'The server did not negotiate an extension the client requires.',
  1011: 'The server hit an unexpected condition.',
  1012: 'The server is restarting; reconnect after a short delay.',
  1013: 'The server is overloaded or temporarily unavailable; reconnect later.',
  1014: 'A gateway or proxy got an invalid response from the server behind it.',
  1015: 'The TLS handshake failed, for example because the certificate could not be verified.',
  3000: 'The connection needs credentials that were missing or not accepted (HTTP 401).',
  3003: 'The credentials are valid but not allowed to use this endpoint (HTTP 403).',
  3008: 'The peer timed out waiting (HTTP 408).',
  4000: 'The client closed this link to open a new one at once; its session continues.',
  4400: 'The server refused the handshake with HTTP 400: not the request it accepts (a sub-protocol, a header).',
  4401: 'The server refused the handshake with HTTP 401: credentials missing or not accepted.',
  4403: 'The server refused the handshake with HTTP 403: this client may not connect (origin, credentials).',
  4404: 'The server refused the handshake with HTTP 404: no endpoint at this URL.',
  4408: 'Nothing arrived within the heartbeat timeout, so the link was presumed dead and abandoned.',
  4410: 'The server could not resume the session (window passed, unknown session or wrong token); a fresh session starts.',
  4426: 'The server chose the heartline.v1 protocol but its handshake was invalid; the client falls back to plain mode.',
  4429: 'The server refused the handshake with HTTP 429: too many requests; retried after its Retry-After.',
  4503: 'The server refused the handshake with HTTP 503: overloaded or shutting down; retried after its Retry-After.',
  4504: 'The opening handshake did not complete within the connect timeout.',
  4507: 'The client read too slowly and its buffer on the server filled up.',
};

/** What `describeClose()` says about one code. */
export interface CloseDescription {
  readonly code: number;
  /** The catalog name, such as `'PolicyViolation'`, or the range's name for unlisted codes. */
  readonly name: string;
  /** One sentence for people: logs, banners, `heartline explain`. */
  readonly explanation: string;
  /** Whether the default policy reconnects after this code. */
  readonly retry: boolean;
}

/** The sentence `describeClose()` gives for `code`. */
export function explainClose(code: number): string {
  return EXPLANATIONS[code] ?? RANGES[rangeOf(code)]![1];
}

/**
 * Names and explains a close code, and says whether the default policy reconnects after it.
 *
 * @example
 * describeClose(1008) // { code: 1008, name: 'PolicyViolation', explanation: '…', retry: false }
 */
export function describeClose(code: number): CloseDescription {
  return {
    code,
    name: closeName(code),
    explanation: explainClose(code),
    retry: retriesAfter(code),
  };
}

/**
 * The codes an application may pass to `close()`: 1000 and 3000–4999 (WHATWG WebSockets,
 * `close()` step 1); anything else throws an `InvalidAccessError` DOMException.
 */
export function isAppCloseCode(code: number): boolean {
  return code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
}

/**
 * The codes an endpoint may put in a close frame (RFC 6455 §7.4.1–§7.4.2): 1000–1003,
 * 1007–1014 and 3000–4999. 1004 is reserved; 1005, 1006 and 1015 are only ever reported, never
 * sent; 1016–2999 are unassigned. `ws` applies the same rule (lib/validation.js).
 *
 * @example
 * canSendCloseCode(4408) // true
 * canSendCloseCode(1006) // false
 */
export function canSendCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) ||
      (code >= 3000 && code <= 4999))
  );
}

/**
 * The longest close reason, in UTF-8 bytes: RFC 6455 §5.5 caps a control frame's payload at
 * 125 bytes, and the status code takes 2 of them.
 */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether `reason` fits in a close frame.
 *
 * @example
 * closeReasonFits('x'.repeat(124)) // false
 */
export function closeReasonFits(reason: string): boolean {
  // Most reasons are short ASCII: no need to count bytes below a third of the limit.
  return (
    reason.length * 3 <= MAX_CLOSE_REASON_BYTES || utf8Length(reason) <= MAX_CLOSE_REASON_BYTES
  );
}

const RETRY_AFTER = /(?:^|[\s;,])retry-after=(\d{1,10})(?![\w.])/i;

/**
 * Reads a server's retry hint from a close reason: the token `retry-after=<milliseconds>`
 * anywhere in the reason, separated by a space, `;` or `,` (for example
 * `"Service restart; retry-after=4200"`). Returns the delay in ms, or `undefined`.
 *
 * @example
 * parseRetryAfter('Service restart; retry-after=4200') // 4200
 */
export function parseRetryAfter(reason: string): number | undefined {
  const match = RETRY_AFTER.exec(reason);
  return match ? Number(match[1]) : undefined;
}

/** Formats a close reason that carries a retry hint; the inverse of `parseRetryAfter()`. */
export function formatRetryAfter(text: string, ms: number): string {
  return `${text}; retry-after=${Math.max(0, Math.round(ms))}`;
}
