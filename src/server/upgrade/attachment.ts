import http, { type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkBoolean, checkNumber, invalid } from '../../common/validate.js';
import { matchesPath } from './upgrade-gate.js';

/** Where the server gets its connections from (one of the `port`, `server`, `noServer` options). */
export type AttachmentOptions =
  | { readonly kind: 'port'; readonly port: number; readonly host: string | undefined }
  | { readonly kind: 'server'; readonly server: HttpServer | HttpsServer }
  | { readonly kind: 'noServer' };

export interface AttachmentHandlers {
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** With `port`: listening failed (EADDRINUSE…). */
  error(error: Error): void;
  /** With `port`: the server is listening. */
  listening(): void;
}

/** What the owned HTTP server (`port`) holds its connections to, before they upgrade. */
export interface HttpLimits {
  /** ms a client may take to send its whole request (`upgradeTimeout`); then 408. */
  readonly timeout: number;
  /** Connections whose request has not arrived yet, at most; more are closed at once. */
  readonly maxPending: number;
}

/** The HTTP side of a `HeartlineServer`: what it listens on, and how it lets go. */
export interface Attached {
  address(): AddressInfo | string | null;
  /**
   * With `port`: TCP connections whose upgrade request has not fully arrived yet (they count
   * against the connection cap); 0 otherwise, as the app's server owns its connections.
   */
  pending(): number;
  /** Stops taking upgrades; with `port`, also closes the HTTP server and its connections. */
  detach(): Promise<void>;
}

/**
 * Attaches to where upgrades come from. With `port`, an HTTP server of its own that answers
 * every plain request with 426 Upgrade Required, gives a client `limits.timeout` ms to send its
 * request (then 408, where Node's own defaults wait 60 s and check every 30 s) and counts the
 * connections still sending one. With `server`, a listener on the app's server that leaves
 * requests for other paths to other upgrade listeners (several endpoints on one server). With
 * `noServer`, nothing: the app calls `handleUpgrade` itself.
 *
 * @example
 * const attached = attach({ kind: 'port', port: 0, host: '127.0.0.1' }, paths, handlers, limits);
 * await attached.detach();
 */
export function attach(
  options: AttachmentOptions,
  paths: ReadonlySet<string> | undefined,
  handlers: AttachmentHandlers,
  limits: HttpLimits,
): Attached {
  if (options.kind === 'noServer') {
    return { address: () => null, pending: () => 0, detach: async () => {} };
  }
  const server =
    options.kind === 'server'
      ? options.server
      : http.createServer(
          {
            headersTimeout: limits.timeout,
            requestTimeout: limits.timeout,
            // How often Node looks for requests past those timeouts (its default is 30 s).
            connectionsCheckingInterval: Math.min(1_000, limits.timeout),
          },
          (_request, response) => {
            const body = 'Upgrade Required';
            response.writeHead(426, {
              'Content-Type': 'text/plain',
              'Content-Length': body.length,
              Connection: 'close',
            });
            response.end(body);
          },
        );
  /** With `port`: connections whose request has not arrived yet. */
  const pending = new Set<Socket>();
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    pending.delete(request.socket);
    // Another upgrade listener on the same server may own this path (several endpoints).
    if (!matchesPath(request, paths) && server.listenerCount('upgrade') > 1) return;
    handlers.upgrade(request, socket, head);
  };
  if (options.kind === 'server') {
    server.on('upgrade', onUpgrade);
    return {
      address: () => server.address(),
      pending: () => 0,
      detach: async () => {
        server.off('upgrade', onUpgrade);
      },
    };
  }
  server.on('connection', (socket: Socket) => {
    if (pending.size >= limits.maxPending) {
      // Nothing to answer yet: the request has not been read. The cap is full of requests
      // that have not arrived (each gets at most `upgradeTimeout`).
      socket.destroy();
      return;
    }
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
  });
  server.on('upgrade', onUpgrade);
  server.on('error', handlers.error);
  server.listen(options.port, options.host, handlers.listening);
  return {
    address: () => server.address(),
    pending: () => pending.size,
    detach: () =>
      // The callback also runs (with ERR_SERVER_NOT_RUNNING) when listen() had failed.
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Validates `port`/`host`, `server` and `noServer`: exactly one of the three. */
export function resolveAttachment(o: Record<string, unknown>): AttachmentOptions {
  const given = (['port', 'server', 'noServer'] as const).filter((k) =>
    k === 'noServer' ? o.noServer === true : o[k] !== undefined,
  );
  if (given.length !== 1) {
    invalid(
      'options',
      'an object with exactly one of `port`, `server` or `noServer: true`',
      given.length ? given.join(' and ') : 'none',
    );
  }
  if (o.noServer !== undefined) checkBoolean('noServer', o.noServer);
  if (o.host !== undefined && (typeof o.host !== 'string' || o.port === undefined)) {
    invalid('host', 'a string, given with `port`', o.host);
  }
  if (given[0] === 'port') {
    const port = checkNumber('port', o.port, { min: 0, max: 65_535, integer: true });
    return Object.freeze({ kind: 'port', port, host: o.host as string | undefined });
  }
  if (given[0] === 'server') {
    const server = o.server as { on?: unknown; listeners?: unknown };
    if (
      typeof server !== 'object' ||
      typeof server.on !== 'function' ||
      typeof server.listeners !== 'function'
    ) {
      invalid('server', 'an http.Server or https.Server', o.server);
    }
    return Object.freeze({ kind: 'server', server: o.server as HttpServer });
  }
  return Object.freeze({ kind: 'noServer' });
}

/** Validates `path`: a path or a non-empty list of them, each starting with "/". */
export function resolvePaths(value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    invalid('path', 'a path or a non-empty array of paths', value);
  list.forEach((p: unknown, i) => {
    if (typeof p !== 'string' || !p.startsWith('/') || /[?#\s]/.test(p)) {
      invalid(
        typeof value === 'string' ? 'path' : `path[${i}]`,
        'a path starting with "/" (no query)',
        p,
      );
    }
  });
  return Object.freeze(new Set(list as string[]));
}
