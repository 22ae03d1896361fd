import { now as clock, taskNow } from '../../common/clock.js';
import { SocketError } from '../../common/errors.js';
import { decodeBatch, isBatch } from '../../protocol/batch.js';
import { CloseCode } from '../../protocol/close-codes.js';
import type { Call, FrameError } from '../../protocol/frames.js';
import type { SessionWire } from '../session/server-session.js';
import { causeOfReadError, describeReadError } from '../termination-cause.js';
import type { ClientConnection } from './client-connection.js';
import type { ClientHost } from './client-host.js';
import { RateLimiter } from './rate-limiter.js';
import type { MessageInfo, ServerClient } from './server-client.js';

// What the third argument of a 'message' listener says; shared, so no message allocates one.
const FIRST_DELIVERY: MessageInfo = Object.freeze({ redelivered: false });
const REDELIVERED: MessageInfo = Object.freeze({ redelivered: true });

/** What the inbound path needs of its connection, which owns the link and the lifecycle. */
export type InboundHost = Pick<
  ClientConnection,
  | 'state'
  | 'session'
  | 'liveness'
  | 'acceptsBatches'
  | 'deliver'
  | 'write'
  | 'pong'
  | 'breach'
  | 'emit'
>;

/**
 * What one client sends, on whichever link it has: messages and batches against `rateLimit`,
 * control frames against `controlLimit`, text pings, RFC 6455 pings and pongs (proof of life
 * and the round-trip time), read errors, and in session mode the wire its session's frames
 * are handed over.
 */
export class ClientInbound implements SessionWire {
  readonly #conn: InboundHost;
  readonly #client: ServerClient;
  readonly #host: ClientHost;
  readonly #limiter: RateLimiter | undefined;
  /** `controlLimit`'s bucket, made at the first control frame (most links send few or none). */
  #controls: RateLimiter | undefined;
  #rtt: number | undefined;

  constructor(conn: InboundHost, client: ServerClient, host: ClientHost) {
    this.#conn = conn;
    this.#client = client;
    this.#host = host;
    const { rateLimit } = host.options;
    if (rateLimit) this.#limiter = new RateLimiter(rateLimit, clock());
  }

  get rtt(): number | undefined {
    return this.#rtt;
  }

  /** A message on the current link. */
  message(data: Buffer, isBinary: boolean): void {
    const t = taskNow();
    this.#conn.liveness?.heard(t);
    if (this.#conn.state !== 'open') return;
    if (this.#conn.acceptsBatches && isBatch(data)) {
      this.#host.stats.bytesIn += data.length;
      this.#receiveBatch(data, isBinary, t);
      return;
    }
    const { stats, options } = this.#host;
    stats.messagesIn++;
    stats.bytesIn += data.length;
    if (!this.#take(t)) return;
    const session = this.#conn.session;
    if (session) {
      session.receive(data, isBinary);
      return;
    }
    const text = options.textPing;
    if (!isBinary && text?.ping.equals(data)) {
      if (this.control()) this.#conn.deliver(text.pong, false);
      return;
    }
    this.#conn.emit('message', [isBinary ? data : data.toString('utf8'), isBinary, FIRST_DELIVERY]);
  }

  /**
   * A batch: each frame in it is one message, as if it had come alone (rate limit, session
   * rules), until one ends the link. The whole batch is checked first, and `maxPayload` bounded
   * it as one message.
   */
  #receiveBatch(data: Buffer, isBinary: boolean, t: number): void {
    let frames: (string | Uint8Array)[];
    try {
      frames = decodeBatch(isBinary ? data : data.toString('utf8'));
    } catch (error) {
      const e = error as FrameError;
      this.violate(e.code, `broke heartline.v1: ${e.message}`);
      return;
    }
    const stats = this.#host.stats;
    for (const frame of frames) {
      stats.messagesIn++;
      if (!this.#take(t)) return;
      this.#conn.session!.receive(frame as string | Buffer, typeof frame !== 'string');
      if (this.#conn.state !== 'open') return;
    }
  }

  /** Counts one inbound message against `rateLimit`; false when over it (the link is closing). */
  #take(t: number): boolean {
    if (this.#limiter && !this.#limiter.take(t)) {
      const { messages, interval } = this.#host.options.rateLimit as {
        messages: number;
        interval: number;
      };
      this.#conn.breach(
        CloseCode.PolicyViolation,
        'Rate limit exceeded',
        'rate_limit',
        `sent more than ${messages} messages per ${interval} ms`,
      );
      return false;
    }
    return true;
  }

  /** An RFC 6455 pong on the current link. */
  pong(): void {
    this.ponged();
    this.control();
  }

  /** An RFC 6455 ping from the client proves life too, and is answered like any control frame. */
  ping(data: Buffer): void {
    this.#conn.liveness?.heard(clock());
    if (this.control()) this.#conn.pong(data);
  }

  /** An error of the current link's socket. */
  error(error: Error & { code?: string }): void {
    if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
      // ws has already started the close with the same code (websocket.js receiverOnError).
      const { closeCode, cause } = causeOfReadError(error);
      const what = describeReadError(error, this.#host.options.maxPayload);
      this.#conn.breach(closeCode, '', cause, what, error);
      return;
    }
    this.#host.report(
      new SocketError(`Client ${this.#client.id}: ${error.message}`, error),
      this.#client,
    );
  }

  // ── SessionWire ────────────────────────────────────────────────────────────────────────────

  write(frame: string): boolean {
    return this.#conn.write(frame);
  }

  /** A session's application message: reliable ones exactly once, in order. */
  handle(payload: string | Buffer, isBinary: boolean, redelivered: boolean): void {
    this.#conn.emit('message', [payload, isBinary, redelivered ? REDELIVERED : FIRST_DELIVERY]);
  }

  /** A session's request, reply or failure: once, in order, as its messages. */
  call(call: Call, payload: string | Buffer, redelivered: boolean): void {
    this.#host.requests.received(this.#client, call, payload, redelivered);
  }

  violate(code: number, what: string): void {
    this.#conn.breach(code, 'Protocol error', 'protocol_error', what);
  }

  /**
   * Counts one inbound control frame against `controlLimit`; false when it is over the limit
   * (the link is then closing with 1008) or the link is not open, and the frame must not be
   * answered.
   */
  control(): boolean {
    if (this.#conn.state !== 'open') return false;
    const limit = this.#host.options.controlLimit;
    const t = clock();
    this.#controls ??= new RateLimiter({ messages: limit.frames, interval: limit.interval }, t);
    if (this.#controls.take(t)) return true;
    this.#conn.breach(
      CloseCode.PolicyViolation,
      'Control frame limit exceeded',
      'rate_limit',
      `sent more than ${limit.frames} control frames (pings, pongs) per ${limit.interval} ms`,
    );
    return false;
  }

  ponged(): void {
    const rtt = this.#conn.liveness?.ponged(clock());
    if (rtt !== undefined) this.#rtt = rtt;
  }
}
