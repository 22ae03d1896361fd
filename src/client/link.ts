/**
 * One connection attempt: it resolves the URL, owns one underlying WebSocket and its handlers,
 * and reports to the socket through one handler object (undici's `#handler`). A dropped link is
 * muted at once, so a late event from it can never reach a newer link.
 */
import { CallbackError, InvalidUrlError, SocketError } from '../common/errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { offerProtocols, PLAIN_MARKER, SESSION_PROTOCOL } from '../protocol/frames.js';
import type { WebSocketConstructor, WebSocketLike } from './options.js';
import { checkUrl, type UrlSource } from './url.js';

/** How a link ended. */
export interface LinkClose {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
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
  /** The URLs that broke `heartline.v1` (plain mode from then on), or null never to offer it. */
  readonly plainUrls: Set<string> | null;
}

const noop = () => {};

export class Link {
  readonly #handler: LinkHandler;
  #socket: WebSocketLike | null = null;
  #muted = false;
  /** Whether this link offered `heartline.v1` (its frames are then read as ArrayBuffers). */
  #offered = false;
  /** The app's binaryType, when it set one. */
  #binaryType: string | undefined;
  /** What ended the socket before its `close`, reported with it. */
  #error: Error | undefined;
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
    this.#handler = handler;
    this.url = url;
    this.#binaryType = binaryType;
    void this.#start(spec);
  }

  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
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

  send(data: unknown): void {
    this.#socket?.send(data as never);
  }

  /** Sends a protocol-level ping, while open (`ws` throws otherwise). */
  ping(): void {
    if (this.#socket?.readyState === 1) this.#socket.ping?.();
  }

  /** Starts the closing handshake; the link still reports its `close`. */
  close(code?: number, reason?: string): void {
    this.#socket?.close(code, reason);
  }

  /**
   * Mutes the link and ends it: its handlers go at once, a no-op error listener stays (ws emits
   * 'error' when a CONNECTING socket is closed, and an EventEmitter with no listener would
   * throw), and it is closed without waiting: `terminate()` where the implementation has it,
   * `close()` otherwise, unless `graceful`. Dropping it again terminates it.
   */
  drop(code?: number, reason?: string, graceful = false): void {
    this.#muted = true;
    const socket = this.#socket;
    if (!socket) return;
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

  async #start(spec: LinkSpec): Promise<void> {
    // Never run an attempt inside the caller's task: events from a failing URL function or a
    // constructor that throws must reach listeners added right after `new HeartlineSocket()`.
    await null;
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
    const offer = spec.plainUrls !== null && !spec.plainUrls.has(url);
    let socket: WebSocketLike;
    try {
      socket = new spec.WebSocket(url, offer ? offerProtocols(spec.protocols) : spec.protocols);
    } catch (error) {
      const e = new SocketError(`Could not create a WebSocket for ${url}`, error);
      return this.#fail(e, 'WebSocket constructor threw');
    }
    this.#socket = socket;
    this.#offered = offer;
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
    socket.onclose = (event) => handler.close(event, this.#error);
    const on = socket.on?.bind(socket);
    if (!on) return;
    // ws is an EventEmitter: its listeners outlive `drop()`, so each checks its link.
    const live = () => this.#socket === socket && !this.#muted;
    on('ping', () => live() && handler.control(false));
    on('pong', () => live() && handler.control(true));
  }

  #open(socket: WebSocketLike): void {
    this.extensions = socket.extensions;
    if (this.#offered && socket.protocol === SESSION_PROTOCOL) this.kind = 'session';
    else {
      this.kind = 'plain';
      this.protocol = socket.protocol === PLAIN_MARKER ? '' : socket.protocol;
      socket.binaryType = this.#binaryType ?? this.native!;
    }
    this.#handler.open();
  }

  /** An attempt that could not start: it ends as a failed WebSocket does, with its error. */
  #fail(error: Error, reason: string): void {
    if (this.#muted) return;
    this.#handler.close({ code: CloseCode.AbnormalClosure, reason, wasClean: false }, error);
  }
}
