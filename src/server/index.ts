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
  EngineError,
  ErrorCode,
  HeartlineError,
  InvalidOptionError,
  isHeartlineError,
  RequestFailedError,
  RequestLostError,
  RequestTimeoutError,
  RequestUnsupportedError,
  SocketError,
} from '../common/errors.js';
export type { RequestOptions, RequestSettings, Respond } from '../common/requests.js';
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
  type ResumeMessage,
} from './channels.js';
export type { ClientState } from './client/client-state.js';
export type { MessageData, PreparedMessage } from './client/outgoing-message.js';
export type { RateLimitOptions } from './client/rate-limiter.js';
export {
  type MessageInfo,
  type SendOptions,
  ServerClient,
  type ServerClientEvents,
} from './client/server-client.js';
export type {
  Audience,
  Engine,
  EngineHost,
  EngineSettings,
  ReplayBatch,
  ReplayCursor,
  ResumeRefusal,
  ResumeRequest,
  ResumeResult,
  Resumption,
  Room,
  SessionInit,
} from './engine/engine.js';
export { MemoryEngine, memoryEngine } from './engine/memory-engine.js';
export { HeartlineServer, type HeartlineServerEvents } from './heartline-server.js';
export {
  type Attachment,
  type ConnectionLimit,
  DEFAULTS,
  type HeartbeatSettings,
  type HeartlineServerOptions,
  type ResolvedServerOptions,
  type ResumeSettings,
  type ShutdownSettings,
} from './options.js';
export { type BroadcastOptions, RoomTarget } from './room-target.js';
export type { ServerState } from './server-state.js';
export type { ServerStatsSnapshot } from './server-stats.js';
export { TERMINATION_CAUSES, type TerminationCause } from './termination-cause.js';
export type { Authenticate, AuthRefusal } from './upgrade/authenticate.js';
export type { OriginCheck, OriginsOption } from './upgrade/origin-policy.js';
export type { ProtocolSelector, ProtocolsOption } from './upgrade/protocol-policy.js';
