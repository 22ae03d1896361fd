import { CloseCode } from '../protocol/close-codes.js';
import {
  type ControlFrame,
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
import { Outbox, type OutboxOptions } from './outbox.js';
import { byteLength, type Payload } from './payload.js';

interface Pending {
  seq: number;
  readonly payload: Payload;
}

/**
 * What the session needs from its socket. `send` writes a frame to the current link; `dead`,
 * `pong` and `error` serve the session's heartbeat.
 */
export interface SessionHooks extends HeartbeatHooks {
  /** Hands an application message to the app. */
  deliver(payload: Payload): void;
  /**
   * The handshake completed. `resumed` is `undefined` for the first session of this socket;
   * otherwise whether the previous session continued.
   */
  established(hello: HelloFrame, resumed: boolean | undefined): void;
  /** The peer broke the protocol: close the link with `code`; `fallback` means use plain mode. */
  violated(code: number, message: string, fallback: boolean): void;
  /** The server acknowledged `count` more messages, up to number `seq`. */
  acked(count: number, seq: number): void;
  /** Unacknowledged messages were dropped to respect the outbox bounds. */
  overflow(dropped: Payload[]): void;
}

/**
 * The client's half of a `heartline.v1` session (PROTOCOL.md): the session's identity and
 * position, which survive links, the numbering of client messages, and the buffer of those
 * not yet acknowledged. The socket owns the links; this owns what lives across them.
 */
export class ClientSession {
  readonly #hooks: SessionHooks;
  readonly #heartbeat: Heartbeat | null;
  /** Sent (or to be sent) and not yet acknowledged, numbered, oldest first. */
  readonly #unacked: Outbox<Pending>;
  #sid: string | undefined;
  #token = '';
  #epoch = '';
  /** The offset of the last reliable message received. */
  #offset = 0;
  /** The number of the last client message. */
  #seq = 0;
  #phase: 'idle' | 'handshake' | 'live' = 'idle';

  constructor(
    hooks: SessionHooks,
    limits: OutboxOptions,
    heartbeat: Pick<HeartbeatOptions, 'interval' | 'timeout'> | false,
    timers: HeartbeatTimer,
  ) {
    this.#hooks = hooks;
    // Numbered messages are never refused after the fact: overflow drops the oldest.
    this.#unacked = new Outbox<Pending>({ ...limits, overflow: 'drop-oldest' });
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

  /** Whether a session was ever established, so sends are numbered even between links. */
  get known(): boolean {
    return this.#sid !== undefined;
  }

  get live(): boolean {
    return this.#phase === 'live';
  }

  get id(): string | undefined {
    return this.#sid;
  }

  /** A `heartline.v1` link opened: ask for a fresh session, or to resume this one. */
  begin(): void {
    this.#phase = 'handshake';
    const resume =
      this.#sid === undefined
        ? {}
        : { sid: this.#sid, token: this.#token, epoch: this.#epoch, offset: this.#offset };
    this.#hooks.send(encodeControl({ t: 'connect', v: PROTOCOL_VERSION, ...resume }));
  }

  /** Pings now unless a ping is outstanding (after `offline`, or a tab waking up). */
  probe(): void {
    if (this.#phase === 'live') this.#heartbeat?.probe();
  }

  /** The link ended; the session lives on for the next one. */
  linkLost(): void {
    this.#phase = 'idle';
    this.#heartbeat?.stop();
  }

  /** The app closed the socket: the session ends with it. */
  end(): void {
    this.linkLost();
    this.#sid = undefined;
    this.#offset = 0;
    this.#seq = 0;
    this.#unacked.clear();
  }

  /** Numbers and keeps a reliable message, and writes it when the link is live. */
  send(payload: Payload): void {
    const entry = { seq: ++this.#seq, payload };
    const dropped = this.#unacked.push(entry, byteLength(payload));
    if (dropped.length > 0) this.#hooks.overflow(dropped.map((d) => d.payload));
    if (this.#phase === 'live') this.#hooks.send(encodeData(entry.seq, payload));
  }

  /** Writes a volatile message if the link is live; returns whether it was written. */
  sendVolatile(payload: Payload): boolean {
    if (this.#phase !== 'live') return false;
    this.#hooks.send(encodeVolatile(payload));
    return true;
  }

  /** Hands back every unacknowledged payload, for a link that turned out to be plain. */
  takeUnacked(): Payload[] {
    const payloads = [...this.#unacked].map((e) => e.payload);
    this.end();
    return payloads;
  }

  /** Handles one message of a `heartline.v1` link. */
  receive(raw: string | Uint8Array): void {
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
    this.#heartbeat?.received(frame);
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
          this.#hooks.deliver(frame.payload);
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
    const resuming = this.#sid !== undefined;
    const resumed = resuming && hello.resumed && hello.sid === this.#sid;
    if (resumed) this.#acked(hello.ack);
    else {
      // A fresh session numbers from 1: what the old one never acknowledged is sent again.
      this.#seq = 0;
      for (const entry of this.#unacked) entry.seq = ++this.#seq;
    }
    this.#sid = hello.sid;
    this.#token = hello.token;
    this.#epoch = hello.epoch;
    this.#offset = hello.offset;
    this.#phase = 'live';
    this.#heartbeat?.start();
    for (const entry of this.#unacked) this.#hooks.send(encodeData(entry.seq, entry.payload));
    this.#hooks.established(hello, resuming ? resumed : undefined);
  }

  #acked(seq: number): void {
    let count = 0;
    while (this.#unacked.length > 0 && this.#unacked.peek()!.seq <= seq) {
      this.#unacked.shift();
      count++;
    }
    if (count > 0) this.#hooks.acked(count, seq);
  }
}
