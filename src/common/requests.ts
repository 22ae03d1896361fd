/**
 * Request/response, the part both ends share (PROTOCOL.md "Requests"): the table of requests
 * waiting for their answer, and what a failure says on the wire. Browser-safe.
 */

import {
  RequestFailedError,
  RequestLostError,
  RequestTimeoutError,
  RequestUnsupportedError,
} from './errors.js';
import { checkDelay, checkNumber, withDefaults } from './validate.js';

/** What a `request()` takes besides its data. */
export interface RequestOptions {
  /**
   * ms to wait for the answer before rejecting with `RequestTimeoutError`; a reply that comes
   * later is dropped and counted. Defaults to the socket's or server's `requests.timeout`.
   */
  timeout?: number;
  /** Aborting rejects the request with the signal's reason (the other end may still answer). */
  signal?: AbortSignal;
}

/** The bounds of the requests one end waits on. */
export interface RequestSettings {
  /** ms a request waits for its answer by default. */
  readonly timeout: number;
  /** Requests waiting at once (per client on the server); one more is refused at once. */
  readonly maxPending: number;
}

/** The defaults of the `requests` option, the same on both ends. */
export const REQUEST_DEFAULTS: RequestSettings = Object.freeze({
  timeout: 30_000,
  maxPending: 1_000,
});

/** Validates the `requests` option group over its defaults. */
export function resolveRequests(raw: unknown): RequestSettings {
  const r = withDefaults('requests', raw, REQUEST_DEFAULTS);
  return Object.freeze({
    timeout: checkDelay('requests.timeout', r.timeout, 1),
    maxPending: checkNumber('requests.maxPending', r.maxPending, { min: 1, integer: true }),
  });
}

interface Waiting<R> {
  readonly resolve: (reply: R) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly owner: string;
  readonly done: () => void;
}

/**
 * The requests one end sent and waits on, by id: each settles once, by its answer, its
 * timeout, its signal or its end; an answer for an id that is not waiting (it timed out, or was
 * never sent) is dropped and counted in `late`. Owners group requests (a server's clients).
 *
 * @example
 * const table = new PendingRequests<string>();
 * const reply = table.add('7', { timeout: 1_000, maxPending: 10 }, 'alice');
 * table.settle('7', 'pong'); // reply resolves with 'pong'
 */
export class PendingRequests<R> {
  readonly #waiting = new Map<string, Waiting<R>>();
  readonly #perOwner = new Map<string, number>();
  /** Answers that came for no waiting request: after a timeout, or never asked. */
  late = 0;

