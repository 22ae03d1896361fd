import type { WebSocket } from 'ws';
import { encodeControl, type FrameError, parseFrame } from '../../protocol/frames.js';

/** What a session's frames do to its client. */
export interface SessionFrameHooks {
  /** An application message, once (reliable) or as it came (volatile). */
  deliver(payload: string | Buffer, isBinary: boolean): void;
  /** A reliable message was handled or recognised as a duplicate: ack it this turn. */
  ackLater(): void;
  /** A pong answered the server's ping. */
  rtt(): void;
  /** The client broke the protocol: close with `code`. */
  violate(code: number, what: string): void;
}

/**
 * The server's half of one `heartline.v1` session (PROTOCOL.md): its secret token, the last
 * client message handled (for dedupe and acks), the last log offset addressed to it (so a
 * quiet session can resume after others' messages were trimmed), and how its last link ended.
 */
export class SessionLink {
  /** The resume token: 128 random bits, base64url; compared in constant time. */
  readonly token: string;
  /** The number of the last client message handed to the app. */
  lastSeq = 0;
  /** The offset of the last log entry whose audience included this session. */
  lastAddressed = 0;
  /** How the last link ended, for the `close` event if the session expires. */
  lastDrop: { code: number; reason: string } | undefined;
  #ackSent = 0;

  constructor(token: string) {
    this.token = token;
  }

  addressed(offset: number): void {
    if (offset > this.lastAddressed) this.lastAddressed = offset;
  }

  /** Handles one frame of the session's link (the connect frame was handled before). */
  receive(ws: WebSocket, data: Buffer, isBinary: boolean, hooks: SessionFrameHooks): void {
    let frame: ReturnType<typeof parseFrame>;
    try {
      frame = parseFrame(isBinary ? data : data.toString('utf8'));
    } catch (error) {
      const e = error as FrameError;
      hooks.violate(e.code, `broke heartline.v1: ${e.message}`);
      return;
    }
    switch (frame.t) {
      case 'data': {
        const payload = frame.payload as string | Buffer;
        if (frame.n === undefined) hooks.deliver(payload, isBinary);
        else {
          // Exactly once, in order: a number at or below the last one is a resent duplicate.
          if (frame.n > this.lastSeq) {
            this.lastSeq = frame.n;
            hooks.deliver(payload, isBinary);
          }
          hooks.ackLater();
        }
        return;
      }
      case 'ping':
        ws.send(encodeControl({ t: 'pong', ts: frame.ts }));
        return;
      case 'pong':
        hooks.rtt();
        return;
      default:
        hooks.violate(1002, `sent an unexpected ${frame.t} frame on a live session`);
    }
  }

  /** The heartbeat's ping, carrying the cumulative ack. */
  ping(ws: WebSocket): void {
    this.#ackSent = this.lastSeq;
    ws.send(encodeControl({ t: 'ping', ts: Date.now(), ack: this.lastSeq }));
  }

  /** Sends the cumulative ack if anything was handled since the last one. */
  flushAck(ws: WebSocket): void {
    if (this.lastSeq <= this.#ackSent) return;
    this.#ackSent = this.lastSeq;
    ws.send(encodeControl({ t: 'ack', seq: this.lastSeq }));
  }

  /** A new link starts acknowledging from the hello's `ack`. */
  resumed(): void {
    this.#ackSent = this.lastSeq;
  }
}
