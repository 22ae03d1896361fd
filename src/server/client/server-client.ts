import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { now as clock } from '../../common/clock.js';
import { CallbackError, ClientViolationError, SocketError } from '../../common/errors.js';
import { invalid } from '../../common/validate.js';
import {
  CloseCode,
  canSendCloseCode,
  closeReasonFits,
  describeClose,
  MAX_CLOSE_REASON_BYTES,
} from '../../protocol/close-codes.js';
import {
  kClient,
  kDeliver,
  kEnd,
  kExpire,
  kExpireSession,
  kFlushAck,
  kOnClose,
  kOnError,
  kOnMessage,
  kOnPing,
  kOnPong,
  kPing,
  kResume,
  kSession,
} from '../client-symbols.js';
import type { Adapter, Room } from '../engine/engine.js';
import type { Audience } from '../engine/replay-log.js';
import type { HeartbeatSweeper } from '../heartbeat-sweeper.js';
import type { ResolvedServerOptions } from '../options.js';
import { safeEmit } from '../safe-emit.js';
import type { ServerStats } from '../server-stats.js';
import type { SessionFrameHooks, SessionLink } from '../session/server-session.js';
import { causeOfReadError, type DropCause } from '../termination-cause.js';
import { createClientId } from './client-id.js';
import { ClientLiveness } from './client-liveness.js';
import {
  type MessageData,
  type PreparedMessage,
  prepareMessage,
  sessionFrame,
} from './outgoing-message.js';
import { RateLimiter } from './rate-limiter.js';

/** The events of a `ServerClient`, as `EventEmitter` argument lists. */
export interface ServerClientEvents {
  /** A text message (as a string) or a binary one (as a Buffer). */
  message: [data: string | Buffer, isBinary: boolean];
  /**
   * The client ended: its connection (plain mode), or its session (session mode: closed by
   * the client or the server, or not resumed within `resume.window`). When the server ended
   * it (heartbeat, limits, shutdown, `close()`), `code` and `reason` are what the server
   * decided, such as 4408 for a heartbeat timeout; otherwise they are the client's.
   */
  close: [code: number, reason: string];
  /** Session mode: the link dropped; the session waits `resume.window` ms for the client. */
  drop: [code: number, reason: string];
  /** Session mode: the client came back on a new link; what it missed was replayed. */
  resume: [];
}

/** Options of `client.send()`. */
export interface SendOptions {
  /**
   * May be dropped instead of queued when the client's send buffer is not empty (cursor
   * positions, typing indicators: a newer one will follow). Never stored for a resume.
   * @default false
   */
  volatile?: boolean;
}

/** What the server lends each client; internal to `heartline/server`. */
export interface ClientHost {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly adapter: Adapter;
  readonly sweeper: HeartbeatSweeper | undefined;
  /** The bytes of `heartbeat.textPing`, and the prepared answer. */
  readonly textPing: Buffer | undefined;
  readonly textPong: PreparedMessage | undefined;
  report(error: Error, client: ServerClient): void;
  /** One link ended (a socket closed): counters and the `drop` channel. */
  linkEnded(client: ServerClient, code: number, reason: string, cause: DropCause): void;
  /** The client ended for good: it leaves its rooms and the server. */
  ended(client: ServerClient): void;
  /** Session mode: appends a reliable message to the replay log; returns its offset. */
  append(audience: Audience, message: PreparedMessage): number;
  /** Session mode: the link dropped, start the resume window; or it came back. */
  detached(client: ServerClient): void;
  /** Session mode: a cumulative ack is due at the end of this event-loop turn. */
  ackLater(client: ServerClient): void;
}

/** A `ws` socket tagged with the client that owns it. */
type TaggedSocket = WebSocket & { [kClient]: ServerClient };