  /** Requests waiting now. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits for the answer to request `id`. Rejects at once with a `RequestLostError` when
   * `owner` already has `settings.maxPending` requests waiting.
   */
  add(id: string, settings: RequestSettings, owner = '', options?: RequestOptions): Promise<R> {
    const count = this.#perOwner.get(owner) ?? 0;
    if (count >= settings.maxPending) {
      return Promise.reject(
        new RequestLostError(
          `${count} requests are waiting for their answer already (requests.maxPending); this one was not sent`,
        ),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeout = options?.timeout ?? settings.timeout;
    return new Promise<R>((resolve, reject) => {
      const onAbort = () => this.#end(id, signal!.reason);
      const timer = setTimeout(() => this.#end(id, new RequestTimeoutError(timeout)), timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.#waiting.set(id, { resolve, reject, timer, owner, done });
      this.#perOwner.set(owner, count + 1);
    });
  }

  /** Whether request `id` still waits. */
  has(id: string): boolean {
    return this.#waiting.has(id);
  }

  /**
   * The answer came: a reply, or an error. With `from`, only from that owner: an answer from
   * anyone else is not one. False (and counted late) when nothing waited for it.
   */
  settle(id: string, reply: R | Error, from?: string): boolean {
    const waiting = this.#waiting.get(id);
    const w =
      waiting && (from === undefined || waiting.owner === from) ? this.#take(id) : undefined;
    if (!w) {
      this.late++;
      return false;
    }
    if (reply instanceof Error) w.reject(reply);
    else w.resolve(reply);
    return true;
  }

  /** Ends every request of `owner` (every request when absent) with `error`. */
  endAll(error: Error, owner?: string): void {
    for (const [id, w] of this.#waiting)
      if (owner === undefined || w.owner === owner) this.#end(id, error);
  }

  #end(id: string, error: Error): void {
    this.#take(id)?.reject(error);
  }

  #take(id: string): Waiting<R> | undefined {
    const w = this.#waiting.get(id);
    if (!w) return undefined;
    this.#waiting.delete(id);
    clearTimeout(w.timer);
    w.done();
    const left = (this.#perOwner.get(w.owner) ?? 1) - 1;
    if (left > 0) this.#perOwner.set(w.owner, left);
    else this.#perOwner.delete(w.owner);
    return w;
  }
}

/** What a failure frame carries (PROTOCOL.md "Requests"). */
interface FailureBody {
  readonly message: string;
  readonly reason?: string;
  /** The request may or may not have been handled: its server crashed holding it. */
  readonly lost?: true;
}

/** What a requester is told when the handler threw something that is not a `RequestFailedError`. */
export const HANDLER_FAILED = 'The request handler failed';

/**
 * The payload of a failure frame for what a handler threw: a `RequestFailedError` travels as it
 * is, anything else as `HANDLER_FAILED` (its details are the responder's own business).
 */
export function encodeFailure(error: unknown): string {
  const body: FailureBody =
    error instanceof RequestFailedError
      ? { message: error.message, ...(error.reason === undefined ? {} : { reason: error.reason }) }
      : error instanceof RequestLostError
        ? { message: error.message, lost: true }
        : { message: HANDLER_FAILED };
  return JSON.stringify(body);
}

/** The error a requester gets for a failure frame's payload. */
export function decodeFailure(text: string): RequestFailedError | RequestLostError {
  let body: Partial<FailureBody> = {};
  try {
    body = JSON.parse(text) as Partial<FailureBody>;
  } catch {}
  const message = typeof body.message === 'string' ? body.message : HANDLER_FAILED;
  if (body.lost === true) return new RequestLostError(message);
  return new RequestFailedError(message, typeof body.reason === 'string' ? body.reason : undefined);
}

/** The error of `request()` on a link that is not in session mode. */
export function unsupported(where: string): RequestUnsupportedError {
  return new RequestUnsupportedError(
    `${where}: request() needs a Heartline server in session mode; this link is plain`,
  );
}

/**
 * Runs the handlers of one incoming request and answers once: through `respond` (called by a
 * handler, at once or later), a handler's returned value (awaited, unless `undefined`), or a
 * failure for what a handler threw or rejected with. `reportThrow` hears any error that is not
 * a `RequestFailedError`. With no handler at all, the answer is a failure at once.
 */
export function answer<D, A>(
  handlers: readonly ((data: D, respond: Respond<A>) => unknown)[],
  data: D,
  send: (reply: A | Error) => void,
  reportThrow: (error: unknown) => void,
): void {
  let answered = false;
  const once = (reply: A | Error) => {
    if (answered) return;
    answered = true;
    send(reply);
  };
  const fail = (error: unknown) => {
    if (!(error instanceof RequestFailedError)) reportThrow(error);
    once(error instanceof Error ? error : new Error(String(error)));
  };
  const respond = ((reply: A) => once(reply)) as Respond<A>;
  respond.fail = (message: string, reason?: string) =>
    once(new RequestFailedError(message, reason));
  if (handlers.length === 0) {
    respond.fail('Nothing handles requests here', 'unhandled');
    return;
  }
  for (const handler of handlers) {
    let result: unknown;
    try {
      result = handler(data, respond);
    } catch (error) {
      fail(error);
      continue;
    }
    if (result === undefined) continue;
    if (typeof (result as PromiseLike<unknown>)?.then === 'function') {
      (result as PromiseLike<A | undefined>).then(
        (value) => value !== undefined && once(value as A),
        fail,
      );
    } else once(result as A);
  }
}

/**
 * Answers one request: `respond(reply)`, or `respond.fail(message, reason)` for a failure the
 * requester gets as a `RequestFailedError`. The first answer counts; later ones are ignored.
 */
export interface Respond<A> {
  (reply: A): void;
  fail(message: string, reason?: string): void;
}

export { RequestFailedError, RequestLostError, RequestTimeoutError, RequestUnsupportedError };
