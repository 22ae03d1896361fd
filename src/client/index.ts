/**
 * `heartline`: the client, for browsers and Node. Imports nothing from Node, so it runs in a
 * browser bundle as it is.
 */

export {
  CallbackError,
  ErrorCode,
  HeartbeatError,
  HeartlineError,
  InvalidOptionError,
  InvalidUrlError,
  isHeartlineError,
  NoWebSocketError,
  OutboxOverflowError,
  ProtocolError,
  RequestFailedError,
  RequestLostError,
  RequestTimeoutError,
  RequestUnsupportedError,
  SocketError,
} from '../common/errors.js';
export type { RequestOptions, RequestSettings } from '../common/requests.js';
export {
  CloseCode,
  type CloseCodeName,
  type CloseDescription,
  describeClose,
  parseRetryAfter,
} from '../protocol/close-codes.js';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export {
  AckEvent,
  CloseEvent,
  DropEvent,
  ErrorEvent,
  HeartbeatEvent,
  type HeartlineSocketEventMap,
  MessageEvent,
  OverflowEvent,
  ReconnectingEvent,
  RequestEvent,
  ResumeEvent,
  StateChangeEvent,
} from './events.js';
export type { HeartbeatOptions } from './heartbeat.js';
export {
  DEFAULTS,
  type HeartlineSocketOptions,
  type Logger,
  type ReconnectOptions,
  type SendOptions,
  type SendResult,
  type WebSocketConstructor,
  type WebSocketLike,
} from './options.js';
export type { OutboxOptions } from './outbox.js';
export { byteLength, type Outgoing } from './payload.js';
export { defaultShouldReconnect, type LossCause, type ReconnectInfo } from './retry.js';
export { HeartlineSocket } from './socket.js';
export type { State } from './state.js';
export type { UrlSource } from './url.js';