// One listener function per event for all sockets (`this` is the socket), instead of a closure
// per socket and event: idle connections are what a server has most of. The socket is passed
// on, so that a client ignores the events of a link it has already replaced.
function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as TaggedSocket)[kClient][kOnMessage](this, data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as TaggedSocket)[kClient][kOnPong](this);
}
function onSocketPing(this: WebSocket): void {
  (this as TaggedSocket)[kClient][kOnPing](this);
}
function onSocketError(this: WebSocket, error: Error): void {
  (this as TaggedSocket)[kClient][kOnError](this, error);
}
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[kClient][kOnClose](this, code, reason);
}

interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly cause: DropCause;
}

// A session outlives a link the server ended for reasons of the link (RESUMABLE), and one the
// client lost (1006) or closed only to replace it (4000) or because its heartbeat found it dead
// (4408). Any other close from the client, 1000 or 1001 or an app code, ends the session.
const RESUMABLE: ReadonlySet<DropCause> = new Set(['heartbeat_timeout', 'slow_consumer']);
const LINK_ONLY: ReadonlySet<number> = new Set([
  CloseCode.AbnormalClosure,
  CloseCode.Reconnecting,
  CloseCode.HeartbeatTimeout,
]);

/**
 * The server's handle on one client: a class of its own around the `ws` socket, so that the
 * socket stays private and every outbound message goes through one method (`[kDeliver]`),
 * where the backpressure rules live. In session mode it is the session: it outlives a dropped
 * socket for `resume.window` ms and takes the client's next socket. Created by
 * `HeartlineServer`; listen to `connection` to get one.
 *
 * @example
 * server.on('connection', (client) => {
 *   client.join('lobby');
 *   client.on('message', (data) => client.send(`echo: ${data}`));
 *   client.on('close', (code, reason) => console.log(client.id, code, reason));
 * });
 */
export class ServerClient extends EventEmitter<ServerClientEvents> {
  /** An unguessable id (128 random bits, base64url); safe to show to other clients. */
  readonly id: string = createClientId();
  /** The application sub-protocol agreed at the upgrade, or `''`. */
  readonly protocol: string;
  /** When the client first connected (`Date.now()`). */
  readonly connectedAt: number = Date.now();
  #remoteAddress: string | undefined;
  #ws: WebSocket | null;
  readonly #host: ClientHost;
  #liveness: ClientLiveness | undefined;
  readonly #limiter: RateLimiter | undefined;
  /** Session mode's state; undefined for a plain client. */
  readonly #session: SessionLink | undefined;
  /** What a session's frames do to this client; built once, not per message. */
  readonly #frameHooks: SessionFrameHooks | undefined;
  #rtt: number | undefined;
  #ending: Ending | undefined;
  #closed = false;

