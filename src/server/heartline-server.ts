import { EventEmitter } from 'node:events';
import http, { type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ServerOptions, type WebSocket, WebSocketServer } from 'ws';
import { CallbackError } from '../common/errors.js';
import { SESSION_PROTOCOL } from '../protocol/frames.js';
import { channels } from './channels.js';
import { type MessageData, prepareMessage } from './client/outgoing-message.js';
import { type ClientHost, ServerClient } from './client/server-client.js';
import { kDeliver } from './client-symbols.js';
import type { Adapter, Room } from './engine/engine.js';
import type { Audience } from './engine/replay-log.js';
import { HeartbeatSweeper } from './heartbeat-sweeper.js';
import {
  type HeartlineServerOptions,
  type ResolvedServerOptions,
  resolveOptions,
  resolveShutdown,
  type ShutdownSettings,
} from './options.js';
import { type BroadcastOptions, type RoomHost, RoomTarget, toRooms } from './room-target.js';
import { safeEmit } from './safe-emit.js';
import { canTransition, type ServerState } from './server-state.js';
import { ServerStats, type ServerStatsSnapshot } from './server-stats.js';
import { SessionManager } from './session/manager.js';
import type { SessionLink } from './session/server-session.js';
import type { ResumeRefusal } from './session/session-store.js';
import { drainClients } from './shutdown.js';
import type { DropCause } from './termination-cause.js';
import {
  checkUpgrade,
  matchesPath,
  rejectUpgrade,
  type UpgradeRejection,
} from './upgrade/upgrade-gate.js';

/** The events of a `HeartlineServer`, as `EventEmitter` argument lists. */
export interface HeartlineServerEvents {
  /** A client passed every upgrade check and is connected. */
  connection: [client: ServerClient, request: IncomingMessage];
  /**
   * Something went wrong. With a `client`: that client misbehaved (`ClientViolationError`, and
   * it was closed) or an app listener threw (`CallbackError`; the client stays). Without: the
   * server itself failed (listening on `port`). Client errors are dropped silently when no
   * `error` listener exists; server errors then throw, as for any `EventEmitter`.
   */
  error: [error: Error, client: ServerClient | undefined];
  /** With `port`: the server is listening. */
  listening: [];
  /** `close()` finished: every client, socket and timer is gone. */
  close: [];
}

const secondsOf = (ms: number) => String(Math.max(1, Math.ceil(ms / 1_000)));

/**
 * A WebSocket server on `ws` that keeps only live clients, checks every upgrade before
 * accepting it, bounds everything that can grow, and shuts down without a reconnect storm.
 *
 * @example
 * const server = new HeartlineServer({ port: 8080, origins: ['https://app.example.com'] });
 * server.on('connection', (client) => {
 *   client.join('lobby');
 *   client.on('message', (data) => server.to('lobby').send(data, { except: client }));
 * });
 * process.on('SIGTERM', () => server.close());
 */
export class HeartlineServer extends EventEmitter<HeartlineServerEvents> {
  /** The resolved, frozen options. */
  readonly options: ResolvedServerOptions;
  readonly #wss: WebSocketServer;
  readonly #clients = new Map<string, ServerClient>();
  readonly #stats = new ServerStats();
  readonly #adapter: Adapter;
  readonly #sweeper: HeartbeatSweeper | undefined;
  readonly #http: HttpServer | HttpsServer | undefined;
  readonly #host: ClientHost;
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  #state: ServerState = 'running';
  #drainRetryAfter = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /** Session mode; undefined with `resume: false`. */
  readonly #sessions: SessionManager | undefined;

