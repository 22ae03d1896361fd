import { type Call, encodeControl, type FrameError, parseFrame } from '../../protocol/frames.js';
import type { AckBatcher } from './acks.js';

/** What a session's frames need from the link they arrive on (its `ClientConnection`). */
export interface SessionWire {
  /** Writes a control frame through the link's one bounded write; false when not written. */
  write(frame: string): boolean;
  /**
   * Hands an application message to the app: reliable (`seq`) or volatile; `redelivered`
   * when the app may have seen it on a server process that crashed.
   */
  handle(payload: string | Buffer, isBinary: boolean, redelivered: boolean): void;
  /** Hands a request, reply or failure on, numbered and deduplicated as a message is. */
  call(call: Call, payload: string | Buffer, redelivered: boolean): void;
  /** The client broke the protocol: close the link with `code`. */
  violate(code: number, what: string): void;
  /** A pong answered the server's ping. */
  ponged(): void;
  /**
   * Counts one inbound control frame against the link's `controlLimit`; false when over it
   * (the link is closing) and the frame must not be answered.
   */
  control(): boolean;
}

/**
 * The server's half of one `heartline.v1` session (PROTOCOL.md): its secret token, the last
 * client message handled (for dedupe and acks), and how its last link ended. It outlives its
 * links; `ClientConnection` feeds it the frames of the current one.
 */
export class ServerSession {
  readonly id: string;
  /** The resume token: 128 random bits, base64url; the engine compares it in constant time. */
  readonly token: string;
  /** The number of the last client message handed to the app. */
  lastSeq: number;
  /** The last number the engine has persisted, and so may be acknowledged (`AckBatcher` writes it). */
  persistedSeq: number;
  /** How the last link ended, for the `close` event if the session expires. */
  lastDrop: { code: number; reason: string } | undefined;
  /**
   * After a resume its previous owner could not hand over (it crashed): client messages up to
   * this number may have reached the app there, and are marked `redelivered`.
   */
  redeliverUpTo = 0;
  readonly #wire: SessionWire;
  readonly #acks: AckBatcher;
  #ackSent: number;

  constructor(id: string, token: string, lastSeq: number, wire: SessionWire, acks: AckBatcher) {
    this.id = id;
    this.token = token;
    this.lastSeq = lastSeq;
    this.persistedSeq = lastSeq;
    this.#ackSent = lastSeq;
    this.#wire = wire;
    this.#acks = acks;
  }

  /**
   * Handles one frame of the session's link (the connect frame was handled before), as it came
   * or from a batch (where a text frame is already a string).
   */
  receive(data: Buffer | string, isBinary: boolean): void {
    let frame: ReturnType<typeof parseFrame>;
    try {
      frame = parseFrame(isBinary || typeof data === 'string' ? data : data.toString('utf8'));
    } catch (error) {
      const e = error as FrameError;
      this.#wire.violate(e.code, `broke heartline.v1: ${e.message}`);
      return;
    }
    switch (frame.t) {
      case 'data': {
        const payload = frame.payload as string | Buffer;
        const n = frame.n;
        if (n === undefined) {
          this.#wire.handle(payload, isBinary, false);
          return;
        }
        // Exactly once, in order (PROTOCOL.md "Client → server"): the next number is handled, a
        // number at or below the last one is a resent duplicate, anything else is a hole the
        // client made (or a jump that would silence every later message).
        if (n === this.lastSeq + 1) {
          this.lastSeq = n;
          if (frame.call) this.#wire.call(frame.call, payload, n <= this.redeliverUpTo);
          else this.#wire.handle(payload, isBinary, n <= this.redeliverUpTo);
        } else if (n === 0 || n > this.lastSeq) {
          this.#wire.violate(
            1002,
            n === 0
              ? 'broke heartline.v1: numbered a message 0 (numbers start at 1)'
              : `broke heartline.v1: numbered a message ${n} after ${this.lastSeq} (expected ${this.lastSeq + 1}, or a resent number up to ${this.lastSeq})`,
          );
          return;
        }
        this.#acks.later(this);
        return;
      }
      case 'ping':
        if (this.#wire.control()) this.#wire.write(encodeControl({ t: 'pong', ts: frame.ts }));
        return;
      case 'pong':
        if (this.#wire.control()) this.#wire.ponged();
        return;
      default:
        this.#wire.violate(1002, `sent an unexpected ${frame.t} frame on a live session`);
    }
  }

  /** The heartbeat's ping, carrying the cumulative ack of what is persisted. */
  ping(): void {
    const ack = this.persistedSeq;
    this.#ackSent = Math.max(this.#ackSent, ack);
    this.#wire.write(encodeControl({ t: 'ping', ts: Date.now(), ack }));
  }

  /** Sends the cumulative ack up to `seq` (persisted) if it is news to the client. */
  ack(seq: number): void {
    if (seq <= this.#ackSent) return;
    this.#ackSent = seq;
    this.#wire.write(encodeControl({ t: 'ack', seq }));
  }

  /**
   * A resume said the client holds nothing below `from` (PROTOCOL.md, connect): the numbers
   * below it that this session lacks were dropped by the client, and its next message is `from`.
   */
  skipTo(from: number | undefined): void {
    if (from !== undefined && from - 1 > this.lastSeq) this.lastSeq = from - 1;
  }

  /** A new link starts acknowledging from the hello's `ack`. */
  attached(): void {
    this.#ackSent = this.persistedSeq;
  }
}
