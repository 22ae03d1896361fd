/**
 * The server's options: what `new HeartlineServer(options)` accepts, every default in one
 * `DEFAULTS` object (defaults.ts), and the one `resolveOptions()` that validates and freezes
 * them, through one resolver per group (option-resolvers.ts). Nothing else in the server reads
 * raw options. The options table in docs/server.md and the `@default` tags below are checked
 * against `DEFAULTS` by a test.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type RequestSettings, resolveRequests } from '../common/requests.js';
import {
  checkBoolean,
  checkDelay,
  checkKnownKeys,
  checkNumber,
  checkObject,
} from '../common/validate.js';
import { type PreparedMessage, prepareMessage } from './client/outgoing-message.js';
import type { RateLimitOptions } from './client/rate-limiter.js';
import { DEFAULTS } from './defaults.js';
import type { Engine } from './engine/engine.js';
import {
  resolveControlLimit,
  resolveEngine,
  resolveHeartbeat,
  resolveMaxConnections,
  resolveRateLimit,
  resolveResume,
  resolveShutdown,
  shutdownBase,
} from './option-resolvers.js';
import { type AttachmentOptions, resolveAttachment, resolvePaths } from './upgrade/attachment.js';
import { type Authenticate, resolveAuthenticate } from './upgrade/authenticate.js';
import {
  type OriginPolicy,
  type OriginsOption,
  resolveOriginPolicy,
} from './upgrade/origin-policy.js';
import {
  type ProtocolPolicy,
  type ProtocolsOption,
  resolveProtocolPolicy,
} from './upgrade/protocol-policy.js';

export { DEFAULTS, resolveShutdown };

/** Heartbeat settings of the server. */
export interface HeartbeatSettings {
  /** ms between protocol pings to each client. @default 25000 */
  readonly interval: number;
  /** ms a client may stay silent after a ping before it is terminated. @default 10000 */
  readonly timeout: number;
  /** Text message of classic-snippet clients answered with `textPong`; `false` = none. @default 'ping' */
  readonly textPing: string | false;
  /** The answer to `textPing`. @default 'pong' */
  readonly textPong: string;
}

/** Shutdown settings; `close(options)` overrides them per call. */
export interface ShutdownSettings {
  /** Close code sent to every client. @default 1012 */
  readonly code: number;
  /** Close reason text, before the `; retry-after=<ms>` hint. @default 'Service restart' */
  readonly reason: string;
  /** ms over which clients' retry-after hints are spread uniformly, after `restartGap`. @default 5000 */
  readonly retryAfter: number;
  /**
   * ms the server expects to be unreachable once `close()` begins (the drain, the process
   * exiting, the next one starting and listening): every hint is `restartGap` plus its share of
   * `retryAfter`, so the spread starts when the next server listens, instead of the clients
   * whose hint ran out meanwhile all arriving at that moment. 0 when other nodes take the
   * clients at once, and the default with a durable engine (`heartline/redis`). @default 2000
   */
  readonly restartGap: number;
  /** ms after which clients that have not closed are terminated. @default 10000 */
  readonly deadline: number;
}

/** The connection cap. */
export interface ConnectionLimit {
  /** Most clients at once; more get HTTP 503. @default Infinity */
  readonly limit: number;
  /** ms sent as `Retry-After` (in whole seconds) with that 503. @default 5000 */
  readonly retryAfter: number;
}

/**
 * The per-link limit on inbound control frames: pings and pongs of either layer (`heartline.v1`
 * control frames and RFC 6455 ping/pong frames) and `heartbeat.textPing` messages. It holds
 * even with `rateLimit: false`, because every ping is answered: a client that floods them and
 * never reads would otherwise keep the server busy writing pongs it does not read.
 */
export interface ControlLimit {
  /** Control frames allowed per interval, and the largest burst; more close the link with 1008. @default 100 */
  readonly frames: number;
  /** The interval in ms. @default 1000 */
  readonly interval: number;
}

/** Session mode's settings. */
export interface ResumeSettings {
  /** ms a session is kept after its link dropped, for the client to resume it. @default 120000 */
  readonly window: number;
  /** Reliable messages the replay log keeps at most (shared by every session of the process). @default 10000 */
  readonly maxMessages: number;
  /** Payload bytes the replay log keeps at most. @default 16777216 */
  readonly maxBytes: number;
  /** ms a `heartline.v1` link may take to send its `connect` frame. @default 10000 */
  readonly handshakeTimeout: number;
  /**
   * Sessions waiting for a resume (detached) this process keeps at most; past it the session
   * detached longest ago ends at once, as if its window had passed (its resume hears `expired`). @default 10000
   */
  readonly maxSessions: number;
  /**
   * Resumes refused for a wrong token allowed per client address per `refusalInterval`, and
   * the largest burst; past it a resume is not looked up: the link is closed with 1013 and a
   * retry hint. Refusals an honest client gets (a restarted server's `epoch`, `unknown`,
   * `expired`, `gap`) do not count. `Infinity` turns the limit off. @default 20
   */
  readonly maxRefusals: number;
  /** The interval of `maxRefusals`, in ms. @default 10000 */
  readonly refusalInterval: number;
}

