import { taskNow } from '../common/clock.js';
import { CLIENT_BATCH_LIMIT, decodeBatch, isBatch } from '../protocol/batch.js';
import { CloseCode } from '../protocol/close-codes.js';
import {
  type Call,
  type ControlFrame,
  encodeCall,
  encodeControl,
  encodeData,
  encodeVolatile,
  type FrameError,
  type HelloFrame,
  PROTOCOL_VERSION,
  parseFrame,
} from '../protocol/frames.js';
import {
  Heartbeat,
  type HeartbeatHooks,
  type HeartbeatOptions,
  type HeartbeatTimer,
} from './heartbeat.js';
import type { Outbox } from './outbox.js';
import { type Outgoing, type Payload, toPayload } from './payload.js';

/**
 * One message of the socket's outbox; `seq` is its number in the session, 0 until written. A
 * request, reply or failure carries its `call` (session mode only).
 */
export interface Entry {
  readonly data: Outgoing;
  seq: number;
  readonly call?: Call;
  /** The size of `data` in bytes, as the outbox counted it. */
  bytes?: number;
}

/**
 * What the session needs from its socket. `send` writes a frame to the current link; `dead`,
 * `pong` and `error` serve the session's heartbeat, and `error` reports what cannot be sent.
 */
export interface SessionHooks extends HeartbeatHooks {
  /** Hands an application message to the app. */
  deliver(payload: Payload): void;
  /** A request, reply or failure arrived (once, in order, as messages do). */
  call(call: Call, payload: Payload): void;
  /** The session could not be resumed: what was in flight in it can get no answer any more. */
  lost(): void;
  /**
   * The handshake completed. `resumed` is `undefined` for the first session of this socket;
   * otherwise whether the previous session continued.
   */
  established(hello: HelloFrame, resumed: boolean | undefined): void;
  /** The peer broke the protocol: close the link with `code`; `fallback` means use plain mode. */
  violated(code: number, message: string, fallback: boolean): void;
  /** The server acknowledged `count` more messages, up to number `seq`. */
  acked(count: number, seq: number): void;
  /** The hello negotiated batches: the link may send them, of at most `limit` bytes. */
  batch(limit: number): void;
}

/**
 * The client's half of a `heartline.v1` session (PROTOCOL.md): the session's identity and
 * position, which survive links, and its work on the socket's one outbox: it numbers messages
 * as it writes them, removes them when the server acknowledges them, and writes the rest again
 * after a resume. The socket owns the links; this owns what lives across them.
 */
export class ClientSession {
  readonly #hooks: SessionHooks;
  readonly #heartbeat: Heartbeat | null;
  /** The socket's outbox: numbered here as messages are written, trimmed by acks. */
  readonly #outbox: Outbox<Entry>;
  /** The app's sub-protocols: a hello may only choose one of them, or none. */
  readonly #protocols: readonly string[];
  #sid: string | undefined;
  #token = '';
  #epoch = '';
  /** The offset of the last reliable message received. */
  #offset = 0;
  /** The number of the last client message written. */
  #seq = 0;
  /** The last number the server acknowledged. */
  #ackedSeq = 0;
  #phase: 'idle' | 'handshake' | 'live' = 'idle';
  /** The link's hello negotiated batches (PROTOCOL.md "Batches"). */
  #batched = false;

  constructor(
    hooks: SessionHooks,
    outbox: Outbox<Entry>,
    heartbeat: Pick<HeartbeatOptions, 'interval' | 'timeout'> | false,
    timers: HeartbeatTimer,
    protocols: readonly string[],
  ) {
    this.#hooks = hooks;
    this.#outbox = outbox;
    this.#protocols = protocols;
    this.#heartbeat = heartbeat
      ? new Heartbeat(
          {
            interval: heartbeat.interval,
            timeout: heartbeat.timeout,
            ping: () => encodeControl({ t: 'ping', ts: Date.now() }),
            isPong: (frame) => (frame as ControlFrame).t === 'pong',
            always: true,
          },
          timers,
          hooks,
        )
      : null;
  }

  /** Whether a session was established and not ended, so that sends are framed as its messages. */
  get known(): boolean {
    return this.#sid !== undefined;
  }

