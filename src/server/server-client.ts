import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { now as clock } from '../common/clock.js';
import { CallbackError, ClientViolationError, SocketError } from '../common/errors.js';
import { invalid } from '../common/validate.js';
import { CloseCode, describeClose } from '../protocol/close-codes.js';
import type { Adapter, Room } from './adapter.js';
import { createClientId } from './client-id.js';
import { ClientLiveness } from './client-liveness.js';
import {
  kClient,
  kDeliver,
  kEnd,
  kExpire,
  kOnClose,
  kOnError,
  kOnMessage,
  kOnPing,
  kOnPong,
} from './client-symbols.js';
import { causeOfReadError, type DropCause } from './drop-cause.js';
import type { HeartbeatSweeper } from './heartbeat-sweeper.js';
import type { ResolvedServerOptions } from './options.js';
import { type MessageData, type PreparedMessage, prepareMessage } from './outgoing-message.js';
import { RateLimiter } from './rate-limiter.js';
import { safeEmit } from './safe-emit.js';
import type { ServerStats } from './server-stats.js';

/** The events of a `ServerClient`, as `EventEmitter` argument lists. */
export interface ServerClientEvents {
  /** A text message (as a string) or a binary one (as a Buffer). */
  message: [data: string | Buffer, isBinary: boolean];
  /**
   * The connection ended. When the server ended it (heartbeat, limits, shutdown, `close()`),
   * `code` and `reason` are what the server decided, such as 4408 for a heartbeat timeout;
   * otherwise they are the client's.
   */
  close: [code: number, reason: string];
}

/** Options of `client.send()`. */
export interface SendOptions {
  /**
   * May be dropped instead of queued when the client's send buffer is not empty (cursor
   * positions, typing indicators: a newer one will follow).
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
  ended(client: ServerClient, code: number, reason: string, cause: DropCause): void;
}

/** A `ws` socket tagged with the client that owns it. */
type TaggedSocket = WebSocket & { [kClient]: ServerClient };

// One listener function per event for all sockets (`this` is the socket), instead of a closure
// per socket and event: idle connections are what a server has most of.
function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as TaggedSocket)[kClient][kOnMessage](data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as TaggedSocket)[kClient][kOnPong]();
}
function onSocketPing(this: WebSocket): void {
  (this as TaggedSocket)[kClient][kOnPing]();
}
function onSocketError(this: WebSocket, error: Error): void {
  (this as TaggedSocket)[kClient][kOnError](error);
}
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[kClient][kOnClose](code, reason);
}

interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly cause: DropCause;
}

// ws accepts 1000–1014 except 1004–1006, and 3000–4999 (lib/validation.js isValidStatusCode).
function isSendableCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) ||
      (code >= 3000 && code <= 4999))
  );
}

