import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import { type ServerOptions, WebSocketServer } from 'ws';
import { CallbackError, EngineError } from '../common/errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { SESSION_PROTOCOL } from '../protocol/frames.js';
import { channels } from './channels.js';
import type { ClientHost } from './client/client-host.js';
import { createClientId } from './client/client-id.js';
import type { MessageData } from './client/outgoing-message.js';
import { type ClientInit, kConnection, ServerClient } from './client/server-client.js';
import type { Engine, EngineHost, Room } from './engine/engine.js';
import { memoryEngine } from './engine/memory-engine.js';
import { Fanout } from './fanout.js';
import { HeartbeatSweeper } from './heartbeat-sweeper.js';
import {
  DEFAULTS,
  type HeartlineServerOptions,
  type ResolvedServerOptions,
  resolveOptions,
  resolveShutdown,
  type ShutdownSettings,
} from './options.js';
import { ServerRequests } from './requests.js';
import { type BroadcastOptions, RoomTarget, toRooms } from './room-target.js';
import { safeEmit } from './safe-emit.js';
import { canMove, type ServerState } from './server-state.js';
import { ServerStats, type ServerStatsSnapshot } from './server-stats.js';
import { AckBatcher } from './session/acks.js';
import { SessionManager } from './session/manager.js';
import { drainClients } from './shutdown.js';
import { type Attached, attach } from './upgrade/attachment.js';
import type { UpgradeAcceptance } from './upgrade/upgrade-gate.js';
import { UpgradeHandler } from './upgrade/upgrade-handler.js';

/**
 * An error's message followed by what caused it (`error.cause`, what a listener threw), for a
 * process warning that is printed as `name: message` only.
 *
 * @example
 * withCause(new CallbackError('A listener threw', new Error('boom'))) // 'A listener threw: Error: boom'
 */
function withCause(error: Error): string {
  const cause = error.cause;
  if (cause === undefined) return error.message;
  const what =
    cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : inspect(cause);
  return `${error.message}: ${what}`;
}

/** The events of a `HeartlineServer`, as `EventEmitter` argument lists. */
export interface HeartlineServerEvents<Identity = unknown> {
  /**
   * A client passed every upgrade check and is connected; or, in a cluster, a session resumed
   * here from another server process (`client.resumed === true`, the same `client.id`).
   */
  connection: [client: ServerClient<Identity>, request: IncomingMessage];
  /**
   * Something went wrong. With a `client`: that client misbehaved (`ClientViolationError`, and
   * it was closed) or an app listener threw (`CallbackError`; the client stays). Without: the
   * server itself failed (listening on `port`, the engine). Client errors are dropped silently
   * when no `error` listener exists; server errors then throw, as for any `EventEmitter`.
   */
  error: [error: Error, client: ServerClient<Identity> | undefined];
  /** With `port`: the server is listening. */
  listening: [];
  /** `close()` finished: every client, socket and timer is gone. */
  close: [];
}

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
export class HeartlineServer<Identity = unknown> extends EventEmitter<
  HeartlineServerEvents<Identity>