  /** A `heartline.v1` link opened: ask for a fresh session, or to resume this one. */
  begin(): void {
    this.#phase = 'handshake';
    const resume =
      this.#sid === undefined
        ? {}
        : {
            sid: this.#sid,
            token: this.#token,
            epoch: this.#epoch,
            offset: this.#offset,
            // The highest number sent: after a server crash, what the new server may pass to the
            // app a second time is marked so (PROTOCOL.md, connect).
            sent: this.#seq,
            ...this.#from(),
          };
    this.#hooks.send(
      encodeControl({ t: 'connect', v: PROTOCOL_VERSION, batch: CLIENT_BATCH_LIMIT, ...resume }),
    );
  }

  /**
   * `from`, when messages written but not acknowledged are no longer held (the outbox dropped
   * them, or one was too big to keep): the server must not wait for them (PROTOCOL.md, connect).
   */
  #from(): { from?: number } {
    let held = this.#seq + 1;
    for (const entry of this.#outbox) {
      if (entry.seq > 0) held = entry.seq; // numbered ones come first, in order
      break;
    }
    return held > this.#ackedSeq + 1 ? { from: held } : {};
  }

  /** Pings now unless a ping is outstanding (after `offline`, or a tab waking up). */
  probe(): void {
    if (this.#phase === 'live') this.#heartbeat?.probe();
  }

  /** The link ended; the session lives on for the next one, which gets every message again. */
  linkLost(): void {
    this.#phase = 'idle';
    this.#batched = false;
    this.#heartbeat?.stop();
    this.#outbox.rewind();
  }

  /**
   * The session ends (the app closed the socket, or the server turned out plain). The outbox
   * keeps its messages: a later session numbers them afresh, a plain link sends them as they are.
   */
  end(): void {
    this.linkLost();
    this.#sid = undefined;
    this.#offset = 0;
  }

  /**
   * On a live link, numbers and writes every message of the outbox not yet written; `last`, the
   * message just sent, is written even when it was too big for the outbox to keep.
   */
  flush(last?: Entry): void {
    if (this.#phase !== 'live') return;
    for (let entry = this.#outbox.next(); entry; entry = this.#outbox.next()) this.#write(entry);
    if (last?.seq === 0) this.#write(last); // not kept, so never resent
  }

  /** Writes a volatile message; call only on a live link. */
  sendVolatile(payload: Payload): void {
    this.#hooks.send(encodeVolatile(payload));
  }

  /**
   * Handles one message of a `heartline.v1` link: a frame, or a batch of them, each handled as
   * if it had come alone, until one ends the link (or the app closes it).
   */
  receive(raw: string | Uint8Array): void {
    if (!this.#batched || !isBatch(raw)) {
      this.#receive(raw, taskNow());
      return;
    }
    let frames: (string | Uint8Array)[];
    try {
      frames = decodeBatch(raw);
    } catch (error) {
      const e = error as FrameError;
      this.#hooks.violated(e.code, e.message, false);
      return;
    }
    const at = taskNow(); // the frames of a batch, and of one read, arrived together
    for (const frame of frames) {
      this.#receive(frame, at);
      if (this.#phase !== 'live') return;
    }
  }

  #receive(raw: string | Uint8Array, at?: number): void {
    let frame: ReturnType<typeof parseFrame>;
    try {
      frame = parseFrame(raw);
    } catch (error) {
      const e = error as FrameError;
      if (this.#phase === 'handshake')
        this.#hooks.violated(
          CloseCode.SessionHandshakeFailed,
          `expected a hello frame: ${e.message}`,
          true,
        );
      else this.#hooks.violated(e.code, e.message, false);
      return;
    }
    this.#heartbeat?.received(frame, at);
    if (this.#phase === 'handshake') {
      if (frame.t === 'hello') this.#hello(frame);
      else
        this.#hooks.violated(
          CloseCode.SessionHandshakeFailed,
          `expected a hello frame, got ${frame.t}`,
          true,
        );
      return;
    }
    switch (frame.t) {
      case 'data':
        if (frame.n === undefined) this.#hooks.deliver(frame.payload);
        else if (frame.n > this.#offset) {
          this.#offset = frame.n;
          if (frame.call) this.#hooks.call(frame.call, frame.payload);
          else this.#hooks.deliver(frame.payload);
        } // else: a duplicate of what this session already has
        return;
      case 'ping':
        this.#hooks.send(encodeControl({ t: 'pong', ts: frame.ts }));
        if (frame.ack !== undefined) this.#acked(frame.ack);
        return;
      case 'ack':
        this.#acked(frame.seq);
        return;
      case 'pong':
        return; // the heartbeat took it
      default:
        this.#hooks.violated(
          CloseCode.ProtocolError,
          `unexpected ${frame.t} frame on a live session`,
          false,
        );
    }
  }

  #hello(hello: HelloFrame): void {
    // The bounds parseFrame leaves to the client, which alone knows what it offered and sent.
    const { protocol, reason } = hello;
    if (protocol !== '' && !this.#protocols.includes(protocol)) {
      this.#broke(`the hello chose a sub-protocol that was not offered: ${show(protocol)}`);
      return;
    }
    if (reason !== undefined && !(reason.length > 0 && reason.length <= 256)) {
      this.#broke(`a hello's reason must be 1 to 256 characters, got ${show(reason)}`);
      return;
    }
    const resuming = this.#sid !== undefined;
    const resumed = resuming && hello.resumed && hello.sid === this.#sid;
    if (resumed) {
      if (!this.#acked(hello.ack)) return;
    } else {
      // Requests, replies and failures of the old session are taken out first: sent again in
      // a new one, a request could run twice. A fresh session numbers from 1: the messages the
      // old one never acknowledged are sent again.
      if (resuming) this.#hooks.lost();
      this.#seq = 0;
      this.#ackedSeq = 0;
      for (const entry of this.#outbox) entry.seq = 0;
    }
    this.#sid = hello.sid;
    this.#token = hello.token;
    this.#epoch = hello.epoch;
    // A resumed session never goes back: whatever a server says, an offset is delivered once.
    this.#offset = resumed ? Math.max(this.#offset, hello.offset) : hello.offset;
    this.#phase = 'live';
    this.#batched = hello.batch !== undefined;
    if (hello.batch) this.#hooks.batch(hello.batch);
    this.#heartbeat?.start();
    this.flush();
    this.#hooks.established(hello, resuming ? resumed : undefined);
  }

  #write(entry: Entry): void {
    entry.seq ||= ++this.#seq;
    let payload: Payload;
    try {
      payload = toPayload(entry.data);
    } catch (error) {
      // A Blob sent before the server turned out to speak heartline.v1: it cannot be framed.
      this.#hooks.error(error as TypeError);
      return;
    }
    const call = entry.call;
    const frame = call
      ? encodeCall(call.kind, entry.seq, call.id, payload)
      : encodeData(entry.seq, payload);
    // A text frame's header is ASCII: its bytes are its characters plus the payload's bytes,
    // which the outbox counted, so the link need not count the frame again.
    const bytes = entry.bytes;
    this.#hooks.send(
      frame,
      typeof frame === 'string' && typeof payload === 'string' && bytes !== undefined
        ? frame.length - payload.length + bytes
        : undefined,
    );
  }

  /** Takes a cumulative ack; says whether it was valid, else the link is closed with 1002. */
  #acked(seq: number): boolean {
    if (seq > this.#seq) {
      this.#broke(`an ack of ${seq} is above the highest sequence number sent (${this.#seq})`);
      return false;
    }
    if (seq > this.#ackedSeq) this.#ackedSeq = seq;
    const outbox = this.#outbox;
    let count = 0;
    for (let head = outbox.peek(); head && head.seq > 0 && head.seq <= seq; head = outbox.peek()) {
      outbox.shift();
      if (!head.call) count++; // `ack` counts the app's messages; requests have their answers
    }
    if (count > 0) this.#hooks.acked(count, seq);
    return true;
  }

  /** A frame of a `heartline.v1` server broke a bound: 1002, and an `error` (PROTOCOL.md, Errors). */
  #broke(message: string): void {
    this.#hooks.violated(CloseCode.ProtocolError, message, false);
  }
}

/** A peer's string in an error message: quoted, and cut short when it is long. */
function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
