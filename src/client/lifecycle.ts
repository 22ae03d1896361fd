import { now } from '../common/clock.js';
import { ProtocolError, RequestLostError, SocketError } from '../common/errors.js';
import type { Timers } from '../common/timers.js';
import { CloseCode, closeName, explainClose } from '../protocol/close-codes.js';
import type { HelloFrame } from '../protocol/frames.js';
import {
  CloseEvent,
  DropEvent,
  ReconnectingEvent,
  ResumeEvent,
  StateChangeEvent,
} from './events.js';
import type { Heartbeat } from './heartbeat.js';
import { Link, type LinkClose, type LinkHandler, type LinkSpec } from './link.js';
import { DEFAULTS, type ResolvedOptions } from './options.js';
import { type PageHooks, watchPage } from './page-lifecycle.js';
import type { Reporter } from './report.js';
import { type Loss, type LossCause, RetryBudget } from './retry.js';
import type { Sender } from './sender.js';
import type { ClientSession } from './session.js';
import { canMove, type State } from './state.js';
import { urlKey } from './url.js';

export type Slot = 'heartbeat' | 'connectTimeout' | 'retry' | 'closeTimeout';

/** The socket the lifecycle belongs to: where events fire; the page's unload calls its `close()`. */
export interface LifecycleSocket extends EventTarget {
  close(code?: number, reason?: string): void;
}

/** The socket's parts that live across links, which the lifecycle starts and stops. */
export interface LifecycleParts {
  readonly spec: LinkSpec;
  readonly timers: Timers<Slot>;
  /** What every link reports to (the socket's one handler object). */
  readonly handler: LinkHandler;
  readonly report: Reporter;
  readonly heartbeat: Heartbeat | null;
  readonly session: ClientSession | null;
  readonly sender: Sender;
}

/**
 * A `HeartlineSocket`'s life across its links: the state and its single writer (`#setState`,
 * which checks the table in state.ts), the one attempt in flight and its timers, what a lost link
 * leads to (a retry or the end), the closing handshake, `reconnect()`, and the page's events.
 * Events fire on the socket; since listeners may close or reopen it at each one, every step
 * after an event checks that the state is still the one it expects.
 */
export class Lifecycle implements PageHooks {
  readonly #socket: LifecycleSocket;
  readonly #options: ResolvedOptions;
  readonly #spec: LinkSpec;
  readonly #handler: LinkHandler;
  readonly #heartbeat: Heartbeat | null;
  readonly #session: ClientSession | null;
  readonly #sender: Sender;
  readonly #timers: Timers<Slot>;
  readonly #report: Reporter;
  readonly #retry: RetryBudget;
  #state: State = 'connecting';
  /** The current attempt: connecting or open. There is at most one. */
  #link: Link | null = null;
  /** The link `reconnect()` is closing gracefully; terminated if the socket closes meanwhile. */
  #lingering: Link | null = null;
  #url: string;
  #unwatchPage: (() => void) | null = null;
  /** The sub-protocol the server selected on the current (or last) link. */
  protocol = '';
  extensions = '';
  /** The app's binaryType, given to every new link; `undefined` until it set one. */
  binaryType: string | undefined;

  /** @param socket where events are dispatched. @param url the URL until a link has one. */
  constructor(
    socket: LifecycleSocket,
    options: ResolvedOptions,
    parts: LifecycleParts,
    url: string,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.#spec = parts.spec;
    this.#handler = parts.handler;
    this.#timers = parts.timers;
    this.#report = parts.report;
    this.#heartbeat = parts.heartbeat;
    this.#session = parts.session;
    this.#sender = parts.sender;
    this.#retry = new RetryBudget(options.reconnect);
    this.#url = url;
  }

  get state(): State {
    return this.#state;
  }

  /** The current attempt, connecting or open; null between attempts. */
  get link(): Link | null {
    return this.#link;
  }

  /** Session mode's state across links; null with `session: false`. */
  get session(): ClientSession | null {
    return this.#session;
  }

  /** The URL of the current or last attempt. */
  get url(): string {
    return this.#link?.url ?? this.#url;
  }

  /** Watches the page and makes the first attempt (again, after `reconnect()` on a closed socket). */
  start(): void {
    this.#unwatchPage = watchPage(this, this.#options.closeOnUnload);
    this.#connect();
  }

