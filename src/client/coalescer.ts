import { type Corkable, tcpOf } from '../common/tcp.js';
import { BATCH_BYTES, encodeBatch, MAX_BATCH_ENTRIES } from '../protocol/batch.js';
import { utf8Length } from '../protocol/utf8.js';

/** A WebSocket: a browser's, or `ws`'s, whose TCP socket can be corked. */
interface Sink {
  send(data: never): void;
}

/**
 * What one link writes in one event-loop turn leaves together, once the turn's work is done (a
 * microtask: no added delay, never a timer):
 * - over `ws` in Node, the TCP socket is corked at the first send of a turn and uncorked at its
 *   end (and at once past 16 KiB), so the turn's frames leave in one write;
 * - once batches are negotiated (`limit`, session mode), the turn's frames leave in batch frames
 *   (PROTOCOL.md "Batches"), which is what browsers, that cannot cork, gain. One frame alone
 *   leaves as itself.
 */
export class Coalescer {
  readonly #socket: Sink;
  #tcp: Corkable | undefined;
  #due = false;
  #frames: (string | Uint8Array)[] = [];
  /** The gathered frames' sizes in bytes, and their sum. */
  #sizes: number[] = [];
  #bytes = 0;
  /** The largest batch to send, in bytes; 0: every frame as it comes. */
  limit = 0;

  constructor(socket: Sink) {
    this.#socket = socket;
  }

  /** Bytes gathered and not yet handed to the WebSocket. */
  get buffered(): number {
    return this.#bytes;
  }

  /** `bytes`: the UTF-8 size of a string, when the caller knows it (else it is counted). */
  send(data: unknown, bytes?: number): void {
    const tcp = this.#tcp;
    if (!this.#due) this.#begin();
    else if (tcp && tcp.writableLength >= BATCH_BYTES) {
      tcp.uncork();
      tcp.cork();
    }
    const limit = this.limit;
    if (limit > 0 && (typeof data === 'string' || data instanceof Uint8Array)) {
      const n =
        typeof data !== 'string'
          ? data.byteLength
          : (bytes ?? (data.length < limit ? utf8Length(data) : limit));
      const frames = this.#frames;
      // A frame's size and marker take at most 6 bytes in a batch of at most 16 KiB.
      if (
        frames.length === MAX_BATCH_ENTRIES ||
        1 + (frames.length + 1) * 6 + this.#bytes + n > limit
      )
        this.flush();
      if (7 + n <= limit) {
        frames.push(data);
        this.#sizes.push(n);
        this.#bytes += n;
        return;
      }
    }
    this.flush(); // what was gathered goes first (a Blob or an ArrayBuffer comes alone)
    this.#socket.send(data as never);
  }

  /** Sends what was gathered: at the end of the turn, and before the link closes. */
  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    const sizes = this.#sizes;
    this.#socket.send((frames.length === 1 ? frames[0] : encodeBatch(frames, sizes)) as never);
    frames.length = 0;
    sizes.length = 0;
    this.#bytes = 0;
  }

  #begin(): void {
    this.#due = true;
    const tcp = tcpOf(this.#socket);
    tcp?.cork();
    this.#tcp = tcp;
    queueMicrotask(this.#end);
  }

  readonly #end = (): void => {
    this.#due = false;
    this.flush();
    this.#tcp?.uncork();
    this.#tcp = undefined;
  };
}
