import type { WebSocket } from 'ws';
import type { ReplayCursor } from '../engine/engine.js';
import type { ServerStats } from '../server-stats.js';
import { coalesce } from './corking.js';
import { type PreparedMessage, sessionFrame } from './outgoing-message.js';

/** Replayed messages per batch read from the engine (an engine may bound a page by bytes too). */
const REPLAY_BATCH = 256;

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
 */
export class LinkWriter {
  readonly #ws: WebSocket;
  readonly #host: WriterHost;
  readonly #session: boolean;
  /** A replay is streaming: live messages wait in the log, the cursor brings them in order. */
  #replaying = false;
  /** The offset of the last reliable message written. */
  #written = 0;
  #closed = false;
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

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
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
    return this.#write(sessionFrame(message), message.binary, message.data.length);
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
          if (ws.bufferedAmount + frame.length < half) {
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
  #write(data: Buffer | string, binary: boolean, payload: number, written?: () => void): boolean {
    if (!this.#fits(data.length)) return false;
    const mark = this.#host.highWaterMark;
    coalesce(this.#ws, mark / 4);
    if (!this.#congested && this.#ws.bufferedAmount + data.length >= mark / 2)
      this.#congested = true;
    this.#ws.send(data, { binary }, this.#congested ? this.#watch(written) : written);
    if (payload > 0) {
      const stats = this.#host.stats;
      stats.messagesOut++;
      stats.bytesOut += payload;
    }
    return true;
  }

  /** The callback of a write while congested: the last one to run tells when it drained. */
  #watch(written: (() => void) | undefined): () => void {
    return () => {
      written?.();
      if (!this.#congested || this.#closed) return;
      if (this.#ws.bufferedAmount < this.#host.highWaterMark / 4) {
        this.#congested = false;
        this.#host.drained();
      }
    };
  }

  /** Whether `length` more bytes may be written; a reader too slow for them is reported. */
  #fits(length: number): boolean {
    if (this.#closed) return false;
    const buffered = this.#ws.bufferedAmount;
    if (buffered > 0 && buffered + length > this.#host.highWaterMark) {
      this.#host.slow(buffered);
      return false;
    }
    return true;
  }
}
