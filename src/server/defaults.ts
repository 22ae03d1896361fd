import { REQUEST_DEFAULTS } from '../common/requests.js';
import { CloseCode } from '../protocol/close-codes.js';

const MiB = 1024 * 1024;

/**
 * Every default of the server in one place. A 25 s ping stays below the 55–60 s idle cut of
 * common proxies and balancers (nginx `proxy_read_timeout`, AWS ALB), a 10 s timeout bounds
 * detection to about 35 s, and 1 MiB bounds both directions (`ws`'s own 100 MiB `maxPayload`
 * lets one client hold 100 MiB of a server's memory).
 *
 * @example
 * DEFAULTS.heartbeat.interval // 25_000
 */
export const DEFAULTS = Object.freeze({
  path: undefined,
  origins: 'same-origin',
  allowMissingOrigin: true,
  protocols: Object.freeze([]) as readonly string[],
  requireProtocol: false,
  heartbeat: Object.freeze({
    interval: 25_000,
    timeout: 10_000,
    textPing: 'ping' as string | false,
    textPong: 'pong',
  }),
  maxPayload: MiB,
  highWaterMark: MiB,
  rateLimit: false,
  /** What `rateLimit: {}` or a bare number fills in. */
  rateLimitSettings: Object.freeze({ messages: 100, interval: 1_000 }),
  controlLimit: Object.freeze({ frames: 100, interval: 1_000 }),
  maxConnections: Object.freeze({ limit: Number.POSITIVE_INFINITY, retryAfter: 5_000 }),
  upgradeTimeout: 5_000,
  closeTimeout: 5_000,
  shutdown: Object.freeze({
    code: CloseCode.ServiceRestart as number,
    reason: 'Service restart',
    retryAfter: 5_000,
    // A drain of a few thousand clients and a process restart on one machine (the bench's
    // 5,000 clients: 1.2-1.6 s on a quiet machine); one that takes longer is re-spread by the
    // clients (planRetry's `hinted`).
    restartGap: 2_000,
    deadline: 10_000,
  }),
  requests: REQUEST_DEFAULTS,
  resume: Object.freeze({
    window: 120_000,
    maxMessages: 10_000,
    maxBytes: 16 * MiB,
    handshakeTimeout: 10_000,
    maxSessions: 10_000,
    maxRefusals: 20,
    refusalInterval: 10_000,
  }),
} as const);
