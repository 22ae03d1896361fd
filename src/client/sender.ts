import { CallbackError } from '../common/errors.js';
import type { RequestOptions } from '../common/requests.js';
import { AckEvent, OverflowEvent, type RequestEvent } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import type { Link } from './link.js';
import type { ResolvedOptions, SendOptions, SendResult } from './options.js';
import { Outbox } from './outbox.js';
import { byteLength, type Outgoing, type Payload, toPayload } from './payload.js';
import type { Reporter } from './report.js';
import { ClientRequests, type RequestHost } from './requests.js';
import type { Entry } from './session.js';

/** What the sending side reads of its socket: where it dispatches, and what requests see. */
export interface SenderSocket extends EventTarget {
  readonly url: string;
  readonly binaryType: string;
}

const invalidState = (message: string) => new DOMException(message, 'InvalidStateError');

/**
 * What a socket sends, until a link takes it: the one outbox, the requests that ride it, what
 * `send()` answers, and the events of the way out (`overflow`, `ack`, `drain`). It writes to the
 * lifecycle's current link, or through the session when one is live; it never moves the state.
 */
export class Sender implements RequestHost {
  readonly #socket: SenderSocket;
  /** The socket's lifecycle, made after this (its session needs the outbox). */
  readonly #life: () => Lifecycle;
  readonly #report: Reporter;
  readonly #queue: boolean;
  /** The one queue: sent while not open and, in session mode, not yet acknowledged. */
  readonly outbox: Outbox<Entry>;
  readonly requests: ClientRequests;
  /** Bytes `send()` discarded after `close()`, which WHATWG counts in `bufferedAmount`. */
  #discarded = 0;

  constructor(
    socket: SenderSocket,
    options: ResolvedOptions,
    report: Reporter,
    life: () => Lifecycle,
  ) {
    this.#socket = socket;
    this.#life = life;
    this.#report = report;
    this.#queue = options.queue;
    this.outbox = new Outbox(options.outbox, (dropped, policy) => {
      const messages = dropped.filter((e) => !e.call);
      if (messages.length < dropped.length) this.requests.dropped(dropped);
      if (messages.length > 0 || policy === 'reject')
        this.dispatch(
          new OverflowEvent(
            messages.map((e) => e.data),
            policy,
          ),
        );
    });
    this.requests = new ClientRequests(this, this.outbox, options.requests);
  }

  get url(): string {
    return this.#socket.url;
  }

  get binaryType(): string {
    return this.#socket.binaryType;
  }

  /** What waits for a link, and what was discarded after `close()` (see `bufferedAmount`). */
  get buffered(): number {
    return this.outbox.unwritten + this.#discarded;
  }

  /** `send()`, given its data: see `HeartlineSocket#send`. */
  send(data: Outgoing, options?: SendOptions): SendResult {
    const life = this.#life();
    const state = life.state;
    if (state === 'closing' || state === 'closed') {
      this.#discarded += byteLength(data);
      return 'dropped';
    }
    const session = life.session?.known ? life.session : null;
    if (session) data = toPayload(data);
    const open = state === 'open';
    if (open && !session) {
      life.link!.send(data);
      return 'sent';
    }
    if (options?.volatile) {
      if (!open) return 'dropped';
      session!.sendVolatile(data as Payload);
      return 'sent';
    }
    return this.enqueue({ data, seq: 0 });
  }

  // biome-ignore lint/suspicious/noExplicitAny: a reply is a message's data (MessageEvent's any)
  request(data: Outgoing, options?: RequestOptions): Promise<any> {
    return this.requests.request(data, options);
  }

  /** Whether a request can go out now, or wait in the outbox (see `RequestHost.mode`). */
  mode(): 'session' | 'plain' | 'closed' {
    const life = this.#life();
    const state = life.state;
    if (state === 'closing' || state === 'closed') return 'closed';
    if (!life.session || (state === 'open' && life.link!.kind === 'plain')) return 'plain';
    return 'session';
  }

  /**
   * Queues a reliable message (and writes it when a session is live). Written to an open link,
   * a message is never refused: the oldest unacknowledged go.
   */
  enqueue(entry: Entry): SendResult {
    const life = this.#life();
    const state = life.state;
    const open = state === 'open';
    if (!open && !this.#queue) {
      throw invalidState(`HeartlineSocket is ${state} and its outbox is off`);
    }
    entry.bytes = byteLength(entry.data);
    const dropped = this.outbox.push(entry, entry.bytes, open ? 'drop-oldest' : undefined);
    if (!open) return dropped.includes(entry) ? 'dropped' : 'queued';
    life.session!.flush(entry); // open and not plain: a live session writes it at once
    return 'sent';
  }

  dispatch(event: RequestEvent | Event): void {
    this.#socket.dispatchEvent(event);
  }

  reportThrow(error: unknown): void {
    this.#report.error(new CallbackError("A 'request' listener failed", error));
  }

  /** A plain link opened: what the outbox holds goes out on it, in order. */
  flush(link: Link): void {
    const outbox = this.outbox;
    const queued = outbox.length > 0;
    while (this.#life().link === link && outbox.length > 0) link.send(outbox.shift()!.data);
    if (queued && outbox.length === 0) this.dispatch(new Event('drain'));
  }

  /** The server acknowledged `count` more messages, up to number `seq`. */
  acked(count: number, seq: number): void {
    this.dispatch(new AckEvent(count, seq));
    if (this.outbox.length === 0) this.dispatch(new Event('drain'));
  }

  /** `reconnect()` reopens a closed socket: what was discarded no longer counts. */
  restart(): void {
    this.#discarded = 0;
  }
}
