import { now } from '../common/clock.js';
import {
  CallbackError,
  HeartbeatError,
  NoWebSocketError,
  ProtocolError,
  RequestLostError,
  SocketError,
} from '../common/errors.js';
import type { RequestOptions } from '../common/requests.js';
import { Timers } from '../common/timers.js';
import { CloseCode, closeName, explainClose } from '../protocol/close-codes.js';
import {
  AckEvent,
  CloseEvent,
  DropEvent,
  HeartbeatEvent,
  MessageEvent,
  OverflowEvent,
  ReconnectingEvent,
  ResumeEvent,
  StateChangeEvent,
} from './events.js';
import { Heartbeat } from './heartbeat.js';
import { Link, type LinkClose, type LinkHandler, type LinkSpec } from './link.js';
import {
  DEFAULTS,
  type HeartlineSocketOptions,
  type ResolvedOptions,
  resolveOptions,
  type SendOptions,
  type SendResult,
  type WebSocketConstructor,
} from './options.js';
import { Outbox } from './outbox.js';
import { type PageHooks, watchPage } from './page-lifecycle.js';
import { byteLength, fromBytes, type Outgoing, type Payload, toPayload } from './payload.js';
import { Reporter } from './report.js';
import { ClientRequests } from './requests.js';
import { type Loss, type LossCause, RetryBudget } from './retry.js';
import { ClientSession, type Entry, type SessionHooks } from './session.js';
import { checkClose, SocketTarget } from './socket-target.js';
import { canMove, READY_STATE, type State } from './state.js';
import { checkProtocols, checkSource, type UrlSource, urlKey } from './url.js';

type Slot = 'heartbeat' | 'connectTimeout' | 'retry' | 'closeTimeout';

