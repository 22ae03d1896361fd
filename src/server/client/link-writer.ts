import type { WebSocket } from 'ws';
import { BATCH_BYTES, MAX_BATCH_ENTRIES } from '../../protocol/batch.js';
import type { ReplayCursor } from '../engine/engine.js';
import type { ServerStats } from '../server-stats.js';
import { atTurnEnd, coalesce, type TurnWriter } from './corking.js';
import {
  decimalDigits,
  framedLength,
  type PreparedMessage,
  sessionFrame,
  writeDecimal,
  writeFrame,
} from './outgoing-message.js';

/** Replayed messages per batch read from the engine (an engine may bound a page by bytes too). */
const REPLAY_BATCH = 256;

const B = 0x62;
const COLON = 0x3a;
const SEMICOLON = 0x3b;

/** A frame of this turn's batch: bytes, or a session message whose frame is written in place. */
type Gathered = Buffer | PreparedMessage;

/** What a link's writer needs from its connection. */
export interface WriterHost {
  readonly stats: ServerStats;
  readonly highWaterMark: number;
  /** A write would have taken the buffer past the mark: the reader is too slow. */
  slow(buffered: number): void;
  /** A congested buffer (past half the mark) fell under a quarter of it: send more. */
  drained(): void;
}

/**
 * Everything that goes out on one link, through one bounded write: messages (raw in plain
 * mode, `m<offset>:` frames in session mode), control frames, and the replay of what a
 * resumed session missed. One writer per link, made when the link attaches and dropped with
 * it, so that what it remembers (the last offset written, whether a replay streams) can never
 * leak into the next link.
 *
 * Once the hello negotiated batches (PROTOCOL.md "Batches"), the frames of one turn are
 * gathered and leave at its end in one batch frame (one alone leaves as itself): the shared
 * `m<offset>:` frame of a broadcast is copied into each link's envelope, never encoded again.
 */
export class LinkWriter implements TurnWriter {
  readonly #ws: WebSocket;
  readonly #host: WriterHost;
  readonly #session: boolean;
  /** A replay is streaming: live messages wait in the log, the cursor brings them in order. */
  #replaying = false;
  /** The offset of the last reliable message written. */
  #written = 0;
  #closed = false;
  /** The largest batch this link's client gets, in bytes; 0 until batches are negotiated. */
  #batchLimit = 0;
  /**
   * This turn's frames, whether each is binary, each one's length, and their size in the batch
   * (headers included).
   */
  #frames: Gathered[] = [];
  #binary: boolean[] = [];
  #lengths: number[] = [];
  #gathered = 0;
  #due = false;
  /**
   * The buffer passed half the mark and has not fallen under a quarter of it since: every
   * write then carries a callback, so that the last one tells when the buffer has drained.
   */
  #congested = false;

  constructor(ws: WebSocket, host: WriterHost, session: boolean) {
    this.#ws = ws;
    this.#host = host;
    this.#session = session;
  }

  /** What waits to be written: the socket's buffer, and the frames gathered this turn. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount + this.#gathered;
  }

  /**
   * The hello negotiated batches: from now on the frames of a turn leave together, in batches of
   * at most `limit` bytes (what the client takes), 16 KiB and a quarter of the high-water mark.
   */
  batch(limit: number): void {
    this.#batchLimit = Math.min(limit, BATCH_BYTES, this.#host.highWaterMark / 4);
  }

  /** Writes the frames gathered so far now (before a close frame, which must follow them). */
  flush(): void {
    this.#send();
  }