/**
 * The server's handle on one connected client: a class of its own around the `ws` socket, so
 * that the socket stays private and every outbound message goes through one method
 * (`[kDeliver]`), where the backpressure rules live. Created by `HeartlineServer`; listen to
 * `connection` to get one.
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
  /** The sub-protocol agreed at the upgrade, or `''`. */
  readonly protocol: string;
  /** The client's IP address as the server saw it (a proxy's, behind one). */
  readonly remoteAddress: string | undefined;
  /** When the connection opened (`Date.now()`). */
  readonly connectedAt: number = Date.now();
  readonly #ws: WebSocket;
  readonly #host: ClientHost;
  readonly #liveness: ClientLiveness | undefined;
  readonly #limiter: RateLimiter | undefined;
  #rtt: number | undefined;
  #ending: Ending | undefined;
  #closed = false;

  /** @internal Created by `HeartlineServer`. */
  constructor(
    ws: WebSocket,
    protocol: string,
    remoteAddress: string | undefined,
    host: ClientHost,
  ) {
    super();
    this.#ws = ws;
    this.#host = host;
    this.protocol = protocol;
    this.remoteAddress = remoteAddress;
    const { heartbeat, rateLimit } = host.options;
    const now = clock();
    if (rateLimit) this.#limiter = new RateLimiter(rateLimit, now);
    if (heartbeat && host.sweeper) {
      this.#liveness = new ClientLiveness(ws, this, now, heartbeat.interval);
      host.sweeper.add(this.#liveness);
    }
    (ws as TaggedSocket)[kClient] = this;
    ws.on('message', onSocketMessage);
    ws.on('pong', onSocketPong);
    ws.on('ping', onSocketPing);
    ws.on('error', onSocketError);
    ws.on('close', onSocketClose);
  }

  /** The rooms this client is in. */
  get rooms(): ReadonlySet<Room> {
    return this.#host.adapter.roomsOf(this.id);
  }

  /** Round-trip time of the last answered protocol ping, in ms; `undefined` before the first. */
  get rtt(): number | undefined {
    return this.#rtt;
  }

  /** Bytes queued for this client and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** `'open'`, `'closing'` once a close has begun, `'closed'` after the `close` event. */
  get state(): 'open' | 'closing' | 'closed' {
    if (this.#closed) return 'closed';
    return this.#ending || this.#ws.readyState !== this.#ws.OPEN ? 'closing' : 'open';
  }

  /**
   * Sends a message. Returns `false` when it was not written: the client is closing, or a
   * volatile message met a non-empty send buffer. A client whose send buffer would pass
   * `highWaterMark` is closed with 4507 (slow consumer) instead.
   *
   * @example
   * client.send(JSON.stringify({ type: 'cursor', x, y }), { volatile: true });
   */
  send(data: MessageData, options?: SendOptions): boolean {
    return this[kDeliver](prepareMessage(data), options?.volatile === true);
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
   * Starts a closing handshake with `code` (1000 when absent) and `reason` (at most 123 bytes).
   * @example client.close(4003, 'Forbidden');
   */
  close(code = 1000, reason = ''): void {
    if (!isSendableCode(code))
      invalid('code', 'a close code of 1000–1003, 1007–1014 or 3000–4999', code);
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
      invalid('reason', 'a string of at most 123 bytes', reason);
    }
    this.#end(code, reason, 'server_close', false);
  }

  /**
   * Destroys the connection at once, without a closing handshake.
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
    const ws = this.#ws;
    if (this.#ending || ws.readyState !== ws.OPEN) return false;
    const stats = this.#host.stats;
    const buffered = ws.bufferedAmount;
    if (volatile && buffered > 0) {
      stats.volatileDropped++;
      return false;
    }
    const { highWaterMark } = this.#host.options;
    if (buffered > 0 && buffered + message.data.length > highWaterMark) {
      this.#violate(
        CloseCode.SlowConsumer,
        'Slow consumer',
        'slow_consumer',
        `reads too slowly: ${buffered} bytes wait in its send buffer (highWaterMark ${highWaterMark})`,
      );
      return false;
    }
    ws.send(message.data, { binary: message.binary });
    stats.messagesOut++;
    stats.bytesOut += message.data.length;
    return true;
  }

  /** Ends the connection for the server (shutdown, deadline). @internal */
  [kEnd](code: number, reason: string, cause: DropCause, terminate: boolean): void {
    if (terminate && this.#ending) {
      this.#ws.terminate();
      return;
    }
    this.#end(code, reason, cause, terminate);
  }

  #end(code: number, reason: string, cause: DropCause, terminate: boolean): void {
    if (this.#closed) return;
    if (!this.#ending) this.#ending = { code, reason, cause };
    if (this.#liveness) this.#host.sweeper?.delete(this.#liveness);
    if (terminate) this.#ws.terminate();
    else this.#ws.close(code, reason);
  }

  #violate(code: number, reason: string, cause: DropCause, what: string, wsError?: Error): void {
    if (this.#ending) return;
    this.#ending = { code, reason, cause };
    const name = describeClose(code).name;
    const message = `Client ${this.id} (${this.remoteAddress ?? 'unknown address'}) ${what}; closed with ${code} ${name}`;
    this.#host.report(new ClientViolationError(message, this.id, code, wsError), this);
    // Closing (not terminating) lets the client read why; `closeTimeout` bounds the wait.
    if (!wsError) this.#ws.close(code, reason);
  }

  /** @internal */
  [kExpire](): void {
    this.#end(CloseCode.HeartbeatTimeout, 'Heartbeat timeout', 'heartbeat_timeout', true);
  }

  /** @internal */
  [kOnMessage](data: Buffer, isBinary: boolean): void {
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
    if (!isBinary && host.textPing?.equals(data)) {
      this[kDeliver](host.textPong!, false);
      return;
    }
    safeEmit(this, 'message', [isBinary ? data : data.toString('utf8'), isBinary], (error) =>
      host.report(this.#callbackError('message', error), this),
    );
  }

  /** @internal */
  [kOnPong](): void {
    const l = this.#liveness;
    if (!l) return;
    l.lastSeen = clock();
    if (l.pingSentAt !== 0) {
      this.#rtt = l.lastSeen - l.pingSentAt;
      l.pingSentAt = 0;
    }
  }

  /** A ping from the client (ws has answered it) proves life too. @internal */
  [kOnPing](): void {
    if (this.#liveness) this.#liveness.lastSeen = clock();
  }

  /** @internal */
  [kOnError](error: Error & { code?: string }): void {
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
  [kOnClose](code: number, reason: Buffer): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#liveness) this.#host.sweeper?.delete(this.#liveness);
    const ending: Ending = this.#ending ?? {
      code,
      reason: reason.toString(),
      cause: code === 1006 ? 'connection_lost' : 'client_close',
    };
    this.#host.ended(this, ending.code, ending.reason, ending.cause);
    safeEmit(this, 'close', [ending.code, ending.reason], (error) =>
      this.#host.report(this.#callbackError('close', error), this),
    );
  }

  #callbackError(event: string, error: unknown): Error {
    return new CallbackError(`A '${event}' listener of client ${this.id} threw`, error);
  }
}