/**
 * What `new HeartlineServer(options)` accepts. Exactly one of `port`, `server`, `noServer`.
 *
 * @example
 * new HeartlineServer({ server: httpServer, path: '/ws', origins: ['https://app.example.com'] })
 */
export interface HeartlineServerOptions<Identity = unknown> {
  /** Listen on this port (0 = any free port), with a `node:http` server the instance owns. */
  port?: number;
  /** The host to listen on with `port`; all interfaces when absent. */
  host?: string;
  /** Attach to this existing `http`/`https` server; `close()` leaves it listening. */
  server?: HttpServer | HttpsServer;
  /** Attach to nothing: pass upgrades in with `handleUpgrade(request, socket, head)`. */
  noServer?: boolean;
  /** Accept upgrades only on this path or these paths (query ignored); any path when absent. */
  path?: string | readonly string[];
  /**
   * Allowed `Origin`s: `'same-origin'`, `'*'`, a list (wildcards allowed) or a function.
   * @default 'same-origin'
   * @example origins: ['https://app.example.com', 'https://*.example.com']
   */
  origins?: OriginsOption;
  /**
   * Accept requests with no `Origin` header. Browsers always send one on a WebSocket upgrade,
   * so a request without it comes from a non-browser client (a `ws` client in Node, a mobile
   * app, curl), which could send any Origin it liked: refusing it protects nothing, and
   * `origins` still applies to every request that carries one. `false` serves browsers only.
   * @default true
   */
  allowMissingOrigin?: boolean;
  /**
   * Supported sub-protocols in order of preference, or a function that picks one.
   * @default []
   * @example protocols: ['chat.v2', 'chat.v1']
   */
  protocols?: ProtocolsOption;
  /** Refuse (HTTP 400) clients that offer no sub-protocol. @default false */
  requireProtocol?: boolean;
  /**
   * Who an upgrade request is, decided before the WebSocket is accepted and again before every
   * resume, on whichever server the client reaches: the identity (`client.identity`), `false`
   * (HTTP 401) or `{ status, reason }`. May be async (at most `upgradeTimeout` ms). A resume
   * whose identity differs from its session's is closed with 4403 and starts no session.
   * @example authenticate: async (request) => (await userOf(request)) ?? false
   */
  authenticate?: Authenticate<Identity>;
  /**
   * Heartbeat settings, a number as the interval, or `false` for none.
   * @example heartbeat: { interval: 15_000, timeout: 5_000 }
   */
  heartbeat?: Partial<HeartbeatSettings> | number | false;
  /** Largest message accepted, in bytes; larger ones close the client with 1009. @default 1048576 */
  maxPayload?: number;
  /** Bytes a client's send buffer may hold before it is closed with 4507 (slow consumer). @default 1048576 */
  highWaterMark?: number;
  /**
   * Per-client inbound message limit (over it: close 1008), a number per second, or `false`.
   * @default false
   * @example rateLimit: { messages: 20, interval: 1_000 }
   */
  rateLimit?: Partial<RateLimitOptions> | number | false;
  /**
   * Inbound control frames (pings, pongs) per link; a number sets `frames`. Always on.
   * @example controlLimit: { frames: 20, interval: 1_000 }
   */
  controlLimit?: Partial<ControlLimit> | number;
  /** The connection cap, or a number as its limit. */
  maxConnections?: Partial<ConnectionLimit> | number;
  /**
   * With `port`: ms a client may take to send its whole upgrade request; a half-sent one then
   * gets 408 and is closed. With `server` or `noServer` the HTTP server is the app's: its own
   * `headersTimeout` and `requestTimeout` apply (docs/server.md, "Limits and abuse").
   * @default 5000
   */
  upgradeTimeout?: number;
  /** ms a closing handshake may take before the socket is destroyed. @default 5000 */
  closeTimeout?: number;
  /** Defaults for `close()`. */
  shutdown?: Partial<ShutdownSettings>;
  /**
   * Session mode: how long `client.request()` waits for its answer by default, and how many
   * requests may wait on one client at once (one more is refused at once).
   * @example requests: { timeout: 5_000 }
   */
  requests?: Partial<RequestSettings>;
  /**
   * Where rooms, fan-out, the replay log and the sessions live: this process's memory by
   * default (`memoryEngine()`), or a cluster's shared store (`redisEngine()` from
   * `heartline/redis`). One engine serves one server.
   * @example engine: redisEngine({ client: redis, prefix: 'chat' })
   */
  engine?: Engine;
  /**
   * Session mode (`heartline.v1`, PROTOCOL.md): how long a session outlives its dropped link,
   * and the bounds of the log its missed messages are replayed from; `false` serves plain mode
   * only.
   * @example resume: { window: 30_000 }
   */
  resume?: Partial<ResumeSettings> | false;
}

