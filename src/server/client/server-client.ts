import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { RequestOptions, Respond } from '../../common/requests.js';
import { invalid } from '../../common/validate.js';
import {
  canSendCloseCode,
  closeReasonFits,
  MAX_CLOSE_REASON_BYTES,
} from '../../protocol/close-codes.js';
import type { Audience, Room } from '../engine/engine.js';
import { ClientConnection } from './client-connection.js';
import type { ClientHost } from './client-host.js';
import type { ClientState } from './client-state.js';
import { type MessageData, prepareMessage } from './outgoing-message.js';

/** The events of a `ServerClient`, as `EventEmitter` argument lists. */
export interface ServerClientEvents {
  /**
   * A text message (as a string) or a binary one (as a Buffer). `info.redelivered` is true
   * only in a cluster, after a server process crashed: the app there may have handled this
   * message already (see docs/server.md, "Scaling out").
   */
  message: [data: string | Buffer, isBinary: boolean, info: MessageInfo];
  /**
   * The client ended: its connection (plain mode), or its session (session mode: closed by
   * the client or the server, or not resumed within `resume.window`). When the server ended
   * it (heartbeat, limits, shutdown, `close()`), `code` and `reason` are what the server
   * decided, such as 4408 for a heartbeat timeout; otherwise they are the client's.
   */
  close: [code: number, reason: string];
  /** Session mode: the link dropped; the session waits `resume.window` ms for the client. */
  drop: [code: number, reason: string];
  /** Session mode: the client came back on a new link; what it missed is being replayed. */
  resume: [];
  /**
   * The send buffer was `congested` (past half of `highWaterMark`) and has drained under a
   * quarter of it: send more. A producer that waits for it never reaches the mark (4507).
   */
  drain: [];
  /**
   * Session mode: the client sent a request (`socket.request()`). Answer with `respond(reply)`
   * (now or later), by returning the reply (or a promise of it), or fail it: throw or reject
   * with a `RequestFailedError` (its message and reason reach the client), or call
   * `respond.fail(message, reason)`. Any other error reaches the client as "The request
   * handler failed" and is reported here. The first answer counts. A request runs once
   * however the links drop and resume; after a crash of the server that had it, the client is
   * told it may have run (`RequestLostError`) instead of running it again.
   */
  request: [data: string | Buffer, respond: Respond<MessageData>];
}

/** What a `message` listener learns besides the data. */
export interface MessageInfo {
  /**
   * The message may have reached the app before, on a server process that crashed before it
   * could record that it had: exactly-once needs the app's own idempotence there.
   */
  readonly redelivered: boolean;
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

/** How a client object comes to be. @internal */
export interface ClientInit {
  readonly id: string;
  readonly ws: WebSocket;
  readonly protocol: string;
  /** What `authenticate` said of the client; undefined without it. */
  readonly identity?: unknown;
  readonly remoteAddress: string | undefined;
  /** Session mode: its token and the last client message handled. */
  readonly session?: { readonly token: string; readonly lastSeq: number };
  /** Session mode: a session that started on another process and resumed here. */
  readonly resumed?: boolean;
}

/** Where the server's internals reach a client's connection; not exported from the package. */
export const kConnection = Symbol('heartline.client.connection');

/**
 * The server's handle on one client: what the app sees of it. Plain mode: one connection. In
 * session mode it is the session: it outlives a dropped link for `resume.window` ms and takes
 * the client's next link. Created by `HeartlineServer`; listen to `connection` to get one.
 *
 * @example
 * server.on('connection', (client) => {
 *   client.join('lobby');
 *   client.on('message', (data) => client.send(`echo: ${data}`));
 *   client.on('close', (code, reason) => console.log(client.id, code, reason));
 * });
 */
export class ServerClient<Identity = unknown> extends EventEmitter<ServerClientEvents> {
  /** An unguessable id (128 random bits, base64url); safe to show to other clients. */
  readonly id: string;
  /** The application sub-protocol agreed at the upgrade, or `''`. */
  readonly protocol: string;
  /**
   * Who the client is, as the server's `authenticate` said at its first upgrade (the same on
   * every resume, on any server process); `undefined` without `authenticate`.
   */
  readonly identity: Identity;
  /** When this object was made (`Date.now()`): the first connection, or the resume here. */
  readonly connectedAt: number = Date.now();
  /**
   * Session mode: the session started on another server process and resumed on this one (the
   * app's listeners there are gone; attach them again on `connection`).
   */
  readonly resumed: boolean;
  readonly #host: ClientHost;
  /** The audience of this client's own messages, made once. */
  #audience: Audience | undefined;
  /** @internal */
  readonly [kConnection]: ClientConnection;

