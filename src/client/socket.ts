import { now } from '../common/clock.js';
import {
  CallbackError,
  InvalidUrlError,
  NoWebSocketError,
  ProtocolError,
  SocketError,
} from '../common/errors.js';
import { Timers } from '../common/timers.js';
import { invalid } from '../common/validate.js';
import {
  CloseCode,
  closeReasonFits,
  describeClose,
  isAppCloseCode,
} from '../protocol/close-codes.js';
import {
  type HelloFrame,
  offerProtocols,
  PLAIN_MARKER,
  SESSION_PROTOCOL,
} from '../protocol/frames.js';
import {
  AckEvent,
  CloseEvent,
  DropEvent,
  ErrorEvent,
  HeartbeatEvent,
  MessageEvent,
  OverflowEvent,
  ReconnectingEvent,
  ResumeEvent,
  StateChangeEvent,
} from './events.js';
import { Heartbeat } from './heartbeat.js';
import {
  DEFAULTS,
  type HeartlineSocketOptions,
  type ResolvedOptions,
  resolveOptions,
  type SendOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './options.js';
import { Outbox } from './outbox.js';
import { watchPage } from './page-lifecycle.js';
import { fromBytes, type Outgoing, toPayload } from './payload.js';
import { type Loss, type LossCause, planRetry, type ReconnectInfo } from './retry.js';
import { ClientSession } from './session.js';
import { SocketTarget } from './socket-target.js';
import { canMove, READY_STATE, type State } from './state.js';
import { checkProtocols, checkUrl, type UrlSource } from './url.js';

type Slot = 'heartbeat' | 'connectTimeout' | 'retry' | 'closeTimeout';

const noop = () => {};

/**
 * A WebSocket that stays alive: a drop-in for `WebSocket` that notices dead links with a
 * heartbeat, reconnects with jittered backoff, queues what is sent while the link is down, and
 * reports why every link ended.
 *
 * `close` fires once, when the socket is closed for good (by `close()`, a close code retrying
 * cannot fix, or exhausted retries). A lost link fires `drop`, then `reconnecting`.
 *
 * @example
 * const ws = new HeartlineSocket('wss://example.com/feed', [], { WebSocket });
 * ws.onmessage = (e) => console.log(e.data);
 * ws.addEventListener('drop', (e) => console.warn(e.name, e.explanation));
 * ws.send('hello'); // queued until open
 */
export class HeartlineSocket extends SocketTarget {
  readonly #options: ResolvedOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #source: UrlSource;
  readonly #protocols: string[];
  readonly #timers = new Timers<Slot>();
  readonly #heartbeat: Heartbeat | null;
  readonly #outbox: Outbox | null;
  #state: State = 'connecting';
  /** Bumped for every attempt and every detach: handlers of older sockets compare and return. */
  #generation = 0;
  #socket: WebSocketLike | null = null;
  #url = '';
  #protocol = '';
  #extensions = '';
  #binaryType: string | undefined;
  /** Attempts scheduled since the last stable link; drives the backoff and `maxRetries`. */
  #failures = 0;
  /** When the current link opened, or -1 while it is not open. */
  #openedAt = -1;
  #rtt: number | undefined;
  #unwatchPage: (() => void) | null = null;
  /** The link `reconnect()` is closing gracefully; terminated if the socket closes meanwhile. */
  #lingering: WebSocketLike | null = null;
  /** The server's last retry-after hint, until a link opens (see planRetry's `hinted`). */
  #hinted: number | undefined;
  /** Session mode's state across links; null with `session: false`. */
  readonly #session: ClientSession | null;
  /** What the current link speaks, once it opened. */
  #linkKind: 'plain' | 'session' | undefined;
  /** URLs whose server chose heartline.v1 but broke it: plain mode from then on. */
  readonly #plainUrls = new Set<string>();
  /** The underlying implementation's own default binaryType ('blob', or 'nodebuffer' for ws). */
  #nativeBinaryType: string | undefined;

  /**
   * @param url a `ws:`/`wss:` (or `http:`/`https:`) URL, or a function returning one, called
   *   before every attempt.
   * @param protocols sub-protocols to offer, as for `WebSocket`.
   * @param options see `HeartlineSocketOptions`; every default is in `DEFAULTS`.
   */
  constructor(url: UrlSource, protocols?: string | string[], options?: HeartlineSocketOptions) {
    super();
    this.#options = resolveOptions(options);
    if (typeof url !== 'function') {
      if (typeof url !== 'string' && !(url instanceof URL))
        invalid('url', 'a string, URL or function', url);
      this.#url = checkUrl(url);
    }
    this.#source = url;
    this.#protocols = checkProtocols(protocols);
    const Impl =
      this.#options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof Impl !== 'function') throw new NoWebSocketError();
    this.#WebSocket = Impl;
    this.#outbox = this.#options.outbox ? new Outbox(this.#options.outbox) : null;
    const hb = this.#options.heartbeat;
    this.#heartbeat = hb
      ? new Heartbeat(hb, this.#timers, {
          send: (ping) => this.#socket?.send(ping as never),
          dead: () => this.#onDeadLink(),
          pong: (rtt) => this.#onRtt(rtt),
          error: (error) => this.#reportError(new CallbackError('heartbeat.ping threw', error)),
        })
      : null;
    this.#session =
      this.#options.session === 'auto'
        ? new ClientSession(
            {
              write: (frame) => this.#socket?.send(frame as never),
              deliver: (payload) =>
                this.#emit(
                  new MessageEvent('message', { data: fromBytes(payload, this.binaryType) }),
                ),
              established: (hello, resumed) => this.#established(hello, resumed),
              violated: (code, message, fallback) => this.#violated(code, message, fallback),
              dead: () => this.#onDeadLink(),
              pong: (rtt) => this.#onRtt(rtt),
              acked: (count, seq) => this.#emit(new AckEvent(count, seq)),
              overflow: (dropped) => this.#emit(new OverflowEvent(dropped, 'drop-oldest')),
            },
            this.#options.outbox || DEFAULTS.outbox,
            hb,
            this.#timers,
          )
        : null;
    this.#start();
  }

  /** `'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed'`. */
  get state(): State {
    return this.#state;
  }

  /** WHATWG `readyState`, derived from `state` (`reconnecting` reads as CONNECTING). */
  get readyState(): 0 | 1 | 2 | 3 {
    return READY_STATE[this.#state];
  }

  /** The URL of the current or last attempt ('' before a URL function first resolved). */
  get url(): string {
    return this.#url;
  }

  /** The sub-protocol the server selected on the current link. */
  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return this.#extensions;
  }

  /** The underlying socket's buffer plus every byte waiting in the outbox. */
  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + (this.#outbox?.bytes ?? 0);
  }

  /** Round-trip time of the last answered heartbeat, in ms; `undefined` before the first. */
  get rtt(): number | undefined {
    return this.#rtt;
  }

  /** `'blob'` or `'arraybuffer'` (with `ws`, also `'nodebuffer'`); applied to every link. */
  get binaryType(): string {
    return this.#binaryType ?? this.#nativeBinaryType ?? 'blob';
  }

  set binaryType(value: string) {
    this.#binaryType = value;
    // A session link keeps reading ArrayBuffers: its frames are parsed before delivery.
    if (this.#socket && this.#linkKind !== 'session') this.#socket.binaryType = value;
  }

  /**
   * Sends now when open; otherwise queues in the outbox, to be flushed in order on open. Throws
   * an `InvalidStateError` DOMException once the socket is closing or closed, or when the
   * outbox is off and the socket is not open; under `outbox.overflow: 'reject'`, throws an
   * `OutboxOverflowError` when full.
   *
   * In session mode, a message stays numbered and kept until the server acknowledges it, and
   * is resent after a resume. `{ volatile: true }` marks a message that may be dropped (cursor
   * positions, typing): it is never queued, kept or replayed.
   */
  send(data: Outgoing, options?: SendOptions): void {
    const state = this.#state;
    if (state === 'closing' || state === 'closed') {
      throw new DOMException(
        `HeartlineSocket is ${state}; call reconnect() to open it again`,
        'InvalidStateError',
      );
    }
    const session = this.#session;
    if (session?.known && this.#linkKind !== 'plain') {
      // Numbered and kept until acknowledged, across links.
      const payload = toPayload(data);
      if (options?.volatile) session.sendVolatile(payload);
      else session.send(payload);
      return;
    }
    if (state === 'open' && this.#socket) {
      this.#socket.send(data as never);
      return;
    }
    if (options?.volatile) return; // volatile while the link is down: dropped, by definition
    if (!this.#outbox) {
      throw new DOMException(
        `HeartlineSocket is ${state} and its outbox is off`,
        'InvalidStateError',
      );
    }
    let dropped: Outgoing[];
    try {
      dropped = this.#outbox.push(data);
    } catch (error) {
      this.#emit(new OverflowEvent([data], 'reject'));
      throw error;
    }
    if (dropped.length > 0) this.#emit(new OverflowEvent(dropped, 'drop-oldest'));
  }

  /**
   * Closes for good: cancels any scheduled attempt, runs the closing handshake on an open link
   * (at most `closeTimeout` ms), then fires `close` once. Idempotent. Codes follow WHATWG:
   * 1000 or 3000–4999, and a reason of at most 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && !isAppCloseCode(code)) {
      throw new DOMException(
        `The close code must be 1000 or in 3000–4999, got ${code}`,
        'InvalidAccessError',
      );
    }
    if (reason !== undefined && !closeReasonFits(String(reason))) {
      throw new DOMException('The close reason must be at most 123 UTF-8 bytes', 'SyntaxError');
    }
    const state = this.#state;
    if (state === 'closing' || state === 'closed') return;
    this.#log('info', 'close() called', { code, reason });
    this.#session?.end();
    this.#dropLingering();
    this.#stopLink();
    this.#timers.clear('retry');
    this.#unwatchPage?.();
    this.#unwatchPage = null;
    const socket = this.#socket;
    if (state === 'open' && socket) {
      this.#setState('closing', 'close()');
      socket.close(code, reason);
      this.#timers.set('closeTimeout', this.#options.closeTimeout, () => {
        this.#detach();
        this.#finish(CloseCode.AbnormalClosure, 'closing handshake timed out', false);
      });
      return;
    }
    this.#detach(code, reason);
    // No link to close: answer as a WebSocket does, with `close` after the current task.
    this.#setState('closed', 'close()');
    queueMicrotask(() =>
      this.#emit(
        new CloseEvent('close', {
          code: code ?? CloseCode.NoStatusReceived,
          reason: reason ?? '',
          wasClean: false,
        }),
      ),
    );
  }

  /**
   * Connects now. While waiting for a retry, skips the wait; when open, replaces the link
   * (for a new token, say) without a `close`; when closed, opens it again with a fresh
   * attempt count. Does nothing while an attempt is in flight.
   */
  reconnect(): void {
    switch (this.#state) {
      case 'open': {
        this.#log('info', 'reconnect() replaces the open link');
        const old = this.#socket!;
        this.#detach(CloseCode.Reconnecting, 'client reconnect', true);
        this.#stopLink();
        this.#setState('reconnecting', 'reconnect()');
        // The next socket waits for the old one's closing handshake (at most closeTimeout), so
        // the server never holds two links of this client at once.
        const gen = this.#generation;
        this.#lingering = old;
        const next = () => {
          this.#lingering = null;
          if (gen !== this.#generation) return;
          this.#timers.clear('retry');
          this.#connect();
        };
        old.onclose = next;
        this.#timers.set('retry', this.#options.closeTimeout, () => {
          old.terminate?.();
          next();
        });
        return;
      }
      case 'reconnecting':
        if (this.#timers.has('retry')) {
          this.#timers.clear('retry');
          this.#connect();
        }
        return;
      case 'closing':
        this.#detach();
        this.#finish(CloseCode.NormalClosure, 'reconnect() during closing', false);
        this.#restart();
        return;
      case 'closed':
        this.#restart();
        return;
      case 'connecting':
        return;
    }
  }

  protected override onListenerError(error: unknown, event: Event): void {
    const wrapped = new CallbackError(`A "${event.type}" listener threw`, error);
    if (event.type === 'error') this.#fallbackReport(wrapped);
    else this.#reportError(wrapped);
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  #restart(): void {
    this.#failures = 0;
    this.#setState('connecting', 'reconnect()');
    this.#start();
  }

  #start(): void {
    this.#unwatchPage = watchPage({
      closeOnUnload: this.#options.closeOnUnload,
      online: () => this.#onOnline(),
      offline: () => this.#probe(),
      visible: () => this.#probe(),
      pagehide: (persisted) => {
        // A page that is unloaded for real ends its session; one going into the back/forward
        // cache keeps it, to resume on pageshow.
        if (!persisted) return this.close(CloseCode.NormalClosure, 'page unloaded');
        this.#timers.clear('retry');
        this.#abandon(CloseCode.Reconnecting, 'page hidden', 'pagehide', true);
      },
      pageshow: () =>
        this.#state === 'reconnecting' &&
        !this.#socket &&
        !this.#timers.has('retry') &&
        this.#connect(),
    });
    this.#connect();
  }

  #setState(to: State, cause: string): void {
    const from = this.#state;
    if (from === to) return;
    if (!canMove(from, to))
      throw new Error(`Heartline bug: illegal state move ${from} → ${to} (${cause})`);
    this.#state = to;
    this.#log('debug', `state ${from} → ${to}`, { cause });
    this.#emit(new StateChangeEvent(from, to, cause));
  }

  async #connect(): Promise<void> {
    this.#detach(); // by construction there is none; this keeps "at most one socket" true anyway
    const gen = ++this.#generation;
    // The timeout covers the URL factory too: a token fetch that hangs is a failed attempt.
    this.#timers.set('connectTimeout', this.#options.reconnect.connectTimeout, () =>
      this.#abandon(CloseCode.ConnectTimeout, 'connect timeout', 'connect_timeout'),
    );
    // Never run an attempt inside the caller's task: events from a failing URL function or a
    // constructor that throws must reach listeners added right after `new HeartlineSocket()`.
    await null;
    if (gen !== this.#generation) return;
    let url = this.#url;
    if (typeof this.#source === 'function') {
      try {
        url = checkUrl(await this.#source());
      } catch (error) {
        if (gen !== this.#generation) return;
        this.#reportError(
          error instanceof InvalidUrlError
            ? error
            : new CallbackError('The URL function threw', error),
        );
        this.#lost({
          code: CloseCode.AbnormalClosure,
          reason: 'URL function failed',
          wasClean: false,
          cause: 'network_error',
        });
        return;
      }
      if (gen !== this.#generation) return;
      this.#url = url;
    }
    let socket: WebSocketLike;
    const offerSession = this.#session !== null && !this.#plainUrls.has(url);
    try {
      socket = new this.#WebSocket(
        url,
        offerSession ? offerProtocols(this.#protocols) : this.#protocols,
      );
    } catch (error) {
      this.#reportError(new SocketError(`Could not create a WebSocket for ${url}`, error));
      this.#lost({
        code: CloseCode.AbnormalClosure,
        reason: 'WebSocket constructor threw',
        wasClean: false,
        cause: 'network_error',
      });
      return;
    }
    this.#socket = socket;
    this.#nativeBinaryType ??= socket.binaryType;
    // Session frames are parsed synchronously, so they must not arrive as Blobs.
    socket.binaryType = offerSession ? 'arraybuffer' : this.binaryType;
    socket.onopen = () => gen === this.#generation && this.#onOpen();
    socket.onmessage = (event) =>
      gen === this.#generation && this.#onMessage(event.data, event.origin);
    socket.onerror = (event) => gen === this.#generation && this.#onSocketError(event, url);
    socket.onclose = (event) => gen === this.#generation && this.#onSocketClose(event);
  }

  #onOpen(): void {
    const socket = this.#socket!;
    this.#extensions = socket.extensions;
    if (socket.protocol === SESSION_PROTOCOL && this.#session) {
      // Open only once the server's hello arrives, within what is left of connectTimeout.
      this.#linkKind = 'session';
      this.#session.begin();
      return;
    }
    this.#linkKind = 'plain';
    this.#protocol = socket.protocol === PLAIN_MARKER ? '' : socket.protocol;
    socket.binaryType = this.binaryType;
    // A server that spoke heartline.v1 before and no longer does: what it never acknowledged
    // goes out again as plain messages.
    if (this.#session?.known) for (const p of this.#session.takeUnacked()) this.#outbox?.push(p);
    this.#opened(() => {
      this.#heartbeat?.start();
      this.#flush();
    });
  }

  #established(hello: HelloFrame, resumed: boolean | undefined): void {
    this.#protocol = hello.protocol;
    this.#log('info', resumed ? 'session resumed' : 'session started', {
      session: hello.sid,
      reason: hello.reason,
    });
    this.#opened(
      () => {
        // Sends made before the first session was known waited in the outbox.
        const outbox = this.#outbox;
        while (outbox && outbox.length > 0) this.#session!.send(toPayload(outbox.shift()));
      },
      resumed === undefined ? null : new ResumeEvent(resumed, hello.reason, hello.sid),
    );
  }

  /** The link is ready for the app: `open` (after `resume`, in session mode). */
  #opened(start: () => void, resume: ResumeEvent | null = null): void {
    this.#timers.clear('connectTimeout');
    this.#openedAt = now();
    this.#hinted = undefined;
    const gen = this.#generation;
    this.#setState('open', 'connected');
    if (gen !== this.#generation || this.#state !== 'open') return; // a statechange listener acted
    start();
    this.#log('info', 'open', { url: this.#url, protocol: this.#protocol });
    if (resume) {
      this.#emit(resume);
      if (gen !== this.#generation || this.#state !== 'open') return;
    }
    this.#emit(new Event('open'));
  }

  /** The server broke heartline.v1: say so, drop the link, and maybe use plain mode from now on. */
  #violated(code: number, message: string, fallback: boolean): void {
    if (fallback) this.#plainUrls.add(this.#url);
    this.#reportError(
      new ProtocolError(
        `${this.#url}: ${message}${fallback ? '; later attempts to this URL use plain mode' : ''}`,
        code,
      ),
    );
    this.#abandon(code, 'heartline.v1 protocol error', 'session_error');
  }

  /** Either heartbeat (plain or session) found the link dead. */
  #onDeadLink(): void {
    this.#abandon(CloseCode.HeartbeatTimeout, 'heartbeat timeout', 'heartbeat_timeout');
  }

  #onRtt(rtt: number): void {
    this.#rtt = rtt;
    this.#emit(new HeartbeatEvent(rtt));
  }

  #flush(): void {
    const outbox = this.#outbox;
    const gen = this.#generation;
    while (outbox && outbox.length > 0 && this.#state === 'open' && gen === this.#generation) {
      this.#socket!.send(outbox.shift() as never);
    }
  }

  #onMessage(data: unknown, origin: string | undefined): void {
    if (this.#linkKind === 'session') {
      this.#session!.receive(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
      return;
    }
    if (this.#heartbeat?.received(data)) return;
    this.#emit(new MessageEvent('message', { data, origin: origin ?? '' }));
  }

  #onSocketError(event: { message?: string; error?: unknown }, url: string): void {
    // Browsers give no detail here on purpose; ws gives the cause. Either way `close` follows.
    const detail = event.message || (event.error instanceof Error ? event.error.message : '');
    this.#reportError(
      new SocketError(`WebSocket error on ${url}${detail ? `: ${detail}` : ''}`, event.error),
    );
  }

  #onSocketClose(event: { code: number; reason: string; wasClean: boolean }): void {
    if (this.#state === 'closing') {
      this.#detach();
      this.#finish(event.code, event.reason, event.wasClean);
      return;
    }
    const cause: LossCause =
      event.code === CloseCode.AbnormalClosure ? 'network_error' : 'server_close';
    this.#lost({ code: event.code, reason: event.reason, wasClean: event.wasClean, cause });
  }

  /** Gives up on the current link without waiting for a closing handshake, then handles the loss. */
  #abandon(code: number, reason: string, cause: LossCause, graceful = false): void {
    this.#log('warn', `abandoning the link: ${reason}`);
    this.#detach(code, reason, graceful);
    this.#lost({ code, reason, wasClean: false, cause });
  }

  /** A link ended without the app asking: decide between retrying and closing for good. */
  #lost(loss: Loss): void {
    const opened = this.#openedAt >= 0;
    const stable = opened && now() - this.#openedAt >= this.#options.reconnect.stableAfter;
    this.#detach();
    this.#stopLink();
    if (stable) this.#failures = 0;
    const info: ReconnectInfo = { ...loss, failures: this.#failures, opened };
    const plan = planRetry(info, this.#options.reconnect, Math.random, this.#hinted);
    this.#hinted = plan.serverHint ? plan.delay : this.#hinted;
    if (plan.policyFailure) {
      this.#reportError(
        new CallbackError(
          'reconnect.shouldReconnect threw; using the default policy',
          plan.policyFailure.error,
        ),
      );
    }
    const { willReconnect } = plan;
    const description = describeClose(loss.code);
    this.#log(willReconnect ? 'warn' : 'error', `link lost: ${loss.code} ${description.name}`, {
      ...loss,
      willReconnect,
    });
    const drop =
      opened || !willReconnect
        ? new DropEvent({
            ...loss,
            name: description.name,
            explanation: description.explanation,
            willReconnect,
          })
        : null;
    if (!willReconnect) {
      this.#finish(loss.code, loss.reason, loss.wasClean, drop);
      return;
    }
    this.#setState('reconnecting', loss.cause);
    if (drop) {
      const gen = this.#generation;
      this.#emit(drop);
      if (gen !== this.#generation || this.#state !== 'reconnecting') return; // a listener acted
    }
    if (loss.cause === 'pagehide') return; // resumes on pageshow
    const attempt = ++this.#failures;
    this.#timers.set('retry', plan.delay, () => this.#connect());
    this.#emit(new ReconnectingEvent(attempt, plan.delay, plan.serverHint));
  }

  #onOnline(): void {
    if (this.#state === 'reconnecting' && this.#timers.has('retry')) {
      this.#timers.clear('retry');
      this.#connect();
    } else this.#probe();
  }

  #probe(): void {
    if (this.#state !== 'open') return;
    if (this.#linkKind === 'session') this.#session!.probe();
    else this.#heartbeat?.probe();
  }

  /** Ends a link still running its closing handshake for `reconnect()`: the socket is closing. */
  #dropLingering(): void {
    const old = this.#lingering;
    this.#lingering = null;
    if (old) {
      old.onclose = null;
      old.terminate?.();
    }
  }

  /** Stops what belongs to one link: its heartbeat and its connect timer. */
  #stopLink(): void {
    this.#heartbeat?.stop();
    this.#session?.linkLost();
    this.#timers.clear('connectTimeout');
    this.#openedAt = -1;
  }

  /**
   * Forgets the current socket: its handlers go at once (late events from it can never reach
   * a newer socket), a no-op error listener stays (ws emits 'error' when a CONNECTING socket is
   * closed, and an EventEmitter with no listener would throw), and it is closed without
   * waiting: `terminate()` where the implementation has it, `close()` otherwise, unless
   * `graceful`.
   */
  #detach(code?: number, reason?: string, graceful = false): void {
    this.#generation++; // also cancels an attempt still awaiting its URL function
    this.#linkKind = undefined;
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = null;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = noop;
    if (socket.readyState === 0 || socket.readyState === 1) {
      try {
        socket.close(code, reason);
      } catch {
        // An implementation that rejects the code still has to go; terminate() below.
      }
    }
    // A healthy link (reconnect(), pagehide) gets its closing handshake; a dead one cannot.
    if (!graceful) socket.terminate?.();
  }

  /** The way to `closed` after a link ended: fires the last `drop`, if any, then `close` once. */
  #finish(code: number, reason: string, wasClean: boolean, drop: DropEvent | null = null): void {
    this.#session?.end();
    this.#dropLingering();
    this.#timers.clearAll();
    this.#stopLink();
    this.#unwatchPage?.();
    this.#unwatchPage = null;
    this.#setState('closed', 'closed');
    this.#log('info', 'closed', { code, reason, wasClean });
    if (drop) {
      this.#emit(drop);
      if (this.#state !== 'closed') return; // a drop listener called reconnect(): not closed for good
    }
    this.#emit(new CloseEvent('close', { code, reason, wasClean }));
  }

  // ── reporting ──────────────────────────────────────────────────────────────────────────────

  #emit(event: Event): void {
    this.dispatchEvent(event);
  }

  #reportError(error: Error): void {
    this.#log('error', error.message, { error });
    this.#emit(new ErrorEvent('error', { message: error.message, error }));
  }

  /** For errors thrown by `error` listeners themselves: the platform's reporter, never a loop. */
  #fallbackReport(error: Error): void {
    if (this.#options.logger) this.#log('error', error.message, { error });
    else if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
    else console.error(error);
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: object): void {
    const logger = this.#options.logger;
    if (!logger) return;
    try {
      logger(level, message, data);
    } catch {
      // A logger that throws must not change what the socket does.
    }
  }
}