> {
  /** The resolved, frozen options. */
  readonly options: ResolvedServerOptions;
  readonly #wss: WebSocketServer;
  readonly #clients = new Map<string, ServerClient>();
  readonly #stats = new ServerStats();
  readonly #engine: Engine;
  readonly #fanout: Fanout;
  readonly #sweeper: HeartbeatSweeper | undefined;
  readonly #acks: AckBatcher | undefined;
  /** Session mode; undefined with `resume: false`. */
  readonly #sessions: SessionManager | undefined;
  readonly #clientHost: ClientHost;
  readonly #attached: Attached;
  readonly #upgrades: UpgradeHandler;
  readonly #requests: ServerRequests;
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  #state: ServerState = 'running';
  #drainRetryAfter = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /**
   * @param options exactly one of `port`, `server` or `noServer: true`, plus any of the
   * options in docs/server.md. Bad options throw a TypeError naming the option.
   */
  constructor(options: HeartlineServerOptions<Identity>) {
    super();
    const o = resolveOptions(options);
    this.options = o;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // Pings are answered by each link's one bounded write, and count against `controlLimit`
      // (ws's own answer would bypass both, and terminate a burst silently).
      autoPong: false,
      maxPayload: o.maxPayload,
      closeTimeout: o.closeTimeout,
      handleProtocols: (_offered: Set<string>, request: IncomingMessage) =>
        this.#protocols.get(request) ?? false,
    } as ServerOptions & { closeTimeout: number });
    this.#sweeper = o.heartbeat ? new HeartbeatSweeper(o.heartbeat) : undefined;
    this.#engine = o.engine ?? memoryEngine();
    this.#engine.attach(this.#engineHost, o.resume || DEFAULTS.resume);
    this.#fanout = new Fanout(this.#engine, this.#clients);
    const report = (error: Error, client?: ServerClient) => this.#report(error, client);
    this.#acks = o.resume ? new AckBatcher(this.#engine, report) : undefined;
    this.#sessions = o.resume
      ? new SessionManager({
          options: o,
          stats: this.#stats,
          engine: this.#engine,
          running: () => this.#state === 'running',
          report,
          local: (id) => this.#clients.get(id),
          admit: (init, request, greet) => this.#admit(init, request, greet),
        })
      : undefined;
    this.#requests = new ServerRequests({
      engine: this.#engine,
      settings: o.requests,
      report,
    });
    this.#clientHost = {
      options: o,
      stats: this.#stats,
      engine: this.#engine,
      sweeper: this.#sweeper,
      acks: this.#acks,
      requests: this.#requests,
      report,
      ended: (client, moved) => this.#ended(client, moved),
      detached: (client) => this.#sessions?.detached(client),
    };
    this.#upgrades = new UpgradeHandler({
      options: o,
      stats: this.#stats,
      running: () => this.#state === 'running',
      drainRetryAfter: () => this.#drainRetryAfter,
      connections: () => this.#stats.connections,
      pending: () => (this.#sessions?.pending ?? 0) + this.#attached.pending(),
      report: (error) => this.#report(error, undefined),
      accept: (request, socket, head, acceptance, identity) =>
        this.#accept(request, socket, head, acceptance, identity),
    });
    this.#attached = attach(
      o.attachment,
      o.paths,
      {
        upgrade: (request, socket, head) => this.handleUpgrade(request, socket, head),
        error: (error) => this.emit('error', error, undefined),
        listening: () =>
          safeEmit(this, 'listening', [], (error) =>
            report(new CallbackError("A 'listening' listener threw", error)),
          ),
      },
      { timeout: o.upgradeTimeout, maxPending: o.maxConnections.limit },
    );
  }

  /** `'running'`, `'draining'` once `close()` began, `'closed'` when it finished. */
  get state(): ServerState {
    return this.#state;
  }

  /** The clients of this process by id: connected, or sessions waiting for a resume. */
  get clients(): ReadonlyMap<string, ServerClient<Identity>> {
    return this.#clients as ReadonlyMap<string, ServerClient<Identity>>;
  }

  /**
   * The address the server listens on (with `port` or an attached server), else `null`.
   * @example (server.address() as AddressInfo).port
   */
  address(): AddressInfo | string | null {
    return this.#attached.address();
  }

  /**
   * Runs an upgrade request through the checks and accepts it if they pass. Called for you
   * with `port` and `server`; with `noServer`, call it from your `upgrade` handler.
   *
   * @example
   * httpServer.on('upgrade', (request, socket, head) => server.handleUpgrade(request, socket, head));
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgrades.handle(request, socket, head);
  }

  /** Every upgrade check passed (and `authenticate`, when set): the WebSocket is accepted. */
  #accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    { protocol, appProtocol }: UpgradeAcceptance,
    identity: unknown,
  ): void {
    if (protocol !== undefined) this.#protocols.set(request, protocol);
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      if (protocol === SESSION_PROTOCOL && this.#sessions) {
        void this.#sessions.handshake(ws, request, appProtocol, identity);
      } else {
        const init = {
          id: createClientId(),
          ws,
          protocol: appProtocol,
          remoteAddress: request.socket.remoteAddress,
          identity,
        };
        this.#admit(init, request);
      }
    });
  }

  /**
   * The members of a room (or of any of several rooms), to send to, count or list.
   * @example server.to('room:42').send('hello');
   */
  to(room: Room | readonly Room[]): RoomTarget {
    return new RoomTarget(toRooms(room), this.#fanout);
  }

  /**
   * Sends to every connected client (but `except`), encoding the message once; in a cluster,
   * to every client of every node. Returns `false` when the engine did not accept it (a
   * cluster whose Redis is away and whose bounded queue is full): then nobody gets it.
   * @example server.broadcast(JSON.stringify({ type: 'tick' }), { except: sender });
   */
  broadcast(data: MessageData, options?: BroadcastOptions): boolean {
    return this.#fanout.broadcastTo(undefined, data, options);
  }

  /**
   * The names of the rooms that have members on this process.
   * @example server.rooms() // ['lobby', 'room:42']
   */
  rooms(): Room[] {
    return [...this.#engine.rooms()];
  }

  /**
   * Counters since start: connections, rooms, bytes and messages both ways, volatile drops,
   * stalls, refused upgrades by status and ended connections by cause.
   * @example server.stats().terminations.heartbeat_timeout
   */
  stats(): ServerStatsSnapshot {
    return this.#stats.snapshot(
      this.#engine.roomCount,
      this.#sweeper?.stalls ?? 0,
      this.#sessions?.waiting ?? 0,
      this.#requests.stats,
    );
  }

  /**
   * Shuts down: running → draining → closed. New upgrades get HTTP 503 with a `Retry-After`
   * of `restartGap + retryAfter`; every client is closed with `code` and a reason carrying
   * `retry-after=<ms>`, where the ms are drawn uniformly from [`restartGap`, `restartGap +
   * retryAfter`) for each client, so that clients come back spread over that window, once the
   * next server is expected to listen, rather than in one burst; clients still connected after
   * `deadline` ms are terminated. Resolves when every socket and timer is gone. Idempotent:
   * later calls return the same promise (and ignore their options).
   *
   * @example
   * process.on('SIGTERM', () => server.close({ retryAfter: 10_000, restartGap: 3_000 }));
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

  readonly #engineHost: EngineHost = {
    deliver: (id, message, volatile) =>
      this.#clients.get(id)?.[kConnection].deliver(message, volatile),
    clientIds: () => this.#clients.keys(),
    report: (error) => this.#report(error, undefined),
    invalidate: (reason) => {
      this.#report(new EngineError(`Sessions can no longer resume: ${reason}`), undefined);
      for (const client of [...this.#clients.values()]) {
        if (client.mode === 'session') {
          client[kConnection].end(CloseCode.ResumeRejected, 'Session lost', 'server_close', false);
        }
      }
    },
    moved: (id) => this.#clients.get(id)?.[kConnection].moved(),
    forwarded: (message) => this.#requests.forwarded(message),
  };

  /** Makes, registers and announces a client; `greet` writes the session's hello first. */
  #admit(init: ClientInit, request: IncomingMessage, greet?: (client: ServerClient) => void): void {
    const client = new ServerClient(init, this.#clientHost);
    this.#clients.set(client.id, client);
    greet?.(client);
    if (channels.connection.hasSubscribers) {
      channels.connection.publish({
        clientId: client.id,
        protocol: client.protocol,
        remoteAddress: client.remoteAddress,
      });
    }
    if (init.resumed && channels.resume.hasSubscribers) {
      channels.resume.publish({
        clientId: client.id,
        moved: true,
        remoteAddress: client.remoteAddress,
      });
    }
    safeEmit(this, 'connection', [client, request], (error) =>
      this.#report(
        new CallbackError(`A 'connection' listener threw for client ${client.id}`, error),
        client,
      ),
    );
  }

  #ended(client: ServerClient, moved: boolean): void {
    if (!moved) this.#requests.ended(client);
    if (!this.#clients.delete(client.id)) return;
    this.#engine.forget(client.id);
    this.#sessions?.ended(client);
    if (this.#clients.size === 0) this.#drained?.();
  }

  #report(error: Error, client: ServerClient | undefined): void {
    if (this.listenerCount('error') === 0) {
      // Misbehaving clients are routine; a throwing app listener is a bug worth a warning, and
      // the warning must say what was thrown: without a listener, nothing else will.
      if (error instanceof CallbackError || error instanceof EngineError) {
        process.emitWarning(withCause(error), { type: error.name, code: error.code });
      }
      return;
    }
    safeEmit(this, 'error', [error, client], (e) => process.emitWarning(e as Error));
  }

  #setState(to: ServerState): void {
    if (!canMove(this.#state, to))
      throw new Error(`Heartline bug: illegal server state move ${this.#state} → ${to}`);
    this.#state = to;
  }

  async #shutdown(s: ShutdownSettings): Promise<void> {
    this.#setState('draining');
    // An upgrade turned away now comes back after every hinted client: past gap + window.
    this.#drainRetryAfter = s.restartGap + s.retryAfter;
    this.#sweeper?.stop();
    this.#sessions?.close(s.code, s.reason);
    const lastGone = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    const { drained, terminated } = await drainClients(this.#clients, s, lastGone);
    this.#requests.close();
    this.#acks?.close();
    await this.#engine.close();
    await this.#attached.detach();
    this.#wss.close();
    this.#setState('closed');
    if (channels.close.hasSubscribers) channels.close.publish({ drained, terminated });
    safeEmit(this, 'close', [], (error) =>
      this.#report(new CallbackError("A 'close' listener threw", error), undefined),
    );
  }
}
