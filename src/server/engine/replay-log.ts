import { randomBytes } from 'node:crypto';

/** Who a log entry is for: one session, the members of rooms, or everyone; `except` leaves ids out. */
export type Audience =
  | { readonly kind: 'session'; readonly id: string }
  | {
      readonly kind: 'rooms';
      readonly rooms: readonly string[];
      readonly except?: readonly string[];
    }
  | { readonly kind: 'all'; readonly except?: readonly string[] };

/** One reliable server → client message, stored once whatever its audience's size. */
export interface LogEntry {
  readonly offset: number;
  readonly audience: Audience;
  /** The payload bytes (UTF-8 for text), shared with the message that was sent live. */
  readonly data: Buffer;
  /** Whether it goes out as a binary message. */
  readonly binary: boolean;
  /** When it was appended (`Date.now()`), for trimming by age. */
  readonly at: number;
  /** UTF-8 or binary length, for trimming by size. */
  readonly bytes: number;
}

/**
 * The ordered log of reliable server → client messages (PROTOCOL.md "Server → client"). Each
 * server process appends to its own log, named by its `epoch`, and assigns offsets
 * synchronously on the send path, and answers for its own epoch synchronously too, so a
 * resume replays exactly what was appended before the session's new link takes live
 * messages. A log shared between processes (Redis) names each process's log by its epoch.
 */
export interface ReplayLog {
  /** Names this log; a client holding another epoch cannot resume from it. */
  readonly epoch: string;
  /** The offset of the last entry appended (0 before any). Offsets start at 1. */
  readonly last: number;
  /** Appends an entry and returns its offset. */
  append(audience: Audience, data: Buffer, binary: boolean): number;
  /**
   * Every entry after `offset`, oldest first, or `null` when some were trimmed (or the epoch
   * is not this log's): a resume is then impossible, never partial.
   */
  since(epoch: string, offset: number): LogEntry[] | null;
}

/** Bounds of the in-memory log. */
export interface MemoryReplayLogOptions {
  /** Entries kept at most. */
  readonly maxMessages: number;
  /** Payload bytes kept at most. */
  readonly maxBytes: number;
  /** ms an entry is kept at most (the resume window: older ones cannot be needed). */
  readonly maxAge: number;
}

/**
 * The default log: a bounded ring in this process's memory, trimmed by count, bytes and age.
 * Its epoch is random, so a restarted server refuses every old position (reason `epoch`).
 */
export class MemoryReplayLog implements ReplayLog {
  readonly epoch = randomBytes(9).toString('base64url');
  readonly #options: MemoryReplayLogOptions;
  #entries: LogEntry[] = [];
  #head = 0;
  #bytes = 0;
  #last = 0;

  constructor(options: MemoryReplayLogOptions) {
    this.#options = options;
  }

  get last(): number {
    return this.#last;
  }

  /** The offset of the oldest entry kept, or `last + 1` when none is. */
  get first(): number {
    return this.#head < this.#entries.length ? this.#entries[this.#head]!.offset : this.#last + 1;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  append(audience: Audience, data: Buffer, binary: boolean): number {
    const offset = ++this.#last;
    const bytes = data.byteLength;
    const at = Date.now();
    this.#entries.push({ offset, audience, data, binary, at, bytes });
    this.#bytes += bytes;
    this.#trim(at);
    return offset;
  }

  since(epoch: string, offset: number): LogEntry[] | null {
    if (epoch !== this.epoch || offset > this.#last) return null;
    this.#trim(Date.now());
    if (offset + 1 < this.first) return null; // something after `offset` is gone
    // Entries are in offset order: binary-search the first one after `offset`.
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.offset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return this.#entries.slice(lo);
  }

  #trim(now: number): void {
    const { maxMessages, maxBytes, maxAge } = this.#options;
    const entries = this.#entries;
    while (
      this.#head < entries.length &&
      (entries.length - this.#head > maxMessages ||
        this.#bytes > maxBytes ||
        now - entries[this.#head]!.at > maxAge)
    ) {
      this.#bytes -= entries[this.#head]!.bytes;
      entries[this.#head] = undefined as unknown as LogEntry;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