  /**
   * @param options exactly one of `port`, `server` or `noServer: true`, plus any of the
   * options in docs/server.md. Bad options throw a TypeError naming the option.
   */
  constructor(options: HeartlineServerOptions) {
    super();
    const o = resolveOptions(options);
    this.options = o;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      autoPong: true,
      maxPayload: o.maxPayload,
      closeTimeout: o.closeTimeout,
      handleProtocols: (_offered: Set<string>, request: IncomingMessage) =>
        this.#protocols.get(request) ?? false,
    } as ServerOptions & { closeTimeout: number });
    this.#sweeper = o.heartbeat ? new HeartbeatSweeper(o.heartbeat) : undefined;
    const { textPing, textPong } = o.heartbeat || {};
    this.#adapter = o.adapter({
      deliver: (id, message, volatile) => this.#clients.get(id)?.[kDeliver](message, volatile),
      clientIds: () => this.#clients.keys(),
    });
    if (o.resume) {
      this.#sessions = new SessionManager(o.resume, {
        options: o,
        stats: this.#stats,
        roomsOf: (id) => this.#adapter.roomsOf(id),
        running: () => this.#state === 'running',
        report: (error, client) => this.#report(error, client),
        accept: (ws, request, appProtocol, session, refusal) =>
          this.#accept(ws, request, appProtocol, session, refusal),
      });
    }
    this.#host = {
      options: o,
      stats: this.#stats,
      adapter: this.#adapter,
      sweeper: this.#sweeper,
      textPing: textPing ? Buffer.from(textPing) : undefined,
      textPong: textPing && textPong !== undefined ? prepareMessage(textPong) : undefined,
      report: (error, client) => this.#report(error, client),
      linkEnded: (client, code, reason, cause) => this.#linkEnded(client, code, reason, cause),
      ended: (client) => this.#ended(client),
      append: (audience, message) => this.#sessions!.append(audience, message),
      detached: (client) => this.#sessions?.detached(client),
      ackLater: (client) => this.#sessions?.ackLater(client),
    };
    const a = o.attachment;
    if (a.kind === 'port') {
      this.#http = http.createServer((_request, response) => {
        const body = 'Upgrade Required';
        response.writeHead(426, {
          'Content-Type': 'text/plain',
          'Content-Length': body.length,
          Connection: 'close',
        });
        response.end(body);
      });
      this.#http.on('upgrade', this.#onUpgrade);
      this.#http.on('error', (error) => this.emit('error', error, undefined));
      this.#http.listen(a.port, a.host, () =>
        safeEmit(this, 'listening', [], (error) =>
          this.#report(new CallbackError("A 'listening' listener threw", error), undefined),
        ),
      );
    } else if (a.kind === 'server') {
      this.#http = a.server;
      a.server.on('upgrade', this.#onUpgrade);
    }
  }

  /** `'running'`, `'draining'` once `close()` began, `'closed'` when it finished. */
  get state(): ServerState {
    return this.#state;
  }

  /** The connected clients by id. */
  get clients(): ReadonlyMap<string, ServerClient> {
    return this.#clients;
  }

  /**
   * The address the server listens on (with `port` or an attached server), else `null`.
   * @example (server.address() as AddressInfo).port
   */
  address(): AddressInfo | string | null {
    return this.#http?.address() ?? null;
  }

  /**
   * Runs an upgrade request through the checks and accepts it if they pass. Called for you
   * with `port` and `server`; with `noServer`, call it from your `upgrade` handler.
   *
   * @example
   * httpServer.on('upgrade', (request, socket, head) => server.handleUpgrade(request, socket, head));
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    let verdict: ReturnType<typeof checkUpgrade>;
    try {
      verdict = checkUpgrade(request, this.options);
    } catch (error) {
      this.#report(
        new CallbackError('The `origins` or `protocols` function threw', error),
        undefined,
      );
      verdict = { ok: false, status: 500, message: 'Internal Server Error' };
    }
    if (verdict.ok) verdict = this.#checkCapacity() ?? verdict;
    if (!verdict.ok) {
      this.#stats.reject(verdict.status);
      rejectUpgrade(socket, verdict);
      return;
    }
    const { protocol, appProtocol } = verdict;
    if (protocol !== undefined) this.#protocols.set(request, protocol);
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      if (protocol === SESSION_PROTOCOL && this.#sessions) {
        void this.#sessions.handshake(ws, request, appProtocol);
      } else this.#accept(ws, request, appProtocol);
    });
  }

  /**
   * The members of a room (or of any of several rooms), to send to, count or list.
   * @example server.to('room:42').send('hello');
   */
  to(room: Room | readonly Room[]): RoomTarget {
    return new RoomTarget(toRooms(room), this.#roomHost);
  }

  /**
   * Sends to every connected client (but `except`), encoding the message once.
   * @example server.broadcast(JSON.stringify({ type: 'tick' }), { except: sender });
   */
  broadcast(data: MessageData, options?: BroadcastOptions): void {
    this.#broadcast(undefined, data, options);
  }

  /**
   * The names of the rooms that have members.
   * @example server.rooms() // ['lobby', 'room:42']
   */
  rooms(): Room[] {
    return [...this.#adapter.rooms()];
  }

  /**
   * Counters since start: connections, rooms, bytes and messages both ways, volatile drops,
   * stalls, refused upgrades by status and ended connections by cause.
   * @example server.stats().terminations.heartbeat_timeout
   */
  stats(): ServerStatsSnapshot {
    return this.#stats.snapshot(this.#adapter.roomCount, this.#sweeper?.stalls ?? 0);
  }

  /**
   * Shuts down: running → draining → closed. New upgrades get HTTP 503 with `Retry-After`;
   * every client is closed with `code` and a reason carrying `retry-after=<ms>`, where the ms
   * are drawn uniformly from [0, `retryAfter`) for each client, so that clients come back
   * spread over that window rather than in one burst; clients still connected after
   * `deadline` ms are terminated. Resolves when every socket and timer is gone. Idempotent: later calls return the
   * same promise (and ignore their options).
   *
   * @example
   * process.on('SIGTERM', () => server.close({ retryAfter: 10_000 }));
   */
  close(options?: Partial<ShutdownSettings>): Promise<void> {
    if (!this.#closing) {
      let settings: ShutdownSettings;
      try {
        settings = resolveShutdown(options, this.options.shutdown, 'options');
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closing = this.#shutdown(settings);
    }
    return this.#closing;
  }

  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Another upgrade handler on the same server may own this path (several endpoints).
    if (
      !matchesPath(request, this.options.paths) &&
      (this.#http?.listenerCount('upgrade') ?? 0) > 1
    )
      return;
    this.handleUpgrade(request, socket, head);
  };

  readonly #roomHost: RoomHost = {
    broadcastTo: (rooms, data, options) => this.#broadcast(rooms, data, options),
    membersOf: (rooms) => {
      const ids = new Set<string>();
      for (const room of rooms) for (const id of this.#adapter.members(room)) ids.add(id);
      return [...ids].flatMap((id) => this.#clients.get(id) ?? []);
    },
    countOf: (rooms) =>
      rooms.length === 1
        ? this.#adapter.members(rooms[0]!).size
        : this.#roomHost.membersOf(rooms).length,
  };

  #broadcast(
    rooms: readonly Room[] | undefined,
    data: MessageData,
    options: BroadcastOptions | undefined,
  ): void {
    const message = prepareMessage(data);
    const except = options?.except;
    const ids =
      except === undefined
        ? undefined
        : new Set(except instanceof ServerClient ? [except.id] : [...except].map((c) => c.id));
    const volatile = options?.volatile === true;
    if (!volatile && this.#sessions && this.#sessions.size > 0) {
      // One append whatever the audience's size; sessions that were not there get nothing.
      const exceptIds = ids && [...ids];
      const audience: Audience = rooms
        ? { kind: 'rooms', rooms, except: exceptIds }
        : { kind: 'all', except: exceptIds };
      message.offset = this.#host.append(audience, message);
    }
    this.#adapter.broadcast(message, { rooms, except: ids, volatile });
  }

  #checkCapacity(): UpgradeRejection | undefined {
    if (this.#state !== 'running') {
      const headers = { 'Retry-After': secondsOf(this.#drainRetryAfter) };
      return { ok: false, status: 503, message: 'Server is shutting down', headers };
    }
    const { limit, retryAfter } = this.options.maxConnections;
    if (this.#stats.connections + (this.#sessions?.pending ?? 0) >= limit) {
      const headers = { 'Retry-After': secondsOf(retryAfter) };
      return { ok: false, status: 503, message: 'Too many connections', headers };
    }
    return undefined;
  }

  #accept(
    ws: WebSocket,
    request: IncomingMessage,
    protocol: string,
    session?: SessionLink,
    refusal?: ResumeRefusal,
  ): ServerClient {
    const client = new ServerClient(
      ws,
      protocol,
      request.socket.remoteAddress,
      this.#host,
      session,
    );
    this.#clients.set(client.id, client);
    this.#stats.connections++;
    this.#stats.accepted++;
    if (channels.connection.hasSubscribers) {
      channels.connection.publish({
        clientId: client.id,
        protocol,
        remoteAddress: client.remoteAddress,
      });
    }
    if (session) {
      this.#sessions!.started(ws, client, refusal);
    }
    safeEmit(this, 'connection', [client, request], (error) =>
      this.#report(
        new CallbackError(`A 'connection' listener threw for client ${client.id}`, error),
        client,
      ),
    );
    return client;
  }

  #linkEnded(client: ServerClient, code: number, reason: string, cause: DropCause): void {
    this.#stats.connections--;
    this.#stats.terminations[cause]++;
    if (channels.drop.hasSubscribers) {
      channels.drop.publish({
        clientId: client.id,
        code,
        reason,
        cause,
        duration: Date.now() - client.connectedAt,
      });
    }
  }

  #ended(client: ServerClient): void {
    if (!this.#clients.delete(client.id)) return;
    this.#adapter.leaveAll(client.id);
    this.#sessions?.ended(client);
    if (this.#clients.size === 0) this.#drained?.();
  }

  #report(error: Error, client: ServerClient | undefined): void {
    if (this.listenerCount('error') === 0) {
      // Misbehaving clients are routine; a throwing app listener is a bug worth a warning.
      if (error instanceof CallbackError) process.emitWarning(error);
      return;
    }
    safeEmit(this, 'error', [error, client], (e) => process.emitWarning(e as Error));
  }

  #setState(to: ServerState): void {
    if (!canTransition(this.#state, to))
      throw new Error(`HeartlineServer: illegal move ${this.#state} → ${to}`);
    this.#state = to;
  }

  async #shutdown(s: ShutdownSettings): Promise<void> {
    this.#setState('draining');
    this.#drainRetryAfter = s.retryAfter;
    this.#sweeper?.stop();
    this.#sessions?.close(s.code, s.reason);
    const lastGone = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    const { drained, terminated } = await drainClients(this.#clients, s, lastGone);
    await this.#adapter.close();
    await this.#detach();
    this.#setState('closed');
    if (channels.close.hasSubscribers) channels.close.publish({ drained, terminated });
    safeEmit(this, 'close', [], (error) =>
      this.#report(new CallbackError("A 'close' listener threw", error), undefined),
    );
  }

  async #detach(): Promise<void> {
    const a = this.options.attachment;
    if (a.kind === 'server') a.server.off('upgrade', this.#onUpgrade);
    this.#wss.close();
    if (a.kind === 'port' && this.#http) {
      const server = this.#http;
      // The callback also runs (with ERR_SERVER_NOT_RUNNING) when listen() had failed.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}