  /** @internal Created by `HeartlineServer`; `session` makes it a `heartline.v1` session. */
  constructor(
    ws: WebSocket,
    protocol: string,
    remoteAddress: string | undefined,
    host: ClientHost,
    session?: SessionLink,
  ) {
    super();
    this.#host = host;
    this.protocol = protocol;
    this.#session = session;
    if (session) {
      this.#frameHooks = {
        deliver: (payload, binary) => this.#emitMessage(payload, binary),
        ackLater: () => host.ackLater(this),
        rtt: () => this.#onRtt(),
        violate: (code, what) => this.#violate(code, 'Protocol error', 'protocol_error', what),
      };
    }
    if (host.options.rateLimit) this.#limiter = new RateLimiter(host.options.rateLimit, clock());
    this.#ws = null;
    this.#attach(ws, remoteAddress);
  }

  /** Whether this client speaks `heartline.v1` (its messages survive dropped links). */
  get mode(): 'plain' | 'session' {
    return this.#session ? 'session' : 'plain';
  }

  /** The client's IP address as the server saw it on its current link (a proxy's, behind one). */
  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }

  /** The rooms this client is in. */
  get rooms(): ReadonlySet<Room> {
    return this.#host.adapter.roomsOf(this.id);
  }

  /**
   * Round-trip time of the last answered ping, in ms; `undefined` before the first. A plain
   * client is pinged only after `heartbeat.interval` of silence, so a busy one keeps an older
   * figure; a session is pinged every interval.
   */
  get rtt(): number | undefined {
    return this.#rtt;
  }

  /** Bytes queued for this client and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /**
   * `'open'`; `'detached'` while a session waits for its client to come back; `'closing'` once a
   * close has begun; `'closed'` after the `close` event.
   */
  get state(): 'open' | 'detached' | 'closing' | 'closed' {
    if (this.#closed) return 'closed';
    const ws = this.#ws;
    if (!ws) return 'detached';
    return this.#ending || ws.readyState !== ws.OPEN ? 'closing' : 'open';
  }

  /**
   * Sends a message. Returns `false` when it was not written: the client is closing, or a
   * volatile message met a non-empty send buffer. A client whose send buffer would pass
   * `highWaterMark` is closed with 4507 (slow consumer) instead. In session mode a reliable
   * message is stored in the replay log first, so it reaches the client even across a dropped
   * link (then `send()` returns `true` while detached).
   *
   * @example
   * client.send(JSON.stringify({ type: 'cursor', x, y }), { volatile: true });
   */
  send(data: MessageData, options?: SendOptions): boolean {
    const message = prepareMessage(data);
    const volatile = options?.volatile === true;
    if (this.#session && !volatile && !this.#closed) {
      message.offset = this.#host.append({ kind: 'session', id: this.id }, message);
    }
    return this[kDeliver](message, volatile);
  }

  /**
   * Adds the client to a room; rooms are created on first join.
   * @example client.join('room:42');
   */
  join(room: Room): this {
    if (typeof room !== 'string' || room === '') invalid('room', 'a non-empty string', room);
    if (!this.#closed) this.#host.adapter.join(this.id, room);
    return this;
  }

  /**
   * Removes the client from a room; a room is deleted with its last member.
   * @example client.leave('room:42');
   */
  leave(room: Room): this {
    if (typeof room !== 'string' || room === '') invalid('room', 'a non-empty string', room);
    this.#host.adapter.leave(this.id, room);
    return this;
  }

  /**
   * Ends the client (its session too) with `code` (1000 when absent) and `reason` (at most 123
   * bytes), running the closing handshake on its link.
   * @example client.close(4003, 'Forbidden');
   */
  close(code = 1000, reason = ''): void {
    if (!canSendCloseCode(code))
      invalid('code', 'a close code of 1000–1003, 1007–1014 or 3000–4999', code);
    if (typeof reason !== 'string' || !closeReasonFits(reason)) {
      invalid('reason', `a string of at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`, reason);
    }
    this.#end(code, reason, 'server_close', false);
  }

  /**
   * Ends the client at once, without a closing handshake.
   * @example client.terminate();
   */
  terminate(): void {
    this.#end(1006, '', 'server_close', true);
  }

  /**
   * The one send path, for direct sends and broadcasts alike: checks the state and the
   * backpressure rules, then writes bytes that were encoded once.
   * @internal
   */
  [kDeliver](message: PreparedMessage, volatile: boolean): boolean {
    const session = this.#session;
    if (session && message.offset !== undefined) session.addressed(message.offset);
    const ws = this.#ws;
    if (!ws) return !volatile && !this.#closed && message.offset !== undefined; // kept in the log
    if (this.#ending || ws.readyState !== ws.OPEN) return false;
    const stats = this.#host.stats;
    const buffered = ws.bufferedAmount;
    if (volatile && buffered > 0) {
      stats.volatileDropped++;
      return false;
    }
    const data = session ? sessionFrame(message) : message.data;
    const { highWaterMark } = this.#host.options;
    if (buffered > 0 && buffered + data.length > highWaterMark) {
      this.#violate(
        CloseCode.SlowConsumer,
        'Slow consumer',
        'slow_consumer',
        `reads too slowly: ${buffered} bytes wait in its send buffer (highWaterMark ${highWaterMark})`,
      );
      return false;
    }
    ws.send(data, { binary: message.binary });
    stats.messagesOut++;
    stats.bytesOut += message.data.length;
    return true;
  }

  /** Ends the client for the server (shutdown, deadline). @internal */
  [kEnd](code: number, reason: string, cause: DropCause, terminate: boolean): void {
    if (terminate && this.#ending && this.#ws) {
      this.#ws.terminate();
      return;
    }
    this.#end(code, reason, cause, terminate);
  }

  /** @internal The session's state, for the server's resume checks. */
  get [kSession](): SessionLink | undefined {
    return this.#session;
  }

  /** @internal Session mode: a new link for this session; the hello and replay are sent by the caller. */
  [kResume](ws: WebSocket, remoteAddress: string | undefined): void {
    const old = this.#ws;
    if (old) {
      // The client is back while its old link still looks open (half-open): replace it.
      this.#host.linkEnded(this, 1006, 'replaced by a resumed link', 'connection_lost');
      old.terminate();
    }
    this.#dropLiveness();
    this.#ending = undefined;
    this.#attach(ws, remoteAddress);
  }

  /** @internal Session mode: the resume window passed without the client. */
  [kExpireSession](): void {
    const last = this.#session?.lastDrop ?? { code: 1006, reason: '' };
    this.#finish(last.code, last.reason);
  }

  /** @internal */
  [kFlushAck](): void {
    const ws = this.#ws;
    if (ws && !this.#ending) this.#session?.flushAck(ws);
  }

  /** @internal The sweeper's ping: a protocol ping, or in session mode a control frame. */
  [kPing](record: ClientLiveness): void {
    const ws = this.#ws;
    if (!ws || record !== this.#liveness) return;
    if (this.#session) this.#session.ping(ws);
    else ws.ping();
  }

  /** @internal The sweeper found the link dead; a record of a link since replaced is ignored. */
  [kExpire](record: ClientLiveness): void {
    if (record !== this.#liveness || !this.#ws) return;
    this.#end(CloseCode.HeartbeatTimeout, 'Heartbeat timeout', 'heartbeat_timeout', true);
  }

  #attach(ws: WebSocket, remoteAddress: string | undefined): void {
    this.#ws = ws;
    this.#remoteAddress = remoteAddress;
    const { heartbeat } = this.#host.options;
    if (heartbeat && this.#host.sweeper) {
      this.#liveness = new ClientLiveness(
        this,
        clock(),
        heartbeat.interval,
        this.#session !== undefined,
      );
      this.#host.sweeper.add(this.#liveness);
    }
    (ws as TaggedSocket)[kClient] = this;
    ws.on('message', onSocketMessage);
    ws.on('pong', onSocketPong);
    ws.on('ping', onSocketPing);
    ws.on('error', onSocketError);
    ws.on('close', onSocketClose);
  }

  #dropLiveness(): void {
    if (this.#liveness) this.#host.sweeper?.delete(this.#liveness);
    this.#liveness = undefined;
  }

  #end(code: number, reason: string, cause: DropCause, terminate: boolean): void {
    if (this.#closed) return;
    const ws = this.#ws;
    if (!ws) {
      this.#finish(code, reason); // a detached session has no link to close
      return;
    }
    if (!this.#ending) this.#ending = { code, reason, cause };
    this.#dropLiveness();
    if (terminate) ws.terminate();
    else ws.close(code, reason);
  }

  /** The client ends for good: it leaves the server, then `close` fires once. */
  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.ended(this);
    safeEmit(this, 'close', [code, reason], (error) =>
      this.#host.report(this.#callbackError('close', error), this),
    );
  }

  #violate(code: number, reason: string, cause: DropCause, what: string, wsError?: Error): void {
    if (this.#ending || !this.#ws) return;
    this.#ending = { code, reason, cause };
    const name = describeClose(code).name;
    const message = `Client ${this.id} (${this.#remoteAddress ?? 'unknown address'}) ${what}; closed with ${code} ${name}`;
    this.#host.report(new ClientViolationError(message, this.id, code, wsError), this);
    // Closing (not terminating) lets the client read why; `closeTimeout` bounds the wait.
    if (!wsError) this.#ws.close(code, reason);
  }

  /** @internal */
  [kOnMessage](ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    const now = clock();
    if (this.#liveness) this.#liveness.lastSeen = now;
    if (this.#ending) return;
    const host = this.#host;
    host.stats.messagesIn++;
    host.stats.bytesIn += data.length;
    if (this.#limiter && !this.#limiter.take(now)) {
      const { messages, interval } = host.options.rateLimit as {
        messages: number;
        interval: number;
      };
      this.#violate(
        1008,
        'Rate limit exceeded',
        'rate_limit',
        `sent more than ${messages} messages per ${interval} ms`,
      );
      return;
    }
    if (this.#frameHooks) {
      this.#session!.receive(ws, data, isBinary, this.#frameHooks);
      return;
    }
    if (!isBinary && host.textPing?.equals(data)) {
      this[kDeliver](host.textPong!, false);
      return;
    }
    this.#emitMessage(isBinary ? data : data.toString('utf8'), isBinary);
  }

  #emitMessage(data: string | Buffer, isBinary: boolean): void {
    safeEmit(this, 'message', [data, isBinary], (error) =>
      this.#host.report(this.#callbackError('message', error), this),
    );
  }

  #onRtt(): void {
    const l = this.#liveness;
    if (!l) return;
    l.lastSeen = clock();
    if (l.pingSentAt !== 0) {
      this.#rtt = l.lastSeen - l.pingSentAt;
      l.pingSentAt = 0;
    }
  }

  /** @internal */
  [kOnPong](ws: WebSocket): void {
    if (ws === this.#ws) this.#onRtt();
  }

  /** A ping from the client (ws has answered it) proves life too. @internal */
  [kOnPing](ws: WebSocket): void {
    if (ws === this.#ws && this.#liveness) this.#liveness.lastSeen = clock();
  }

  /** @internal */
  [kOnError](ws: WebSocket, error: Error & { code?: string }): void {
    if (ws !== this.#ws) return;
    if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
      // ws has already started the close with the same code (websocket.js receiverOnError).
      const { closeCode, cause } = causeOfReadError(error);
      const what =
        cause === 'message_too_big'
          ? `sent a message over maxPayload (${this.#host.options.maxPayload} bytes)`
          : cause === 'invalid_payload'
            ? 'sent a text message that is not valid UTF-8'
            : `sent a malformed frame: ${error.message}`;
      this.#violate(closeCode, '', cause, `${what} [${error.code}]`, error);
      return;
    }
    this.#host.report(new SocketError(`Client ${this.id}: ${error.message}`, error), this);
  }

  /** @internal */
  [kOnClose](ws: WebSocket, code: number, reasonBytes: Buffer): void {
    if (ws !== this.#ws || this.#closed) return; // a replaced link was already counted
    this.#dropLiveness();
    const ending: Ending = this.#ending ?? {
      code,
      reason: reasonBytes.toString(),
      cause: code === 1006 ? 'connection_lost' : 'client_close',
    };
    this.#host.linkEnded(this, ending.code, ending.reason, ending.cause);
    const session = this.#session;
    const keep =
      session !== undefined &&
      (this.#ending === undefined ? LINK_ONLY.has(code) : RESUMABLE.has(ending.cause));
    if (!keep) {
      this.#ws = null;
      this.#finish(ending.code, ending.reason);
      return;
    }
    this.#ws = null;
    this.#ending = undefined;
    session.lastDrop = { code: ending.code, reason: ending.reason };
    this.#host.detached(this);
    safeEmit(this, 'drop', [ending.code, ending.reason], (error) =>
      this.#host.report(this.#callbackError('drop', error), this),
    );
  }

  #callbackError(event: string, error: unknown): Error {
    return new CallbackError(`A '${event}' listener of client ${this.id} threw`, error);
  }
}