/** Where the server gets its connections from. */
export type Attachment = AttachmentOptions;

/** The heartbeat's text ping as bytes and its answer, prepared once. */
export interface TextPing {
  readonly ping: Buffer;
  readonly pong: PreparedMessage;
}

export interface ResolvedServerOptions {
  readonly attachment: Attachment;
  readonly paths: ReadonlySet<string> | undefined;
  readonly origins: OriginPolicy;
  readonly allowMissingOrigin: boolean;
  readonly protocols: ProtocolPolicy;
  readonly requireProtocol: boolean;
  readonly authenticate: Authenticate | undefined;
  readonly heartbeat: HeartbeatSettings | false;
  /** `heartbeat.textPing` and `textPong`, encoded once; undefined when off. */
  readonly textPing: TextPing | undefined;
  readonly maxPayload: number;
  readonly highWaterMark: number;
  readonly rateLimit: RateLimitOptions | false;
  readonly controlLimit: ControlLimit;
  readonly maxConnections: ConnectionLimit;
  readonly upgradeTimeout: number;
  readonly closeTimeout: number;
  readonly shutdown: ShutdownSettings;
  readonly requests: RequestSettings;
  readonly engine: Engine | undefined;
  readonly resume: ResumeSettings | false;
}

/** The top-level option names, tied to the options interface so that neither can drift. */
const TOP_KEYS = [
  'port',
  'host',
  'server',
  'noServer',
  'path',
  'origins',
  'allowMissingOrigin',
  'protocols',
  'requireProtocol',
  'authenticate',
  'heartbeat',
  'maxPayload',
  'highWaterMark',
  'rateLimit',
  'controlLimit',
  'maxConnections',
  'upgradeTimeout',
  'closeTimeout',
  'shutdown',
  'requests',
  'engine',
  'resume',
] as const satisfies readonly (keyof HeartlineServerOptions)[];
// …and the other way round: every option has a key above.
type Missing = Exclude<keyof HeartlineServerOptions, (typeof TOP_KEYS)[number]>;
const everyOptionListed: [Missing] extends [never] ? true : Missing = true;
void everyOptionListed;

/**
 * Merges user options over DEFAULTS, expands shorthands (`false`, a bare number), validates
 * every field through the shared helpers and returns a frozen object.
 *
 * @example
 * resolveOptions({ port: 0, heartbeat: 10_000 }).heartbeat // { interval: 10000, timeout: 10000, … }
 */
export function resolveOptions(options: HeartlineServerOptions | undefined): ResolvedServerOptions {
  const o = checkObject('options', options);
  checkKnownKeys('', o, TOP_KEYS);
  const heartbeat = resolveHeartbeat(o.heartbeat ?? DEFAULTS.heartbeat);
  const engine = resolveEngine(o.engine);
  return Object.freeze({
    attachment: resolveAttachment(o),
    paths: resolvePaths(o.path),
    origins: resolveOriginPolicy(o.origins ?? DEFAULTS.origins),
    allowMissingOrigin: checkBoolean(
      'allowMissingOrigin',
      o.allowMissingOrigin ?? DEFAULTS.allowMissingOrigin,
    ),
    protocols: resolveProtocolPolicy(o.protocols ?? DEFAULTS.protocols),
    requireProtocol: checkBoolean('requireProtocol', o.requireProtocol ?? DEFAULTS.requireProtocol),
    authenticate: resolveAuthenticate(o.authenticate),
    heartbeat,
    textPing:
      heartbeat && heartbeat.textPing !== false
        ? Object.freeze({
            ping: Buffer.from(heartbeat.textPing),
            pong: prepareMessage(heartbeat.textPong),
          })
        : undefined,
    maxPayload: checkNumber('maxPayload', o.maxPayload ?? DEFAULTS.maxPayload, {
      min: 1,
      integer: true,
    }),
    highWaterMark: checkNumber('highWaterMark', o.highWaterMark ?? DEFAULTS.highWaterMark, {
      min: 1,
      integer: true,
    }),
    rateLimit: resolveRateLimit(o.rateLimit ?? DEFAULTS.rateLimit),
    controlLimit: resolveControlLimit(o.controlLimit ?? DEFAULTS.controlLimit),
    maxConnections: resolveMaxConnections(o.maxConnections ?? DEFAULTS.maxConnections),
    upgradeTimeout: checkDelay('upgradeTimeout', o.upgradeTimeout ?? DEFAULTS.upgradeTimeout, 1),
    closeTimeout: checkDelay('closeTimeout', o.closeTimeout ?? DEFAULTS.closeTimeout, 1),
    shutdown: resolveShutdown(o.shutdown, shutdownBase(engine)),
    requests: resolveRequests(o.requests),
    engine,
    resume: resolveResume(o.resume),
  });
}