const invalidState = (message: string) => new DOMException(message, 'InvalidStateError');
/** WebIDL: a call with fewer arguments than required throws a TypeError. */
const missing = (what: string) =>
  new TypeError(`HeartlineSocket${what}: 1 argument required, but only 0 present`);

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
  readonly #report: Reporter;
  readonly #spec: LinkSpec;
  readonly #timers = new Timers<Slot>();
  readonly #retry: RetryBudget;
  /** The one queue: sent while not open and, in session mode, not yet acknowledged. */
  readonly #outbox: Outbox<Entry>;
  readonly #heartbeat: Heartbeat | null;
  /** Session mode's state across links; null with `session: false`. */
  readonly #session: ClientSession | null;
  readonly #requests: ClientRequests;
  #state: State = 'connecting';
  /** The current attempt: connecting or open. There is at most one. */
  #link: Link | null = null;
  /** The link `reconnect()` is closing gracefully; terminated if the socket closes meanwhile. */
  #lingering: Link | null = null;
  #url = '';
  #protocol = '';
  #extensions = '';
  #binaryType: string | undefined;
  #native: string | undefined;
  #rtt: number | undefined;
  /** Bytes `send()` discarded after `close()`, which WHATWG counts in `bufferedAmount`. */
  #discarded = 0;
  #unwatchPage: (() => void) | null = null;

  /**
   * The one handler object every part reports to: the current link (a dropped link reports
   * nothing, so no event is ever stale), the heartbeat, the session and the page.
   */
  readonly #handler: LinkHandler & SessionHooks & PageHooks = {
    open: () => this.#onOpen(),
    message: (data, origin) => {
      if (this.#link!.kind === 'session') {
        const raw = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer);
        return this.#session!.receive(raw);
      }
      if (this.#heartbeat?.received(data)) return;
      this.#emit(new MessageEvent('message', { data, origin }));
    },
    control: (pong) => this.#heartbeat?.heard(pong),
    error: (error) => this.#report.error(error),
    close: (event, error) => this.#onClose(event, error),
    send: (data, bytes) => (data === null ? this.#link?.ping() : this.#link?.send(data, bytes)),
    unanswered: () =>
      this.#report.error(
        new HeartbeatError(
          `${this.url} never answered the heartbeat's "ping" with "pong": set heartbeat.ping and .isPong to what it answers, or heartbeat: false`,
        ),
      ),
    dead: () => this.#abandon(CloseCode.HeartbeatTimeout, 'heartbeat timeout', 'heartbeat_timeout'),
    pong: (rtt) => {
      this.#rtt = rtt;
      this.#emit(new HeartbeatEvent(rtt));
    },
    deliver: (payload) =>
      this.#emit(new MessageEvent('message', { data: fromBytes(payload, this.binaryType) })),
    call: (call, payload) => this.#requests.received(call, payload),
    lost: () =>
      this.#requests.lost(
        new RequestLostError(
          `${this.url}: the session could not be resumed before the answer came`,
        ),
      ),
    established: (hello, resumed) => {
      // The session has written the outbox already: the link is open.
      this.#protocol = hello.protocol;
      const text = resumed ? 'session resumed' : 'session started';
      this.#report.log('info', text, { session: hello.sid, reason: hello.reason });
      this.#opened(
        resumed === undefined ? null : new ResumeEvent(resumed, hello.reason, hello.sid),
      );
    },
    violated: (code, message, fallback) => this.#violated(code, message, fallback),
    acked: (count, seq) => {
      this.#emit(new AckEvent(count, seq));
      if (this.#outbox.length === 0) this.#emit(new Event('drain'));
    },
    batch: (limit) => this.#link?.batch(limit),
    online: () => this.#skipWait() || this.#resumeIdle() || this.#probe(),
    offline: () => this.#probe(),
    visible: () => this.#probe(),
    pagehide: (persisted) => {
      // A page that is unloaded for real ends its session; one going into the back/forward
      // cache keeps it, to resume on pageshow.
      if (!persisted) return this.close(CloseCode.NormalClosure, 'page unloaded');
      this.#timers.clear('retry');
      this.#abandon(CloseCode.Reconnecting, 'page hidden', 'pagehide', true);
    },
    pageshow: () => this.#resumeIdle(),
  };

  /**
   * @param url a `ws:`/`wss:` (or `http:`/`https:`) URL, relative to the document's base URL in
   *   browsers, or a function returning one, called before every attempt.
   * @param protocols sub-protocols to offer, as for `WebSocket`.
   * @param options see `HeartlineSocketOptions`; every default is in `DEFAULTS`.
   */
  constructor(url: UrlSource, protocols?: string | string[], options?: HeartlineSocketOptions) {
    super();
    const self = this;
    // WebIDL: no argument is a TypeError. (`undefined` would be the relative URL "undefined";
    // it is missing here too, so that a subclass passing its arguments on behaves the same.)
    if (url === undefined) throw missing('');
    const o = resolveOptions(options);
    this.#options = o;
    this.#url = checkSource(url);
    const protocolList = checkProtocols(protocols);
    const Impl = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof Impl !== 'function') throw new NoWebSocketError();
    const offers = o.session ? new Map<string, boolean>() : null;
    this.#spec = { WebSocket: Impl, source: url, protocols: protocolList, offers };
    this.#report = new Reporter(this, o.logger);
    this.#retry = new RetryBudget(o.reconnect);
    const overflow = (dropped: Entry[], policy: 'drop-oldest' | 'reject') => {
      const messages = dropped.filter((e) => !e.call);
      if (messages.length < dropped.length) this.#requests.dropped(dropped);
      if (messages.length > 0 || policy === 'reject')
        this.#emit(
          new OverflowEvent(
            messages.map((e) => e.data),
            policy,
          ),
        );
    };
    this.#outbox = new Outbox(o.outbox, overflow);
    this.#requests = new ClientRequests(
      {
        get url() {
          return self.url;
        },
        get binaryType() {
          return self.binaryType;
        },
        mode: () => this.#requestMode(),
        enqueue: (entry) => this.#enqueue(entry),
        dispatch: (event) => this.#emit(event),
        reportThrow: (error) =>
          this.#report.error(new CallbackError("A 'request' listener failed", error)),
      },
      this.#outbox,
      o.requests,
    );
    const hb = o.heartbeat;
    this.#heartbeat = hb ? new Heartbeat(hb, this.#timers, this.#handler) : null;
    this.#session = o.session
      ? new ClientSession(this.#handler, this.#outbox, hb, this.#timers, protocolList)
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
    return this.#link?.url ?? this.#url;
  }

  /**
   * What the open link speaks: `'session'` when the server chose `heartline.v1` (PROTOCOL.md),
   * `'plain'` otherwise; `undefined` while not open.
   */
  get mode(): 'plain' | 'session' | undefined {
    return this.#state === 'open' ? this.#link!.kind : undefined;
  }

  /** The sub-protocol the server selected on the current (or last) link. */
  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return this.#extensions;
  }

  /**
   * Bytes not yet transmitted: the underlying socket's buffer plus every message `send()`
   * accepted that waits for a link (queued while not open; in session mode also those sent on a
   * lost link and not acknowledged, which go out again on resume), plus, as in WebSocket, what
   * was sent after `close()`. A message written to the open link and only awaiting the server's
   * acknowledgement is not counted, as in WebSocket.
   */
  get bufferedAmount(): number {
    return (this.#link?.bufferedAmount ?? 0) + this.#outbox.unwritten + this.#discarded;
  }

  /** Round-trip time of the last answered heartbeat, in ms; `undefined` before the first. */
  get rtt(): number | undefined {
    return this.#rtt;
  }

  /**
   * `'blob'` or `'arraybuffer'` (with `ws`, also its default `'nodebuffer'`); applied to every
   * link. Other values are ignored, as WebSocket's enumerated attribute ignores them.
   */
  get binaryType(): string {
    this.#native ??= this.#link?.native;
    return this.#binaryType ?? this.#native ?? 'blob';
  }

  set binaryType(value: string) {
    value = String(value);
    const ws = typeof (this.#spec.WebSocket.prototype as { ping?: unknown })?.ping === 'function';
    if (value !== 'blob' && value !== 'arraybuffer' && !(ws && value === 'nodebuffer')) return;
    this.#binaryType = value;
    if (this.#link) this.#link.binaryType = value;
  }

  /**
   * Sends now when open; otherwise queues in the outbox, to be flushed in order on open. Once
   * the socket is closing or closed, discards the data and counts it in `bufferedAmount`, as
   * WebSocket does. Throws an `InvalidStateError` DOMException when the outbox is off and the
   * socket is not open, in both modes; under `outbox.overflow: 'reject'`, throws an
   * `OutboxOverflowError` when full and not open.
   *
   * In session mode, a message stays in the outbox until the server acknowledges it, and is
   * resent after a resume; when unacknowledged messages fill the outbox, the oldest are dropped
   * (`overflow`). `{ volatile: true }` marks a message that may be dropped (cursor positions,
   * typing): it is never queued, kept or replayed.
   */
  send(data: Outgoing, options?: SendOptions): SendResult {
    // biome-ignore lint/complexity/noArguments: WebIDL counts arguments; `undefined` is sent as "undefined"
    if (arguments.length === 0) throw missing('#send()');
    const state = this.#state;
    if (state === 'closing' || state === 'closed') {
      this.#discarded += byteLength(data);
      return 'dropped';
    }
    const session = this.#session?.known ? this.#session : null;
    if (session) data = toPayload(data);
    const open = state === 'open';
    if (open && !session) {
      this.#link!.send(data);
      return 'sent';
    }
    if (options?.volatile) {
      if (!open) return 'dropped';
      session!.sendVolatile(data as Payload);
      return 'sent';
    }
    return this.#enqueue({ data, seq: 0 });
  }

  /**
   * Session mode: sends a request and resolves with the server's reply (`data` as a message's),
   * once, however the links drop and resume in between. Rejects with `RequestTimeoutError`
   * after `timeout` (`requests.timeout`), `RequestFailedError` when the server's handler
   * failed it, `RequestLostError` when no answer can come any more (the session ended, the
   * socket closed) and `RequestUnsupportedError` on a plain link: requests need a Heartline
   * server. Queued like a message while the link is down.
   *
   * @example
   * const user = JSON.parse(await ws.request(JSON.stringify({ get: 'user', id: 42 })));
   */
  // biome-ignore lint/suspicious/noExplicitAny: a reply is a message's data (MessageEvent's any)
  request(data: Outgoing, options?: RequestOptions): Promise<any> {
    return this.#requests.request(data, options);
  }

  /** Requests waiting for their answer, and replies that came too late (dropped). */
  get requests(): { readonly pending: number; readonly late: number } {
    return { pending: this.#requests.pending, late: this.#requests.late };
  }

  /** Whether a request can go out now, or wait in the outbox (see `RequestHost.mode`). */
  #requestMode(): 'session' | 'plain' | 'closed' {
    const state = this.#state;
    if (state === 'closing' || state === 'closed') return 'closed';
    if (!this.#session || (state === 'open' && this.#link!.kind === 'plain')) return 'plain';
    return 'session';
  }

  /**
   * Queues a reliable message (and writes it when a session is live). Written to an open link,
   * a message is never refused: the oldest unacknowledged go.
   */
  #enqueue(entry: Entry): SendResult {
    const state = this.#state;
    const open = state === 'open';
    if (!open && !this.#options.queue) {
      throw invalidState(`HeartlineSocket is ${state} and its outbox is off`);
    }
    entry.bytes = byteLength(entry.data);
    const dropped = this.#outbox.push(entry, entry.bytes, open ? 'drop-oldest' : undefined);
    if (!open) return dropped.includes(entry) ? 'dropped' : 'queued';
    this.#session!.flush(entry); // open and not plain: a live session writes it at once
    return 'sent';
  }

  /**
   * Closes for good: cancels any scheduled attempt, runs the closing handshake on an open link
   * (at most `closeTimeout` ms), then fires `close` once. Idempotent. Codes follow WHATWG:
   * 1000 or 3000–4999 (converted as WebIDL does: `'1000'` is 1000), and a reason of at most 123
   * UTF-8 bytes. Before a link opened, `readyState` is CLOSING at once and `close` fires after
   * the current task: with an attempt in flight, that attempt fails as a WebSocket's does
   * (`error`, then `close` with 1006); between attempts, `close` has the code given (or 1005).
   * The outbox keeps what it holds, for a later `reconnect()`.
   */
  close(code?: number, reason?: string): void {
    [code, reason] = checkClose(code, reason);
    const state = this.#state;
    if (state === 'closing' || state === 'closed') return;
    this.#report.log('info', 'close() called', { code, reason });
    this.#session?.end();
    this.#stopLink();
    this.#timers.clear('retry');
    this.#unwatch();
    const link = this.#link;
    this.#setState('closing', 'close()');
    if (state === 'open') {
      link!.close(code, reason);
      this.#timers.set('closeTimeout', this.#options.closeTimeout, () => {
        this.#detach();
        this.#finish(CloseCode.AbnormalClosure, 'closing handshake timed out', false);
      });
      return;
    }
    this.#detach(code, reason);
    // An attempt in flight fails as a WebSocket's does; between attempts, nothing failed.
    const error =
      link && new SocketError(`${this.url}: closed before the connection was established`);
    this.#timers.set('closeTimeout', 0, () =>
      error
        ? this.#finish(CloseCode.AbnormalClosure, '', false, null, error)
        : this.#finish(code ?? CloseCode.NoStatusReceived, reason ?? '', false),
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
        this.#report.log('info', 'reconnect() replaces the open link');
        const old = this.#link!;
        this.#detach(CloseCode.Reconnecting, 'client reconnect', true);
        this.#stopLink();
        // The next link waits for the old one's closing handshake (at most closeTimeout), so
        // the server never holds two links of this client at once.
        this.#lingering = old;
        old.closeThen(this.#timers, this.#options.closeTimeout, () => {
          this.#lingering = null;
          this.#connect();
        });
        this.#setState('reconnecting', 'reconnect()');
        return;
      }
      case 'reconnecting':
        this.#skipWait();
        return;
      case 'closing':
        this.#detach();
        this.#finish(CloseCode.NormalClosure, 'reconnect() during closing', false);
        if (this.state === 'closed') this.#restart(); // else a close listener reopened it
        return;
      case 'closed':
        this.#restart();
        return;
      case 'connecting':
        return;
    }
  }

  protected override onListenerError(error: unknown, event: Event): void {
    this.#report.listenerThrew(error, event);
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  #restart(): void {
    this.#retry.reset();
    this.#discarded = 0;
    this.#setState('connecting', 'reconnect()');
    this.#start();
  }

  #start(): void {
    this.#unwatchPage = watchPage(this.#handler, this.#options.closeOnUnload);
    this.#connect();
  }

  #unwatch(): void {
    this.#unwatchPage?.();
    this.#unwatchPage = null;
  }

  #setState(to: State, cause: string): void {
    const from = this.#state;
    if (from === to) return;
    if (!canMove(from, to))
      throw new Error(`Heartline bug: illegal state move ${from} → ${to} (${cause})`);
    this.#state = to;
    this.#report.log('debug', `state ${from} → ${to}`, { cause });
    this.#emit(new StateChangeEvent(from, to, cause));
  }

  /** Starts the scheduled attempt now, if one waits (only while reconnecting); says whether. */
  #skipWait(): boolean {
    if (!this.#timers.has('retry')) return false;
    this.#timers.clear('retry');
    this.#connect();
    return true;
  }

  /**
   * Starts the attempt that waits for the page (`online` after the retry came due offline, or
   * `pageshow`), if one does; says whether.
   */
  #resumeIdle(): boolean {
    if (this.#state !== 'reconnecting' || this.#link || this.#timers.has('retry')) return false;
    this.#connect();
    return true;
  }

  /** The retry came due: attempt now, unless the browser knows it is offline; `online` will. */
  #attempt(): void {
    if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false) {
      this.#report.log('info', 'offline: the next attempt waits for the online event');
      return;
    }
    this.#connect();
  }

  #connect(): void {
    this.#detach(); // by construction there is none; this keeps "at most one socket" true anyway
    // The timeout covers the URL function too: a token fetch that hangs is a failed attempt.
    const ms = this.#options.reconnect.connectTimeout;
    if (ms) this.#timers.set('connectTimeout', ms, () => this.#timedOut(ms));
    this.#link = new Link(this.#spec, this.#handler, this.#url, this.#binaryType);
  }

  /**
   * `connectTimeout` passed. A `heartline.v1` link still waiting for its hello broke the protocol
   * (PROTOCOL.md: 4426, then plain mode for that URL); any other attempt timed out.
   */
  #timedOut(ms: number): void {
    if (this.#link?.kind === 'session') {
      const message = `the server chose heartline.v1 but sent no hello within ${ms} ms`;
      this.#violated(CloseCode.SessionHandshakeFailed, message, true);
      return;
    }
    const error = new SocketError(`${this.url}: no connection within connectTimeout (${ms} ms)`);
    this.#abandon(CloseCode.ConnectTimeout, 'connect timeout', 'connect_timeout', false, error);
  }

  #onOpen(): void {
    const link = this.#link!;
    this.#extensions = link.extensions;
    // Open only once the server's hello arrives, within what is left of connectTimeout (with
    // `reconnect: false`, which leaves the opening handshake alone, within the default's).
    if (link.kind === 'session') {
      const ms = DEFAULTS.reconnect.connectTimeout;
      if (!this.#timers.has('connectTimeout'))
        this.#timers.set('connectTimeout', ms, () => this.#timedOut(ms));
      this.#session!.begin();
      return;
    }
    this.#protocol = link.protocol;
    // A server that spoke heartline.v1 before and no longer does: what it never acknowledged
    // goes out again as plain messages, with the rest of the outbox; requests cannot.
    this.#requests.plain();
    this.#session?.end();
    this.#opened(null);
  }

  /**
   * The link is ready for the app: a plain one starts its heartbeat and flushes the outbox, then
   * `open` fires (after `resume`, in session mode).
   */
  #opened(resume: ResumeEvent | null): void {
    const link = this.#link!;
    this.#timers.clear('connectTimeout');
    link.openedAt = now();
    this.#retry.opened();
    this.#setState('open', 'connected');
    // Listeners may close or replace the link at each event: go on only while it is open.
    if (this.#state !== 'open') return;
    if (link.kind === 'plain') {
      this.#heartbeat?.start(link.canPing);
      const outbox = this.#outbox;
      const queued = outbox.length > 0;
      while (this.#link === link && outbox.length > 0) link.send(outbox.shift()!.data);
      if (queued && outbox.length === 0) this.#emit(new Event('drain'));
      if (this.#state !== 'open') return;
    }
    this.#report.log('info', 'open', { url: this.url, protocol: this.#protocol });
    if (resume) {
      this.#emit(resume);
      if (this.#state !== 'open') return;
    }
    this.#emit(new Event('open'));
  }

  /** The server broke heartline.v1: say so, drop the link, and maybe use plain mode from now on. */
  #violated(code: number, message: string, fallback: boolean): void {
    if (fallback) this.#spec.offers?.set(urlKey(this.url), false);
    const error = new ProtocolError(
      `${this.url}: ${message}${fallback ? '; later attempts to this URL use plain mode' : ''}`,
      code,
    );
    // close() is already ending this link: say so, and let it end.
    if (this.#state === 'closing') this.#report.error(error);
    else this.#abandon(code, 'heartline.v1 protocol error', 'session_error', false, error);
  }

  #onClose(event: LinkClose, error: Error | undefined): void {
    const { code, reason, wasClean } = event;
    if (this.#state === 'closing') {
      this.#detach();
      this.#finish(code, reason, wasClean, null, error);
      return;
    }
    const cause = event.refused
      ? 'handshake_refused'
      : code === CloseCode.AbnormalClosure
        ? 'network_error'
        : 'server_close';
    this.#lost({ code, reason, wasClean, cause }, false, error);
  }

  /** Gives up on the current link without waiting for a closing handshake, then handles the loss. */
  #abandon(code: number, reason: string, cause: LossCause, graceful = false, error?: Error): void {
    this.#report.log('warn', `abandoning the link: ${reason}`);
    this.#lost({ code, reason, wasClean: false, cause }, graceful, error);
  }

  /**
   * A link ended without the app asking: decide between retrying and closing for good. The
   * error that ended it, if any, fires once the state moved, as a WebSocket's fires once CLOSED.
   */
  #lost(loss: Loss, graceful = false, error?: Error): void {
    const openedAt = this.#link?.openedAt ?? -1;
    this.#detach(loss.code, loss.reason, graceful);
    this.#stopLink();
    const plan = this.#retry.plan(loss, openedAt);
    const { willReconnect, delay, serverHint } = plan;
    const name = closeName(loss.code);
    this.#report.lost(loss, plan, name);
    if (this.#state === 'closed') return; // an error listener closed it (shouldReconnect threw)
    const drop =
      openedAt >= 0 || !willReconnect
        ? new DropEvent({ ...loss, name, explanation: explainClose(loss.code), willReconnect })
        : null;
    if (!willReconnect) {
      this.#finish(loss.code, loss.reason, loss.wasClean, drop, error);
      return;
    }
    this.#setState('reconnecting', loss.cause);
    if (error) {
      this.#report.error(error);
      if (this.#state !== 'reconnecting') return; // a listener closed it
    }
    if (drop) {
      this.#emit(drop);
      if (this.#state !== 'reconnecting') return; // a listener closed it
    }
    if (loss.cause === 'pagehide') return; // resumes on pageshow
    const attempt = this.#retry.spend();
    this.#timers.set('retry', delay, () => this.#attempt());
    this.#emit(new ReconnectingEvent(attempt, delay, serverHint));
  }

  #probe(): void {
    if (this.#state !== 'open') return;
    if (this.#link!.kind === 'session') this.#session!.probe();
    else this.#heartbeat?.probe();
  }

  /** Stops what belongs to one link: its heartbeat and its connect timer. */
  #stopLink(): void {
    this.#heartbeat?.stop();
    this.#session?.linkLost();
    this.#timers.clear('connectTimeout');
  }

  /**
   * Forgets the current link (see `Link#drop`), and ends one still closing for `reconnect()`:
   * whatever comes next no longer waits for it.
   */
  #detach(code?: number, reason?: string, graceful = false): void {
    this.#lingering?.drop();
    this.#lingering = null;
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    this.#url = link.url;
    link.drop(code, reason, graceful);
  }

  /**
   * The way to `closed` after a link ended: fires the error that ended it and the last `drop`,
   * if any, then `close` once.
   */
  #finish(
    code: number,
    reason: string,
    wasClean: boolean,
    drop: DropEvent | null = null,
    error?: Error,
  ): void {
    this.#session?.end();
    this.#timers.clearAll();
    this.#stopLink();
    this.#unwatch();
    this.#setState('closed', 'closed');
    this.#requests.lost(
      new RequestLostError(`${this.url}: the socket closed before the answer came`),
    );
    this.#report.log('info', 'closed', { code, reason, wasClean });
    if (error) {
      this.#report.error(error);
      if (this.#state !== 'closed') return; // an error listener called reconnect()
    }
    if (drop) {
      this.#emit(drop);
      if (this.#state !== 'closed') return; // a drop listener called reconnect(): not closed for good
    }
    this.#emit(new CloseEvent('close', { code, reason, wasClean }));
  }

  #emit(event: Event): void {
    this.dispatchEvent(event);
  }
}
