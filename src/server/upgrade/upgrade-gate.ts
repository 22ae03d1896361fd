import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ResolvedServerOptions } from '../options.js';
import { isAllowedOrigin } from './origin-policy.js';
import { negotiateProtocol } from './protocol-policy.js';

/** Why an upgrade is refused: the HTTP status, a body that says why, and extra headers. */
export interface UpgradeRejection {
  readonly ok: false;
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An upgrade that passed every check, with the sub-protocol to answer with and the app's. */
export interface UpgradeAcceptance {
  readonly ok: true;
  readonly protocol: string | undefined;
  readonly appProtocol: string;
}

/** The path of a request URL, without its query. */
export function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Whether the request is for one of the configured paths (any path when none is). */
export function matchesPath(
  request: IncomingMessage,
  paths: ReadonlySet<string> | undefined,
): boolean {
  return paths === undefined || paths.has(pathOf(request));
}

/**
 * The checks that need only the request and the options, in the order a client should hear
 * about them: path (404), origin (403), sub-protocol (400). Capacity and shutdown (503) are
 * the server's, as they depend on its state. A function option that throws propagates: the
 * caller reports it and answers 500.
 *
 * @example
 * const verdict = checkUpgrade(request, options);
 * if (!verdict.ok) return rejectUpgrade(socket, verdict);
 */
export function checkUpgrade(
  request: IncomingMessage,
  options: ResolvedServerOptions,
): UpgradeAcceptance | UpgradeRejection {
  if (!matchesPath(request, options.paths)) {
    return { ok: false, status: 404, message: `No WebSocket endpoint at ${pathOf(request)}` };
  }
  const headers = request.headers;
  // RFC 6455 §4.1 uses Origin; version 8 drafts (still accepted by ws) sent Sec-WebSocket-Origin.
  const origin = headers.origin ?? (headers['sec-websocket-origin'] as string | undefined);
  if (origin === undefined) {
    if (!options.allowMissingOrigin) {
      return {
        ok: false,
        status: 403,
        message:
          'Missing Origin header: this server serves browsers only (allowMissingOrigin: false)',
      };
    }
  } else if (!isAllowedOrigin(origin, options.origins, request)) {
    return { ok: false, status: 403, message: `Origin not allowed: ${origin}` };
  }
  const verdict = negotiateProtocol(
    headers['sec-websocket-protocol'],
    options.protocols,
    options.requireProtocol,
    request,
    options.resume !== false,
  );
  if (!verdict.ok) return { ok: false, status: 400, message: verdict.message };
  return { ok: true, protocol: verdict.protocol, appProtocol: verdict.appProtocol };
}

/** What the capacity check needs to know about the server at the moment of an upgrade. */
export interface Load {
  /** Whether the server is running (not draining or closed). */
  readonly running: boolean;
  /** The retry hint, in ms, of a draining server. */
  readonly drainRetryAfter: number;
  /** Links open now, and links in their session handshake. */
  readonly connections: number;
  readonly pending: number;
  readonly limit: number;
  /** ms sent as `Retry-After` with a 503 for the cap. */
  readonly retryAfter: number;
}

const secondsOf = (ms: number) => String(Math.max(1, Math.ceil(ms / 1_000)));

/**
 * The checks that depend on the server's state: 503 with `Retry-After` while draining, and at
 * the connection cap (links in their handshake count, so a flood of half-made sessions cannot
 * pass it).
 *
 * @example
 * checkCapacity({ running: true, drainRetryAfter: 0, connections: 100, pending: 0, limit: 100, retryAfter: 5_000 })
 * // { ok: false, status: 503, message: 'Too many connections', headers: { 'Retry-After': '5' } }
 */
export function checkCapacity(load: Load): UpgradeRejection | undefined {
  if (!load.running) {
    const headers = { 'Retry-After': secondsOf(load.drainRetryAfter) };
    return { ok: false, status: 503, message: 'Server is shutting down', headers };
  }
  if (load.connections + load.pending >= load.limit) {
    const headers = { 'Retry-After': secondsOf(load.retryAfter) };
    return { ok: false, status: 503, message: 'Too many connections', headers };
  }
  return undefined;
}

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket; the WebSocket is
 * never accepted, so a browser sees a failed handshake, never an open-then-closed socket.
 *
 * @example
 * rejectUpgrade(socket, { ok: false, status: 503, message: 'Server is shutting down', headers: { 'Retry-After': '5' } });
 */
export function rejectUpgrade(socket: Duplex, rejection: Omit<UpgradeRejection, 'ok'>): void {
  // A client may reset before reading the answer; that must not become an uncaught error.
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = rejection.message;
  const headers: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...rejection.headers,
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status] ?? ''}\r\n${head}\r\n\r\n${body}`,
  );
}