  /** @internal Created by `HeartlineServer`. */
  constructor(init: ClientInit, host: ClientHost) {
    super();
    this.id = init.id;
    this.protocol = init.protocol;
    this.identity = init.identity as Identity;
    this.resumed = init.resumed === true;
    this.#host = host;
    this[kConnection] = new ClientConnection(this, host, init.ws, init.remoteAddress, init.session);
  }

  /** Whether this client speaks `heartline.v1` (its messages survive dropped links). */
  get mode(): 'plain' | 'session' {
    return this[kConnection].session ? 'session' : 'plain';
  }

  /** The client's IP address as the server saw it on its current link (a proxy's, behind one). */
  get remoteAddress(): string | undefined {
    return this[kConnection].remoteAddress;
  }

  /** The rooms this client is in. */
  get rooms(): ReadonlySet<Room> {
    return this.#host.engine.roomsOf(this.id);
  }

  /**
   * Round-trip time of the last answered ping, in ms; `undefined` before the first. A plain
   * client is pinged only after `heartbeat.interval` of silence, so a busy one keeps an older
   * figure; a session is pinged every interval.
   */
  get rtt(): number | undefined {
    return this[kConnection].rtt;
  }

  /** Bytes queued for this client and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this[kConnection].bufferedAmount;
  }

  /**
   * The send buffer passed half of `highWaterMark` and has not drained under a quarter of it
   * since (`drain` fires then): slow down, or the client is closed with 4507 at the mark.
   */
  get congested(): boolean {
    return this[kConnection].congested;
  }

  /**
   * Resolves at once when the send buffer is not `congested`, else at its `drain` (or when the
   * client closes or its link drops: then there is nothing to wait for here). Awaiting it
   * before each send keeps a producer under the mark.
   *
   * @example
   * for (const row of rows) {
   *   await client.flushed();
   *   client.send(JSON.stringify(row));
   * }
   */
  flushed(): Promise<void> {
    if (!this.congested || this.state !== 'open') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.off('drain', done);
        this.off('drop', done);
        this.off('close', done);
        resolve();
      };
      this.on('drain', done);
      this.on('drop', done);
      this.on('close', done);
    });
  }

  /**
   * `'open'`; `'detached'` while a session waits for its client to come back; `'closing'` once a
   * close has begun; `'closed'` after the `close` event.
   */
  get state(): ClientState {
    return this[kConnection].state;
  }

  /**
   * Sends a message. Returns `false` when it was not written: the client is closing, or a
   * volatile message met a non-empty send buffer. A client whose send buffer would pass
   * `highWaterMark` is closed with 4507 (slow consumer) instead. In session mode a reliable
   * message is logged first, so it reaches the client even across a dropped link (then
   * `send()` returns `true` while detached).
   *
   * @example
   * client.send(JSON.stringify({ type: 'cursor', x, y }), { volatile: true });
   */
  send(data: MessageData, options?: SendOptions): boolean {
    const message = prepareMessage(data);
    const volatile = options?.volatile === true;
    const connection = this[kConnection];
    if (!connection.session || volatile) return connection.deliver(message, volatile);
    if (connection.state === 'closed' || connection.state === 'closing') return false;
    this.#audience ??= Object.freeze({ kind: 'client', id: this.id });
    return this.#host.engine.publish(message, this.#audience, false);
  }

  /**
   * Session mode: sends the client a request (its `request` event) and resolves with its reply
   * (a string, or a Buffer for binary), once, on whichever link or server process the session
   * is by then. Rejects with `RequestTimeoutError` after `timeout` (`requests.timeout`),
   * `RequestFailedError` when the client's handler failed it, `RequestLostError` when the
   * session ended first, and `RequestUnsupportedError` for a plain client.
   *
   * @example
   * const state = await client.request('what is your draft?', { timeout: 5_000 });
   */
  request(data: MessageData, options?: RequestOptions): Promise<string | Buffer> {
    return this.#host.requests.request(this, data, options);
  }

  /**
   * Adds the client to a room; rooms are created on first join.
   * @example client.join('room:42');
   */
  join(room: Room): this {
    if (typeof room !== 'string' || room === '') invalid('room', 'a non-empty string', room);
    if (this.state !== 'closed') this.#host.engine.join(this.id, room);
    return this;
  }

  /**
   * Removes the client from a room; a room is deleted with its last member.
   * @example client.leave('room:42');
   */
  leave(room: Room): this {
    if (typeof room !== 'string' || room === '') invalid('room', 'a non-empty string', room);
    this.#host.engine.leave(this.id, room);
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
    this[kConnection].end(code, reason, 'server_close', false);
  }

  /**
   * Ends the client at once, without a closing handshake.
   * @example client.terminate();
   */
  terminate(): void {
    this[kConnection].end(1006, '', 'server_close', true);
  }
}
