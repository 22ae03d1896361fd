import type { Outgoing } from './payload.js';
import type { LossCause } from './retry.js';
import type { State } from './state.js';

// Node 20 has Event, EventTarget and MessageEvent but no CloseEvent or ErrorEvent. Where the
// platform has MessageEvent and CloseEvent, Heartline dispatches those, so that `instanceof`,
// the class string and the realm are a WebSocket's; elsewhere it defines look-alikes, as
// partysocket does. `error` is always Heartline's own `ErrorEvent`: a WebSocket fires a plain
// `Event` there (its class string is `[object Event]`), and Heartline's adds `message` and `error`.

const platform = globalThis as unknown as {
  MessageEvent?: typeof HeartlineMessageEvent;
  CloseEvent?: typeof HeartlineCloseEvent;
};

/** A close code and reason, as the browser's `CloseEvent` has them. */
class HeartlineCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/**
 * `data` is `any`, as in the DOM's `MessageEvent`, so that code written for `WebSocket`
 * (`JSON.parse(e.data)`) compiles unchanged.
 */
// biome-ignore lint/suspicious/noExplicitAny: the DOM's MessageEvent<T = any>, for drop-in code
class HeartlineMessageEvent<T = any> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId = '';
  readonly source = null;
  readonly ports: readonly never[] = [];
  constructor(type: string, init: { data: T; origin?: string }) {
    super(type);
    this.data = init.data;
    this.origin = init.origin ?? '';
  }
}

/** Fired once when the socket is closed for good, with the real code and reason. */
export const CloseEvent = platform.CloseEvent ?? HeartlineCloseEvent;
export type CloseEvent = HeartlineCloseEvent;

/** An application message from the server: the platform's `MessageEvent` where it has one. */
export const MessageEvent = platform.MessageEvent ?? HeartlineMessageEvent;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type MessageEvent<T = any> = HeartlineMessageEvent<T>;

/** An error that does not by itself close the socket; `error` holds the Error. */
export class ErrorEvent extends Event {
  readonly message: string;
  readonly error: unknown;
  constructor(type: string, init: { message?: string; error?: unknown } = {}) {
    super(type);
    this.message = init.message ?? '';
    this.error = init.error;
  }
}

/** Every lifecycle move, `from` → `to`, with what caused it. */
export class StateChangeEvent extends Event {
  readonly from: State;
  readonly to: State;
  readonly cause: string;
  constructor(from: State, to: State, cause: string) {
    super('statechange');
    this.from = from;
    this.to = to;
    this.cause = cause;
  }
}

export interface DropInit {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly name: string;
  readonly explanation: string;
  readonly cause: LossCause;
  readonly willReconnect: boolean;
}

/**
 * A link was lost (not by the app's `close()`): what happened, and whether a retry follows.
 * It is a `CloseEvent` of the link, with the catalog's words for the code.
 */
export class DropEvent extends CloseEvent implements DropInit {
  /** Catalog name of the code, such as `'HeartbeatTimeout'`. */
  readonly name: string;
  /** One sentence about the code, for people. */
  readonly explanation: string;
  readonly cause: LossCause;
  readonly willReconnect: boolean;
  constructor(init: DropInit) {
    super('drop', init);
    this.name = init.name;
    this.explanation = init.explanation;
    this.cause = init.cause;
    this.willReconnect = init.willReconnect;
  }
}

/** A connection attempt is scheduled: the `attempt`-th in a row, after `delay` ms. */
export class ReconnectingEvent extends Event {
  readonly attempt: number;
  readonly delay: number;
  /** Whether the delay came from the server's `retry-after` hint. */
  readonly serverHint: boolean;
  constructor(attempt: number, delay: number, serverHint: boolean) {
    super('reconnecting');
    this.attempt = attempt;
    this.delay = delay;
    this.serverHint = serverHint;
  }
}

/** A pong answered a ping after `rtt` ms. */
export class HeartbeatEvent extends Event {
  readonly rtt: number;
  constructor(rtt: number) {
    super('heartbeat');
    this.rtt = rtt;
  }
}

/** The outbox was full: `dropped` lists what was thrown away (or refused, under `'reject'`). */
export class OverflowEvent extends Event {
  readonly dropped: readonly Outgoing[];
  readonly policy: 'drop-oldest' | 'reject';
  constructor(dropped: readonly Outgoing[], policy: 'drop-oldest' | 'reject') {
    super('overflow');
    this.dropped = dropped;
    this.policy = policy;
  }
}

/**
 * Session mode re-established its session after a new link: `resumed` says whether nothing
 * was lost; otherwise `reason` says why a fresh session started (`unknown`, `token`,
 * `expired`, `epoch`, `gap`).
 */
export class ResumeEvent extends Event {
  readonly resumed: boolean;
  readonly reason: string | undefined;
  /** The session id now in use. */
  readonly sessionId: string;
  constructor(resumed: boolean, reason: string | undefined, sessionId: string) {
    super('resume');
    this.resumed = resumed;
    this.reason = reason;
    this.sessionId = sessionId;
  }
}

/**
 * Session mode: the server has handled `count` more of the messages sent, in order, up to
 * sequence number `seq`. An app that keeps its own list of pending messages marks the oldest
 * `count` of them delivered.
 */
export class AckEvent extends Event {
  readonly count: number;
  readonly seq: number;
  constructor(count: number, seq: number) {
    super('ack');
    this.count = count;
    this.seq = seq;
  }
}

/**
 * Session mode: the server sent a request (`server`'s `client.request()`). A listener answers
 * it by calling `respondWith()` during the event, with the reply or a promise of it; a promise
 * that rejects with a `RequestFailedError` sends that failure, any other rejection "The request
 * handler failed". With no `respondWith()`, the server hears "Nothing handles requests here".
 * The request arrives once, whatever the links do, and its answer reaches the server once.
 *
 * @example
 * ws.addEventListener('request', (e) => e.respondWith(JSON.stringify(state[e.data])));
 */
export class RequestEvent extends Event {
  // biome-ignore lint/suspicious/noExplicitAny: as MessageEvent's
  readonly data: any;
  #answered = false;
  #reply: Outgoing | PromiseLike<Outgoing> | undefined;
  constructor(data: unknown) {
    super('request');
    this.data = data;
  }

  /** Answers the request; only during the event's dispatch, and only once. */
  respondWith(reply: Outgoing | PromiseLike<Outgoing>): void {
    if (this.#answered)
      throw new DOMException('respondWith() was called already', 'InvalidStateError');
    this.#answered = true;
    this.#reply = reply;
  }

  /** What `respondWith()` was given, if it was called. @internal */
  static answerOf(event: RequestEvent): { reply: Outgoing | PromiseLike<Outgoing> } | undefined {
    return event.#answered ? { reply: event.#reply! } : undefined;
  }
}

/** The events a HeartlineSocket dispatches, for typed listeners. */
export interface HeartlineSocketEventMap {
  open: Event;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
  statechange: StateChangeEvent;
  drop: DropEvent;
  reconnecting: ReconnectingEvent;
  heartbeat: HeartbeatEvent;
  overflow: OverflowEvent;
  resume: ResumeEvent;
  ack: AckEvent;
  request: RequestEvent;
  drain: Event;
}
