/**
 * One connection attempt: it resolves the URL, owns one underlying WebSocket and its handlers,
 * and reports to the socket through one handler object (undici's `#handler`). A dropped link is
 * muted at once, so a late event from it can never reach a newer link.
 *
 * An attempt may open a second WebSocket by itself, never more than once for each reason: when
 * the first may have failed on Heartline's own offer (a strict server), and after a 401 with a
 * URL function, for a fresh token. The socket sees one attempt either way.
 */
import { CallbackError, InvalidUrlError, SocketError } from '../common/errors.js';
import { BATCH_BYTES } from '../protocol/batch.js';
import { CloseCode, formatRetryAfter } from '../protocol/close-codes.js';
import { offerProtocols, PLAIN_MARKER, SESSION_PROTOCOL } from '../protocol/frames.js';
import { Coalescer } from './coalescer.js';
import type { WebSocketConstructor, WebSocketLike } from './options.js';
import { checkUrl, type UrlSource, urlKey } from './url.js';

/** How a link ended. `refused`: the server answered the opening handshake with an HTTP status. */
export interface LinkClose {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly refused?: boolean;
}

/** What a link tells its socket. Nothing is called once the link was dropped. */
export interface LinkHandler {
  /** The link opened; `kind` says whether the server chose `heartline.v1`. */
  open(): void;
  message(data: unknown, origin: string): void;
  /** `ws`: a protocol-level ping (`false`) or pong (`true`) arrived. */
  control(pong: boolean): void;
  /**
   * The link ended, with the error that ended it, if any: it is reported after the state
   * moved, as a WebSocket fires `error` once it is CLOSED. An attempt that could not even
   * start ends with 1006.
   */
  close(event: LinkClose, error?: Error): void;
}

/** The timer slot a lingering link borrows from its socket (`retry`: what online or reconnect() skip). */
export interface LingerTimer {
  set(slot: 'retry', ms: number, fn: () => void): void;
  clear(slot: 'retry'): void;
}

/** What every link of one socket shares. */
export interface LinkSpec {
  readonly WebSocket: WebSocketConstructor;
  readonly source: UrlSource;
  readonly protocols: string[];
  /**
   * What worked, per URL (see `urlKey`): `true` once an attempt that offered `heartline.v1`
   * opened, `false` once only one without the offer did, or the server broke `heartline.v1`
   * (plain mode from then on). `null`: never offer it (`session: false`).
   */
  readonly offers: Map<string, boolean> | null;
}

/** HTTP statuses of a refused handshake with a close code of their own, 4000 + the status. */
const REFUSALS = [400, 401, 403, 404, 429, 503];
/** A 101 came, and the handshake still failed (`ws`: a sub-protocol it would not accept). */
const UPGRADED = 101;

interface Response {
  readonly statusCode: number;
  readonly statusMessage?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  setEncoding(encoding: string): void;
  on(event: string, listener: (chunk: string) => void): void;
  destroy(): void;
}

const noop = () => {};

/** Lets a socket go: its handlers at once, then the socket (see `Link#drop`). */
function release(socket: WebSocketLike, code?: number, reason?: string, graceful = false): void {
  socket.onopen = socket.onmessage = socket.onclose = null;
  socket.onerror = noop;
  if (socket.readyState < 2) {
    try {
      socket.close(code, reason);
    } catch {
      // An implementation that rejects the code still has to go; terminate() below.
    }
  }
  // A healthy link (reconnect(), pagehide) gets its closing handshake; a dead one cannot.
  if (!graceful) socket.terminate?.();
}

export class Link {
  readonly #spec: LinkSpec;
  readonly #handler: LinkHandler;
  #socket: WebSocketLike | null = null;
  /** What the socket is sent, a turn at a time. */
  #out: Coalescer | null = null;
  #muted = false;
  /** Whether this link offered `heartline.v1` (its frames are then read as ArrayBuffers). */
  #offered = false;
  /** The app's binaryType, when it set one. */
  #binaryType: string | undefined;
  /** What ended the socket before its `close`, reported with it. */
  #error: Error | undefined;
  /** `ws`: the HTTP status a refused handshake got (or 101), and the server's words. */
  #status = 0;
  #reason = '';
  /** The second tries this attempt has spent: without Heartline's offer; with a fresh URL. */
  #withoutOffer = false;
  #refreshed = false;
  /** The URL of this attempt: the given one until a URL function resolved. */
  url: string;
  /** What the link speaks, once it opened. */
  kind: 'plain' | 'session' | undefined;
  /** The sub-protocol a plain server selected (`''` for none); session mode's is in its hello. */
  protocol = '';
  extensions = '';
  /** When the link opened for the app, or -1. */
  openedAt = -1;
  /** The implementation's own default binaryType ('blob', or 'nodebuffer' for ws). */
  native: string | undefined;

