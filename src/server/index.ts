/**
 * `heartline/server`: a WebSocket server on `ws` that keeps only live clients, checks every
 * upgrade before accepting it, bounds everything that can grow and shuts down without a
 * reconnect storm. Node only; see docs/server.md.
 *
 * @example
 * import { HeartlineServer } from 'heartline/server';
 * const server = new HeartlineServer({ port: 8080, origins: ['https://app.example.com'] });
 */
export {
  CallbackError,
  ClientViolationError,
  ErrorCode,
  HeartlineError,
  InvalidOptionError,
  isHeartlineError,
  SocketError,
} from '../common/errors.js';
export {
  CloseCode,
  describeClose,
  formatRetryAfter,
  parseRetryAfter,
} from '../protocol/close-codes.js';
export {
  type CloseMessage,
  type ConnectionMessage,
  channels,
  type DropMessage,
} from './channels.js';
export type { MessageData, PreparedMessage } from './client/outgoing-message.js';
export type { RateLimitOptions } from './client/rate-limiter.js';
export { type SendOptions, ServerClient, type ServerClientEvents } from './client/server-client.js';
export type {
  Adapter,
  AdapterFactory,
  AdapterHost,
  BroadcastTarget,
  Room,
} from './engine/engine.js';
export { MemoryAdapter } from './engine/memory-rooms.js';
export { HeartlineServer, type HeartlineServerEvents } from './heartline-server.js';
export {
  type Attachment,
  type ConnectionLimit,
  DEFAULTS,
  type HeartbeatSettings,
  type HeartlineServerOptions,
  type ResolvedServerOptions,
  type ShutdownSettings,
} from './options.js';
export { type BroadcastOptions, RoomTarget } from './room-target.js';
export type { ServerState } from './server-state.js';
export type { ServerStatsSnapshot } from './server-stats.js';
export { DROP_CAUSES, type DropCause } from './termination-cause.js';
export type { OriginCheck, OriginsOption } from './upgrade/origin-policy.js';
export type { ProtocolSelector, ProtocolsOption } from './upgrade/protocol-policy.js';