  /** TurnWriter: the turn ended; what it gathered goes out. */
  endTurn(): void {
    this.#due = false;
    if (!this.#closed) this.#send();
  }

  /** Past half the mark, and not yet drained under a quarter of it. */
  get congested(): boolean {
    return this.#congested;
  }

  /** A message from a direct send or a fan-out; false when it was not written. */
  deliver(message: PreparedMessage, volatile: boolean): boolean {
    if (volatile && this.#ws.bufferedAmount > 0) {
      this.#host.stats.volatileDropped++;
      return false;
    }
    if (!this.#session) return this.#write(message.data, message.binary, message.data.length);
    const offset = message.offset;
    if (offset !== undefined) {
      // Written by the replay, or already: each offset once, in order.
      if (this.#replaying || offset <= this.#written) return true;
      this.#written = offset;
    }
    // Batched, its frame is written straight into the batch: never built on its own.
    const frame = this.#batchLimit > 0 ? message : sessionFrame(message);
    return this.#write(frame, message.binary, message.data.length);
  }

  /** A control frame (hello, ack, ping, pong), through the same bounded write. */
  control(frame: string): boolean {
    return this.#write(frame, false, 0);
  }

  /** An RFC 6455 pong answering the client's ping (ws's `autoPong` is off), under the same mark. */
  pong(data: Buffer): boolean {
    if (!this.#fits(data.length)) return false;
    coalesce(this.#ws, this.#host.highWaterMark / 4);
    this.#ws.pong(data);
    return true;
  }

  /** The link is gone: nothing more is written, and a replay under way stops. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Streams a replay: batches from the cursor, written while the socket's buffer stays under
   * half the high-water mark, waiting for it to drain in between. Live messages are not written
   * meanwhile (they are in the log, and the cursor reaches them). Resolves `'gap'` when the log
   * can no longer complete it, `'gone'` when the link ended first.
   */
  async replay(cursor: ReplayCursor): Promise<'done' | 'gap' | 'gone'> {
    const ws = this.#ws;
    const half = this.#host.highWaterMark / 2;
    this.#replaying = true;
    try {
      for (;;) {
        const next = cursor.next(REPLAY_BATCH);
        const batch = next instanceof Promise ? await next : next;
        if (this.#closed) return 'gone';
        if (batch === null) return 'gap';
        if (batch.length === 0) return 'done';
        for (const message of batch) {
          const frame = sessionFrame(message);
          this.#written = message.offset!;
          if (this.bufferedAmount + frame.length < half) {
            this.#write(frame, message.binary, message.data.length);
            continue;
          }
          // Past half the mark: wait until this frame has reached the kernel before the next.
          await new Promise<void>((resolve) => {
            ws.once('close', resolve);
            this.#write(frame, message.binary, message.data.length, () => {
              ws.off('close', resolve);
              resolve();
            });
          });
          if (this.#closed) return 'gone';
        }
      }
    } finally {
      this.#replaying = false;
      cursor.close();
    }
  }

  /**
   * The one bounded write: a write that would take the socket's buffer past the high-water
   * mark is refused and reported as a slow reader (a reader this slow would hold any amount of
   * memory), unless the buffer is empty.
   */
  #write(
    data: Buffer | string | PreparedMessage,
    binary: boolean,
    payload: number,
    written?: () => void,
  ): boolean {
    const length = typeof data === 'string' || isBytes(data) ? data.length : framedLength(data);
    if (!this.#fits(length)) return false;
    if (!this.#congested && this.bufferedAmount + length >= this.#host.highWaterMark / 2) {
      this.#congested = true;
    }
    if (this.#batchLimit > 0) this.#gather(data, length, binary, written);
    else this.#out(data as Buffer | string, binary, written);
    if (payload > 0) {
      const stats = this.#host.stats;
      stats.messagesOut++;
      stats.bytesOut += payload;
    }
    return true;
  }

  /**
   * Adds a frame to this turn's batch. One too big for any batch leaves alone (after what was
   * gathered, to keep the order); `written` (the replay waiting for the kernel) sends the batch
   * at once.
   */
  #gather(
    data: Buffer | string | PreparedMessage,
    measured: number,
    binary: boolean,
    written?: () => void,
  ): void {
    // `measured` counted a string's characters; in the batch it takes its UTF-8 bytes.
    const frame = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const length = typeof data === 'string' ? (frame as Buffer).length : measured;
    const size = decimalDigits(length) + 1 + length;
    const frames = this.#frames;
    const limit = this.#batchLimit;
    if (
      frames.length > 0 &&
      (1 + this.#gathered + size > limit || frames.length === MAX_BATCH_ENTRIES)
    ) {
      this.#send();
    }
    if (1 + size > limit) {
      this.#out(bytesOf(frame), binary, written);
      return;
    }
    frames.push(frame);
    this.#binary.push(binary);
    this.#lengths.push(length);
    this.#gathered += size;
    if (written) this.#send(written);
    else if (!this.#due) {
      this.#due = true;
      atTurnEnd(this);
    }
  }

  /** Sends what was gathered: one frame as itself, more as one batch (PROTOCOL.md "Batches"). */
  #send(written?: () => void): void {
    const frames = this.#frames;
    const kinds = this.#binary;
    if (frames.length === 0) return;
    if (frames.length === 1) {
      this.#out(bytesOf(frames[0]!), kinds[0]!, written);
    } else {
      const binary = kinds.includes(true);
      const out = Buffer.allocUnsafe(1 + this.#gathered);
      out[0] = B;
      let at = 1;
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i]!;
        at = writeDecimal(this.#lengths[i]!, out, at);
        out[at++] = binary && kinds[i] ? SEMICOLON : COLON;
        at = isBytes(frame) ? at + frame.copy(out, at) : writeFrame(frame, out, at);
      }
      this.#out(out, binary, written);
    }
    frames.length = 0;
    kinds.length = 0;
    this.#lengths.length = 0;
    this.#gathered = 0;
  }

  /** Into the socket, coalesced with the rest of the turn; watched while congested. */
  #out(data: Buffer | string, binary: boolean, written: (() => void) | undefined): void {
    coalesce(this.#ws, this.#host.highWaterMark / 4);
    this.#ws.send(data, { binary }, this.#congested ? this.#watch(written) : written);
  }

  /** The callback of a write while congested: the last one to run tells when it drained. */
  #watch(written: (() => void) | undefined): () => void {
    return () => {
      written?.();
      if (!this.#congested || this.#closed) return;
      if (this.bufferedAmount < this.#host.highWaterMark / 4) {
        this.#congested = false;
        this.#host.drained();
      }
    };
  }

  /** Whether `length` more bytes may be written; a reader too slow for them is reported. */
  #fits(length: number): boolean {
    if (this.#closed) return false;
    const buffered = this.bufferedAmount;
    if (buffered > 0 && buffered + length > this.#host.highWaterMark) {
      this.#host.slow(buffered);
      return false;
    }
    return true;
  }
}

function isBytes(frame: Buffer | PreparedMessage): frame is Buffer {
  return frame instanceof Uint8Array;
}

/** A gathered frame as bytes of its own (a session message's frame, built once and kept). */
function bytesOf(frame: Gathered): Buffer {
  return isBytes(frame) ? frame : sessionFrame(frame);
}