  constructor(spec: LinkSpec, handler: LinkHandler, url: string, binaryType: string | undefined) {
    this.#spec = spec;
    this.#handler = handler;
    this.url = url;
    this.#binaryType = binaryType;
    void this.#start();
  }

  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + (this.#out?.buffered ?? 0);
  }

  /** The hello negotiated batches (PROTOCOL.md "Batches"); the server takes `limit` bytes. */
  batch(limit: number): void {
    if (this.#out) this.#out.limit = Math.min(limit, BATCH_BYTES);
  }

  /** Whether the socket can send protocol-level pings and hear their pongs (`ws`). */
  get canPing(): boolean {
    const s = this.#socket;
    return typeof s?.ping === 'function' && typeof s.on === 'function';
  }

  /** The app's binaryType; a link that offered `heartline.v1` reads ArrayBuffers unless plain. */
  set binaryType(value: string) {
    this.#binaryType = value;
    if (this.#socket && (!this.#offered || this.kind === 'plain')) this.#socket.binaryType = value;
  }

  /** `bytes`: the size of a text frame in UTF-8, when the caller knows it. */
  send(data: unknown, bytes?: number): void {
    this.#out?.send(data, bytes);
  }

  /** Sends a protocol-level ping, while open (`ws` throws otherwise). */
  ping(): void {
    if (this.#socket?.readyState === 1) this.#socket.ping?.();
  }

  /** Starts the closing handshake; the link still reports its `close`. */
  close(code?: number, reason?: string): void {
    this.#out?.flush(); // this turn's frames go before the close frame
    this.#socket?.close(code, reason);
  }

  /**
   * Mutes the link and ends it: its handlers go at once, a no-op error listener stays (ws emits
   * 'error' when a CONNECTING socket is closed, and an EventEmitter with no listener would
   * throw), and it is closed without waiting: `terminate()` where the implementation has it,
   * `close()` otherwise, unless `graceful`. Dropping it again terminates it.
   */
  drop(code?: number, reason?: string, graceful = false): void {
    this.#out?.flush();
    this.#muted = true;
    if (this.#socket) release(this.#socket, code, reason, graceful);
  }

  /**
   * After a graceful `drop()`: calls `next` once the closing handshake ends, or after `ms` with
   * the socket terminated, whichever comes first. Dropping the link again cancels the first.
   */
  closeThen(timers: LingerTimer, ms: number, next: () => void): void {
    const done = () => {
      timers.clear('retry');
      next();
    };
    if (this.#socket) this.#socket.onclose = done;
    timers.set('retry', ms, () => {
      this.drop();
      done();
    });
  }

  async #start(): Promise<void> {
    // Never run an attempt inside the caller's task: events from a failing URL function or a
    // constructor that throws must reach listeners added right after `new HeartlineSocket()`.
    await null;
    const spec = this.#spec;
    let url = this.url;
    if (typeof spec.source === 'function') {
      let value: unknown;
      try {
        value = await spec.source();
      } catch (error) {
        return this.#fail(
          new CallbackError('The URL function threw', error),
          'URL function failed',
        );
      }
      try {
        url = checkUrl(value);
      } catch (error) {
        return this.#fail(new InvalidUrlError((error as Error).message, error), 'bad URL');
      }
      if (this.#muted) return;
      this.url = url;
    }
    if (this.#muted) return;
    const offers = spec.offers;
    const offer = offers !== null && offers.get(urlKey(url)) !== false && !this.#withoutOffer;
    let socket: WebSocketLike;
    try {
      socket = new spec.WebSocket(url, offer ? offerProtocols(spec.protocols) : spec.protocols);
    } catch (error) {
      const e = new SocketError(`Could not create a WebSocket for ${url}`, error);
      return this.#fail(e, 'WebSocket constructor threw');
    }
    this.#socket = socket;
    this.#out = new Coalescer(socket);
    this.#offered = offer;
    this.#error = undefined;
    this.#status = 0;
    this.native = socket.binaryType;
    // Session frames are parsed synchronously, so they must not arrive as Blobs.
    socket.binaryType = offer ? 'arraybuffer' : (this.#binaryType ?? this.native);
    const handler = this.#handler;
    socket.onopen = () => this.#open(socket);
    socket.onmessage = (event) => handler.message(event.data, event.origin ?? '');
    socket.onerror = (event) => {
      // Browsers give no detail here on purpose; ws gives the cause. Either way `close` follows.
      const detail = event.message || (event.error instanceof Error ? event.error.message : '');
      this.#error ??= new SocketError(
        `WebSocket error on ${url}${detail ? `: ${detail}` : ''}`,
        event.error,
      );
    };
    socket.onclose = (event) => this.#closed(event);
    const on = socket.on?.bind(socket);
    if (!on) return;
    // ws is an EventEmitter: its listeners outlive `release()`, so each checks its socket.
    const live = () => this.#socket === socket && !this.#muted;
    on('ping', () => live() && handler.control(false));
    on('pong', () => live() && handler.control(true));
    on('upgrade', () => {
      if (live()) this.#status = UPGRADED;
    });
    on('unexpected-response', (request: { destroy(e: Error): void }, response: Response) =>
      this.#refused(socket, request, response, live),
    );
  }

  /**
   * `ws`: a refused handshake. Keeps its status and the server's words (the body's start, or the
   * status text; a `Retry-After` becomes a `retry-after` hint), then fails the request as `ws`
   * does without a listener. An app's own listener, if it has one, reads and ends it instead.
   */
  #refused(
    socket: WebSocketLike,
    request: { destroy(e: Error): void },
    response: Response,
    live: () => boolean,
  ): void {
    const status = response.statusCode;
    const after = String(response.headers['retry-after'] ?? '');
    const seconds = Number(after);
    const ms = after && Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now();
    const said = response.statusMessage ?? '';
    // `body`: what the server said, when this listener read it (and then says it in `error`).
    const keep = (body?: string) => {
      if (!live()) return;
      const text = body || said;
      this.#status = status;
      this.#reason = ms >= 0 ? formatRetryAfter(text, ms) : text;
      if (body === undefined) return;
      this.#error = new SocketError(
        `${this.url} refused: HTTP ${status} ${said}${body && `: ${body}`}`,
      );
    };
    if (socket.listenerCount!('unexpected-response') > 1) {
      keep();
      return;
    }
    let body = '';
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      keep(body.trim().replace(/\s+/g, ' ').slice(0, 123));
      response.destroy();
      request.destroy(new Error(`Unexpected server response: ${status}`));
    };
    response.setEncoding('utf8');
    response.on('data', (chunk) => {
      body += chunk;
      if (body.length >= 123) end();
    });
    for (const type of ['end', 'close', 'error']) response.on(type, end);
  }

  #open(socket: WebSocketLike): void {
    this.extensions = socket.extensions;
    this.#spec.offers?.set(urlKey(this.url), this.#offered);
    if (this.#offered && socket.protocol === SESSION_PROTOCOL) this.kind = 'session';
    else {
      this.kind = 'plain';
      this.protocol = socket.protocol === PLAIN_MARKER ? '' : socket.protocol;
      socket.binaryType = this.#binaryType ?? this.native!;
    }
    this.#handler.open();
  }

  #closed(event: LinkClose): void {
    if (this.kind === undefined) {
      const status = this.#status;
      // A strict server may refuse offers it does not know (HTTP 400), or a sub-protocol reply
      // may not fit the offer (ws: after the 101). Where the WebSocket tells nothing (browsers),
      // any failure of an offer not yet known to work may be that: one more try without it.
      const told = typeof this.#socket!.on === 'function';
      if (
        this.#offered &&
        this.#spec.offers!.get(urlKey(this.url)) !== true &&
        (!told || status === 400 || status === UPGRADED)
      ) {
        this.#withoutOffer = true;
        this.#again();
        return;
      }
      // A 401 with a URL function: one more URL, so that a fresh token can be tried.
      if (status === 401 && typeof this.#spec.source === 'function' && !this.#refreshed) {
        this.#refreshed = true;
        this.#again();
        return;
      }
      if (REFUSALS.includes(status)) {
        event = { code: 4000 + status, reason: this.#reason, wasClean: false, refused: true };
      }
    }
    this.#handler.close(event, this.#error);
  }

  /** Tries once more within this attempt; the socket that failed goes, and says nothing. */
  #again(): void {
    release(this.#socket!);
    this.#socket = null;
    this.#out = null;
    void this.#start();
  }

  /** An attempt that could not start: it ends as a failed WebSocket does, with its error. */
  #fail(error: Error, reason: string): void {
    if (this.#muted) return;
    this.#handler.close({ code: CloseCode.AbnormalClosure, reason, wasClean: false }, error);
  }
}
