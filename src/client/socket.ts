import { taskNow } from '../common/clock.js';
import { HeartbeatError, NoWebSocketError, RequestLostError } from '../common/errors.js';
import type { RequestOptions } from '../common/requests.js';
import { Timers } from '../common/timers.js';
import { HeartbeatEvent, MessageEvent } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { Lifecycle, type Slot } from './lifecycle.js';
import type { LinkHandler, LinkSpec } from './link.js';
import {
  type HeartlineSocketOptions,
  resolveOptions,
  type SendOptions,
  type SendResult,
  type WebSocketConstructor,
} from './options.js';
import { fromBytes, type Outgoing } from './payload.js';
import { Reporter } from './report.js';
import { Sender } from './sender.js';
import { ClientSession, type SessionHooks } from './session.js';
import { checkClose, SocketTarget } from './socket-target.js';
import { READY_STATE, type State } from './state.js';
import { checkProtocols, checkSource, type UrlSource } from './url.js';

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
  readonly #spec: LinkSpec;
  readonly #report: Reporter;
  readonly #heartbeat: Heartbeat | null;
  /** Session mode's state across links; null with `session: false`. */
  readonly #session: ClientSession | null;
  /** The outgoing side: the outbox, requests, and what `send()` answers. */
  readonly #sender: Sender;
  /** The state and everything that moves it: attempts, losses, retries, closing. */
  readonly #life: Lifecycle;
  #native: string | undefined;
  #rtt: number | undefined;

  /**
   * The one handler object every part reports to: the current link (a dropped link reports
   * nothing, so no event is ever stale), the heartbeat and the session. The page reports to
   * the lifecycle.
   */
  readonly #handler: LinkHandler & SessionHooks = {
    open: () => this.#life.open(),
    message: (data, origin) => {
      if (this.#life.link!.kind === 'session') {
        const raw = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer);
        return this.#session!.receive(raw);
      }
      if (this.#heartbeat?.received(data, taskNow())) return;
      this.dispatchEvent(new MessageEvent('message', { data, origin }));
    },
    control: (pong) => this.#heartbeat?.heard(pong),
    error: (error) => this.#report.error(error),
    close: (event, error) => this.#life.closed(event, error),
    send: (data, bytes) => {
      const link = this.#life.link;
      return data === null ? link?.ping() : link?.send(data, bytes);
    },
    unanswered: () =>
      this.#report.error(
        new HeartbeatError(
          `${this.url} never answered the heartbeat's "ping" with "pong": set heartbeat.ping and .isPong to what it answers, or heartbeat: false`,
        ),
      ),
    dead: () => this.#life.dead(),
    pong: (rtt) => {
      this.#rtt = rtt;
      this.dispatchEvent(new HeartbeatEvent(rtt));
    },
    deliver: (payload) =>
      this.dispatchEvent(
        new MessageEvent('message', { data: fromBytes(payload, this.binaryType) }),
      ),
    call: (call, payload) => this.#sender.requests.received(call, payload),
    lost: () =>
      this.#sender.requests.lost(
        new RequestLostError(
          `${this.url}: the session could not be resumed before the answer came`,
        ),
      ),
    established: (hello, resumed) => this.#life.established(hello, resumed),
    violated: (code, message, fallback) => this.#life.violated(code, message, fallback),
    acked: (count, seq) => this.#sender.acked(count, seq),
    batch: (limit) => this.#life.link?.batch(limit),
  };

  /**
   * @param url a `ws:`/`wss:` (or `http:`/`https:`) URL, relative to the document's base URL in
   *   browsers, or a function returning one, called before every attempt.
   * @param protocols sub-protocols to offer, as for `WebSocket`.
   * @param options see `HeartlineSocketOptions`; every default is in `DEFAULTS`.
   */
  constructor(url: UrlSource, protocols?: string | string[], options?: HeartlineSocketOptions) {
    super();
    // WebIDL: no argument is a TypeError. (`undefined` would be the relative URL "undefined";
    // it is missing here too, so that a subclass passing its arguments on behaves the same.)
    if (url === undefined) throw missing('');
    const o = resolveOptions(options);
    const first = checkSource(url);
    const protocolList = checkProtocols(protocols);
    const Impl = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof Impl !== 'function') throw new NoWebSocketError();
    const offers = o.session ? new Map<string, boolean>() : null;
    const spec: LinkSpec = { WebSocket: Impl, source: url, protocols: protocolList, offers };
    this.#spec = spec;
    const report = new Reporter(this, o.logger);
    this.#report = report;
    const timers = new Timers<Slot>();
    const sender = new Sender(this, o, report, () => this.#life);
    this.#sender = sender;
    const hb = o.heartbeat;
    const handler = this.#handler;
    const heartbeat = hb ? new Heartbeat(hb, timers, handler) : null;
    this.#heartbeat = heartbeat;
    const session = o.session
      ? new ClientSession(handler, sender.outbox, hb, timers, protocolList)
      : null;
    this.#session = session;
    const parts = { spec, timers, handler, report, heartbeat, session, sender };
    this.#life = new Lifecycle(this, o, parts, first);
    this.#life.start();
  }

  /** `'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed'`. */
  get state(): State {
    return this.#life.state;
  }

  /** WHATWG `readyState`, derived from `state` (`reconnecting` reads as CONNECTING). */
  get readyState(): 0 | 1 | 2 | 3 {
    return READY_STATE[this.#life.state];
  }

  /** The URL of the current or last attempt ('' before a URL function first resolved). */
  get url(): string {
    return this.#life.url;
  }

  /**
   * What the open link speaks: `'session'` when the server chose `heartline.v1` (PROTOCOL.md),
   * `'plain'` otherwise; `undefined` while not open.
   */
  get mode(): 'plain' | 'session' | undefined {
    return this.#life.state === 'open' ? this.#life.link!.kind : undefined;
  }

  /** The sub-protocol the server selected on the current (or last) link. */
  get protocol(): string {
    return this.#life.protocol;
  }

  get extensions(): string {
    return this.#life.extensions;
  }

  /**
   * Bytes not yet transmitted: the underlying socket's buffer plus every message `send()`
   * accepted that waits for a link (queued while not open; in session mode also those sent on a
   * lost link and not acknowledged, which go out again on resume), plus, as in WebSocket, what
   * was sent after `close()`. A message written to the open link and only awaiting the server's
   * acknowledgement is not counted, as in WebSocket.
   */
  get bufferedAmount(): number {
    return (this.#life.link?.bufferedAmount ?? 0) + this.#sender.buffered;
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
    const life = this.#life;
    this.#native ??= life.link?.native;
    return life.binaryType ?? this.#native ?? 'blob';
  }

  set binaryType(value: string) {
    value = String(value);
    const ws = typeof (this.#spec.WebSocket.prototype as { ping?: unknown })?.ping === 'function';
    if (value !== 'blob' && value !== 'arraybuffer' && !(ws && value === 'nodebuffer')) return;
    const life = this.#life;
    life.binaryType = value;
    if (life.link) life.link.binaryType = value;
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
    return this.#sender.send(data, options);
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
    return this.#sender.request(data, options);
  }

  /** Requests waiting for their answer, and replies that came too late (dropped). */
  get requests(): { readonly pending: number; readonly late: number } {
    const requests = this.#sender.requests;
    return { pending: requests.pending, late: requests.late };
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
    this.#life.close(code, reason);
  }

  /**
   * Connects now. While waiting for a retry, skips the wait; when open, replaces the link
   * (for a new token, say) without a `close`; when closed, opens it again with a fresh
   * attempt count. Does nothing while an attempt is in flight.
   */
  reconnect(): void {
    this.#life.reconnect();
  }

  protected override onListenerError(error: unknown, event: Event): void {
    this.#report.listenerThrew(error, event);
  }
}
