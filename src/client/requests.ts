import {
  decodeFailure,
  encodeFailure,
  PendingRequests,
  RequestFailedError,
  RequestLostError,
  type RequestOptions,
  type RequestSettings,
  unsupported,
} from '../common/requests.js';
import type { Call } from '../protocol/frames.js';
import { RequestEvent } from './events.js';
import type { Outbox } from './outbox.js';
import { fromBytes, type Outgoing, type Payload, toPayload } from './payload.js';
import type { Entry } from './session.js';

/** What the requests of a socket need from it. */
export interface RequestHost {
  readonly url: string;
  readonly binaryType: string;
  /**
   * Whether a request can go out: `'plain'` when this socket or its open link is in plain mode,
   * `'closed'` once closing, otherwise `'session'` (open in session mode, or not known yet: it
   * waits in the outbox like a message).
   */
  mode(): 'session' | 'plain' | 'closed';
  /** Queues a request, reply or failure as a reliable message (throws as `send()` does). */
  enqueue(entry: Entry): void;
  dispatch(event: RequestEvent): void;
  /** Reports a throw of a `request` listener that was not a `RequestFailedError`. */
  reportThrow(error: unknown): void;
}

/**
 * The socket's requests both ways (PROTOCOL.md "Requests"): what it asked and waits on, by id,
 * and the server's requests it answers through `request` listeners. Requests ride the outbox
 * as reliable messages, so a dropped link loses none and a resume repeats none; what no answer
 * can reach any more (a session that ended, a socket closed) is rejected with
 * `RequestLostError`, never sent in another session.
 */
export class ClientRequests {
  readonly #host: RequestHost;
  readonly #settings: RequestSettings;
  readonly #pending = new PendingRequests<unknown>();
  readonly #outbox: Outbox<Entry>;
  #next = 0;

  constructor(host: RequestHost, outbox: Outbox<Entry>, settings: RequestSettings) {
    this.#host = host;
    this.#outbox = outbox;
    this.#settings = settings;
  }

  /** Replies that came after their request timed out, dropped. */
  get late(): number {
    return this.#pending.late;
  }

  /** Requests waiting for their answer. */
  get pending(): number {
    return this.#pending.size;
  }

  request(data: Outgoing, options?: RequestOptions): Promise<unknown> {
    const host = this.#host;
    const mode = host.mode();
    if (mode === 'plain') return Promise.reject(unsupported(host.url));
    if (mode === 'closed')
      return Promise.reject(new RequestLostError(`${host.url}: the socket is closed`));
    const id = String(++this.#next);
    let payload: Payload;
    try {
      payload = toPayload(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const reply = this.#pending.add(id, this.#settings, '', options);
    try {
      host.enqueue({ data: payload, seq: 0, call: { kind: 'q', id } });
    } catch (error) {
      this.#pending.settle(id, error as Error);
    }
    return reply;
  }

  /** A request frame of the session arrived (once, in order, like a message). */
  received(call: Call, payload: Payload): void {
    const host = this.#host;
    if (call.kind === 'r') {
      this.#pending.settle(call.id, fromBytes(payload, host.binaryType));
      return;
    }
    if (call.kind === 'f') {
      this.#pending.settle(call.id, decodeFailure(typeof payload === 'string' ? payload : ''));
      return;
    }
    const event = new RequestEvent(fromBytes(payload, host.binaryType));
    host.dispatch(event);
    const answered = RequestEvent.answerOf(event);
    const send = (reply: Outgoing | Error) => {
      const failed = reply instanceof Error;
      try {
        host.enqueue({
          data: failed ? encodeFailure(reply) : toPayload(reply),
          seq: 0,
          call: { kind: failed ? 'f' : 'r', id: call.id },
        });
      } catch (error) {
        host.reportThrow(error);
      }
    };
    if (!answered) {
      send(new RequestFailedError('Nothing handles requests here', 'unhandled'));
      return;
    }
    Promise.resolve(answered.reply).then(send, (error: unknown) => {
      if (!(error instanceof RequestFailedError)) host.reportThrow(error);
      send(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * No answer can reach what is in flight any more (the session was lost, the socket closed,
   * or the server turned out plain): each waiting request is rejected with `error`, and every
   * request, reply and failure still in the outbox is taken out, never sent in another session.
   */
  lost(error: Error): void {
    this.#outbox.remove((entry) => entry.call !== undefined);
    this.#pending.endAll(error);
  }

  /** The outbox dropped these (an overflow): the requests among them can get no answer. */
  dropped(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.call?.kind === 'q') {
        this.#pending.settle(
          entry.call.id,
          new RequestLostError(`${this.#host.url}: the outbox overflowed and dropped this request`),
        );
      }
    }
  }

  /** The link turned out plain: requests cannot be answered there. */
  plain(): void {
    this.lost(unsupported(this.#host.url));
  }
}
