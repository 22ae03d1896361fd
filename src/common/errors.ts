/**
 * Every failure Heartline reports has a class of its own and a stable `code`, so callers can
 * branch on `err.code` without parsing messages. Codes are listed in the README.
 */
export const ErrorCode = {
  /** An option had the wrong type or was out of range. */
  InvalidOption: 'HL_ERR_INVALID_OPTION',
  /** No `WebSocket` constructor was given and the runtime has no global one. */
  NoWebSocket: 'HL_ERR_NO_WEBSOCKET',
  /** `send()` with `outbox.overflow: 'reject'` while the outbox was full. */
  OutboxFull: 'HL_ERR_OUTBOX_FULL',
  /** The URL (or the function that returns it) was not a valid ws:, wss:, http: or https: URL. */
  InvalidUrl: 'HL_ERR_INVALID_URL',
  /** A user-supplied function (URL factory, ping factory, listener…) threw. */
  Callback: 'HL_ERR_CALLBACK',
  /** The underlying WebSocket reported an error; the message says which attempt. */
  Socket: 'HL_ERR_SOCKET',
  /** The peer broke the heartline.v1 session protocol (a bad or missing hello, a malformed frame). */
  Protocol: 'HL_ERR_PROTOCOL',
  /** A server that sends messages never answered the default text heartbeat `"ping"` with `"pong"`. */
  Heartbeat: 'HL_ERR_HEARTBEAT',
  /**
   * Server: a client broke a rule and was closed: a message over `maxPayload` (1009), invalid
   * UTF-8 (1007), a malformed frame (1002), over the rate limit (1008), too slow to read (4507).
   */
  ClientViolation: 'HL_ERR_CLIENT_VIOLATION',
  /** Server: the engine (where sessions, rooms and the log live) failed an operation. */
  Engine: 'HL_ERR_ENGINE',
  /** `request()`: no reply within its `timeout`; a reply that comes later is dropped. */
  RequestTimeout: 'HL_ERR_REQUEST_TIMEOUT',
  /** `request()`: the other end's handler answered with a failure (`RequestFailedError`). */
  RequestFailed: 'HL_ERR_REQUEST_FAILED',
  /**
   * `request()`: no answer can come any more. The session ended or the socket closed before
   * the reply, or the server holding the request crashed: it may or may not have been handled.
   */
  RequestLost: 'HL_ERR_REQUEST_LOST',
  /** `request()` on a plain link: requests need a Heartline server (session mode). */
  RequestUnsupported: 'HL_ERR_REQUEST_UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const BRAND = Symbol.for('heartline.error');

/** Base class of every error Heartline throws or reports. */
export class HeartlineError extends Error {
  override readonly name: string = 'HeartlineError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** A bad option or argument; also a `TypeError`, as `new WebSocket()` would throw. */
export class InvalidOptionError extends TypeError {
  override readonly name = 'InvalidOptionError' as const;
  readonly code = ErrorCode.InvalidOption;
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** No `WebSocket` implementation could be found. */
export class NoWebSocketError extends HeartlineError {
  override readonly name = 'NoWebSocketError' as const;
  constructor() {
    super(
      ErrorCode.NoWebSocket,
      'No WebSocket implementation: this runtime has no global WebSocket (Node < 22). ' +
        "Pass one: new HeartlineSocket(url, [], { WebSocket: (await import('ws')).WebSocket })",
    );
  }
}

/** The outbox was full and its `overflow` policy is `'reject'`. */
export class OutboxOverflowError extends HeartlineError {
  override readonly name = 'OutboxOverflowError' as const;
  constructor(message: string) {
    super(ErrorCode.OutboxFull, message);
  }
}

/** The URL a URL function returned could not be used (the constructor throws a `SyntaxError`). */
export class InvalidUrlError extends HeartlineError {
  override readonly name = 'InvalidUrlError' as const;
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.InvalidUrl, message, { cause });
  }
}

/** A function the app supplied threw; the original error is the `cause`. */
export class CallbackError extends HeartlineError {
  override readonly name = 'CallbackError' as const;
  constructor(message: string, cause: unknown) {
    super(ErrorCode.Callback, message, { cause });
  }
}

/** The underlying socket failed (refused, reset, DNS…); browsers hide the details. */
export class SocketError extends HeartlineError {
  override readonly name = 'SocketError' as const;
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Socket, message, { cause });
  }
}

/**
 * Server: a client broke a rule and the server closed its connection; `closeCode` says which
 * rule and `clientId` which client. A `ws` read error, if that is how it was found, is the `cause`.
 */
export class ClientViolationError extends HeartlineError {
  override readonly name = 'ClientViolationError' as const;
  readonly clientId: string;
  readonly closeCode: number;
  constructor(message: string, clientId: string, closeCode: number, cause?: unknown) {
    super(ErrorCode.ClientViolation, message, { cause });
    this.clientId = clientId;
    this.closeCode = closeCode;
  }
}

/**
 * Server: the engine failed (a shared store unreachable, a script refused); the operation's
 * error is the `cause`. What the failure means for clients is said where it is reported.
 */
export class EngineError extends HeartlineError {
  override readonly name = 'EngineError' as const;
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Engine, message, { cause });
  }
}

/** The server does not answer the heartbeat Heartline sends (browsers: the text `"ping"`). */
export class HeartbeatError extends HeartlineError {
  override readonly name = 'HeartbeatError' as const;
  constructor(message: string) {
    super(ErrorCode.Heartbeat, message);
  }
}

/** The peer broke the `heartline.v1` protocol; `closeCode` is the code the link was closed with. */
export class ProtocolError extends HeartlineError {
  override readonly name = 'ProtocolError' as const;
  readonly closeCode: number;
  constructor(message: string, closeCode: number) {
    super(ErrorCode.Protocol, message);
    this.closeCode = closeCode;
  }
}

/** No reply within the request's `timeout` ms; a reply that comes later is dropped and counted. */
export class RequestTimeoutError extends HeartlineError {
  override readonly name = 'RequestTimeoutError' as const;
  readonly timeout: number;
  constructor(timeout: number) {
    super(ErrorCode.RequestTimeout, `No reply within ${timeout} ms`);
    this.timeout = timeout;
  }
}

/**
 * The other end answered a request with a failure. A request handler throws (or rejects with)
 * one to send its `message` and `reason` to the requester as they are; any other error it
 * throws reaches the requester as "The request handler failed", its details kept local.
 *
 * @example
 * throw new RequestFailedError('No such user', 'not_found');
 */
export class RequestFailedError extends HeartlineError {
  override readonly name = 'RequestFailedError' as const;
  /** A short code of the app's, for the requester to branch on (`'not_found'`). */
  readonly reason: string | undefined;
  constructor(message: string, reason?: string) {
    super(ErrorCode.RequestFailed, message);
    this.reason = reason;
  }
}

/** No answer can come any more (see `ErrorCode.RequestLost`): retry only what is safe to repeat. */
export class RequestLostError extends HeartlineError {
  override readonly name = 'RequestLostError' as const;
  constructor(message: string) {
    super(ErrorCode.RequestLost, message);
  }
}

/** `request()` on a plain link: requests need a Heartline server (session mode). */
export class RequestUnsupportedError extends HeartlineError {
  override readonly name = 'RequestUnsupportedError' as const;
  constructor(message: string) {
    super(ErrorCode.RequestUnsupported, message);
  }
}

/**
 * True for any error created by Heartline, including one from another realm (an iframe, a
 * second copy of the package), where `instanceof` would fail.
 */
export function isHeartlineError(value: unknown): value is HeartlineError | InvalidOptionError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}