  /** `close()`, its arguments checked. */
  close(code: number | undefined, reason: string | undefined): void {
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

  // ── what the link, the heartbeat and the session report ───────────────────────────────────

  open(): void {
    const link = this.#link!;
    this.extensions = link.extensions;
    // Open only once the server's hello arrives, within what is left of connectTimeout (with
    // `reconnect: false`, which leaves the opening handshake alone, within the default's).
    if (link.kind === 'session') {
      const ms = DEFAULTS.reconnect.connectTimeout;
      if (!this.#timers.has('connectTimeout'))
        this.#timers.set('connectTimeout', ms, () => this.#timedOut(ms));
      this.#session!.begin();
      return;
    }
    this.protocol = link.protocol;
    // A server that spoke heartline.v1 before and no longer does: what it never acknowledged
    // goes out again as plain messages, with the rest of the outbox; requests cannot.
    this.#sender.requests.plain();
    this.#session?.end();
    this.#opened(null);
  }

  closed(event: LinkClose, error: Error | undefined): void {
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

  dead(): void {
    this.#abandon(CloseCode.HeartbeatTimeout, 'heartbeat timeout', 'heartbeat_timeout');
  }

  /** The session's handshake completed: it has written the outbox already, the link is open. */
  established(hello: HelloFrame, resumed: boolean | undefined): void {
    this.protocol = hello.protocol;
    const text = resumed ? 'session resumed' : 'session started';
    this.#report.log('info', text, { session: hello.sid, reason: hello.reason });
    this.#opened(resumed === undefined ? null : new ResumeEvent(resumed, hello.reason, hello.sid));
  }

  /** The server broke heartline.v1: say so, drop the link, and maybe use plain mode from now on. */
  violated(code: number, message: string, fallback: boolean): void {
    if (fallback) this.#spec.offers?.set(urlKey(this.url), false);
    const error = new ProtocolError(
      `${this.url}: ${message}${fallback ? '; later attempts to this URL use plain mode' : ''}`,
      code,
    );
    // close() is already ending this link: say so, and let it end.
    if (this.#state === 'closing') this.#report.error(error);
    else this.#abandon(code, 'heartline.v1 protocol error', 'session_error', false, error);
  }

  online(): void {
    this.#skipWait() || this.#resumeIdle() || this.#probe();
  }

  offline(): void {
    this.#probe();
  }

  visible(): void {
    this.#probe();
  }

  pagehide(persisted: boolean): void {
    // A page that is unloaded for real ends its session; one going into the back/forward
    // cache keeps it, to resume on pageshow.
    if (!persisted) {
      this.#socket.close(CloseCode.NormalClosure, 'page unloaded');
      return;
    }
    this.#timers.clear('retry');
    this.#abandon(CloseCode.Reconnecting, 'page hidden', 'pagehide', true);
  }

  pageshow(): void {
    this.#resumeIdle();
  }

  // ── the moves ─────────────────────────────────────────────────────────────────────────────

  #restart(): void {
    this.#retry.reset();
    this.#sender.restart();
    this.#setState('connecting', 'reconnect()');
    this.start();
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
    this.#link = new Link(this.#spec, this.#handler, this.#url, this.binaryType);
  }

  /**
   * `connectTimeout` passed. A `heartline.v1` link still waiting for its hello broke the protocol
   * (PROTOCOL.md: 4426, then plain mode for that URL); any other attempt timed out.
   */
  #timedOut(ms: number): void {
    if (this.#link?.kind === 'session') {
      const message = `the server chose heartline.v1 but sent no hello within ${ms} ms`;
      this.violated(CloseCode.SessionHandshakeFailed, message, true);
      return;
    }
    const error = new SocketError(`${this.url}: no connection within connectTimeout (${ms} ms)`);
    this.#abandon(CloseCode.ConnectTimeout, 'connect timeout', 'connect_timeout', false, error);
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
      this.#sender.flush(link);
      if (this.#state !== 'open') return;
    }
    this.#report.log('info', 'open', { url: this.url, protocol: this.protocol });
    if (resume) {
      this.#emit(resume);
      if (this.#state !== 'open') return;
    }
    this.#emit(new Event('open'));
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

  /** The open link is suspect (offline, or the tab was shown again): check it now. */
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
    this.#sender.requests.lost(
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
    this.#socket.dispatchEvent(event);
  }
}
