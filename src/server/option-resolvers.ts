/**
 * The resolvers of the server's option groups, each a shorthand expanded over `DEFAULTS`,
 * validated through the shared helpers and frozen; `resolveOptions()` (options.ts) calls them.
 */
import {
  checkDelay,
  checkKnownKeys,
  checkNumber,
  checkObject,
  invalid,
  withDefaults,
} from '../common/validate.js';
import { closeReasonFits, formatRetryAfter, isAppCloseCode } from '../protocol/close-codes.js';
import type { RateLimitOptions } from './client/rate-limiter.js';
import { DEFAULTS } from './defaults.js';
import type { Engine } from './engine/engine.js';
import type {
  ConnectionLimit,
  ControlLimit,
  HeartbeatSettings,
  ResumeSettings,
  ShutdownSettings,
} from './options.js';

export function resolveHeartbeat(raw: unknown): HeartbeatSettings | false {
  if (raw === false) return false;
  const h = withDefaults(
    'heartbeat',
    typeof raw === 'number' ? { interval: raw } : raw,
    DEFAULTS.heartbeat,
  );
  if (h.textPing !== false && (typeof h.textPing !== 'string' || h.textPing === '')) {
    invalid('heartbeat.textPing', 'a non-empty string or false', h.textPing);
  }
  if (typeof h.textPong !== 'string') invalid('heartbeat.textPong', 'a string', h.textPong);
  return Object.freeze({
    interval: checkDelay('heartbeat.interval', h.interval, 1),
    timeout: checkDelay('heartbeat.timeout', h.timeout, 1),
    textPing: h.textPing,
    textPong: h.textPong,
  });
}

/**
 * A token-bucket option (`rateLimit`, `controlLimit`): `{ <count>, interval }` over its
 * defaults, or a bare number as the count.
 */
function resolveBucket<K extends string>(
  name: string,
  key: K,
  raw: unknown,
  defaults: Readonly<Record<K | 'interval', number>>,
): Readonly<Record<K | 'interval', number>> {
  const b = withDefaults(name, typeof raw === 'number' ? { [key]: raw } : raw, defaults);
  return Object.freeze({
    [key]: checkNumber(`${name}.${key}`, b[key], { min: 1, integer: true }),
    interval: checkDelay(`${name}.interval`, b.interval, 1),
  } as Record<K | 'interval', number>);
}

export function resolveRateLimit(raw: unknown): RateLimitOptions | false {
  return raw === false
    ? false
    : resolveBucket('rateLimit', 'messages', raw, DEFAULTS.rateLimitSettings);
}

export function resolveControlLimit(raw: unknown): ControlLimit {
  return resolveBucket('controlLimit', 'frames', raw, DEFAULTS.controlLimit);
}

export function resolveMaxConnections(raw: unknown): ConnectionLimit {
  const m = withDefaults(
    'maxConnections',
    typeof raw === 'number' ? { limit: raw } : raw,
    DEFAULTS.maxConnections,
  );
  return Object.freeze({
    limit: checkNumber('maxConnections.limit', m.limit, {
      min: 0,
      integer: true,
      allowInfinity: true,
    }),
    retryAfter: checkDelay('maxConnections.retryAfter', m.retryAfter),
  });
}

/** Validates shutdown settings; also used for the options of each `close()` call. */
export function resolveShutdown(
  raw: unknown,
  base: ShutdownSettings,
  name = 'shutdown',
): ShutdownSettings {
  const o = checkObject(name, raw);
  checkKnownKeys(name, o, Object.keys(DEFAULTS.shutdown));
  const s = withDefaults(name, o, base);
  if (
    typeof s.code !== 'number' ||
    (!isAppCloseCode(s.code) && s.code !== 1001 && s.code !== 1012 && s.code !== 1013)
  ) {
    invalid(`${name}.code`, 'a close code of 1000, 1001, 1012, 1013 or 3000–4999', s.code);
  }
  if (typeof s.reason !== 'string') invalid(`${name}.reason`, 'a string', s.reason);
  if (!closeReasonFits(formatRetryAfter(s.reason, 2 ** 31))) {
    invalid(
      `${name}.reason`,
      'a string short enough for a close frame with a retry hint (≤ 97 bytes)',
      s.reason,
    );
  }
  return Object.freeze({
    code: s.code,
    reason: s.reason,
    retryAfter: checkDelay(`${name}.retryAfter`, s.retryAfter),
    restartGap: checkDelay(`${name}.restartGap`, s.restartGap),
    deadline: checkDelay(`${name}.deadline`, s.deadline),
  });
}

export function resolveResume(raw: unknown): ResumeSettings | false {
  if (raw === false) return false;
  const r = withDefaults('resume', raw, DEFAULTS.resume);
  return Object.freeze({
    window: checkDelay('resume.window', r.window, 1),
    maxMessages: checkNumber('resume.maxMessages', r.maxMessages, { min: 1, integer: true }),
    maxBytes: checkNumber('resume.maxBytes', r.maxBytes, { min: 1, integer: true }),
    handshakeTimeout: checkDelay('resume.handshakeTimeout', r.handshakeTimeout, 1),
    maxSessions: checkNumber('resume.maxSessions', r.maxSessions, { min: 1, integer: true }),
    maxRefusals: checkNumber('resume.maxRefusals', r.maxRefusals, {
      min: 1,
      integer: true,
      allowInfinity: true,
    }),
    refusalInterval: checkDelay('resume.refusalInterval', r.refusalInterval, 1),
  });
}

/**
 * The shutdown defaults for `engine`: a durable one (a cluster) hands its sessions to the other
 * nodes, which take the clients at once, so no restart gap holds them back.
 */
export function shutdownBase(engine: Engine | undefined): ShutdownSettings {
  return engine?.durable
    ? Object.freeze({ ...DEFAULTS.shutdown, restartGap: 0 })
    : DEFAULTS.shutdown;
}

/** An engine is recognised by what it can do (another copy of the package may have made it). */
export function resolveEngine(value: unknown): Engine | undefined {
  if (value === undefined) return undefined;
  const e = value as Partial<Record<keyof Engine, unknown>>;
  const methods = ['attach', 'ready', 'publish', 'join', 'leave', 'resume', 'close'] as const;
  if (
    typeof value !== 'object' ||
    value === null ||
    methods.some((m) => typeof e[m] !== 'function')
  ) {
    invalid('engine', 'an engine such as memoryEngine() or redisEngine({ client })', value);
  }
  return value as Engine;
}
