import { randomBytes } from 'node:crypto';
import { now } from '../../common/clock.js';
import type { PreparedMessage } from '../client/outgoing-message.js';
import type { Audience } from './engine.js';

/** One reliable server → client message, stored once whatever the size of its audience. */
export interface LogEntry {
  readonly offset: number;
  readonly audience: Audience;
  /** The message as it was sent live; its session frame is built once and shared. */
  readonly message: PreparedMessage;
  /** When it was appended (monotonic ms), for trimming by age. */
  readonly at: number;
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

/** What one `read()` found: the matching entries, and the offset it scanned up to. */
export interface LogRead {
  readonly entries: PreparedMessage[];
  /** The offset of the last entry examined (`after` when there was none). */
  readonly scanned: number;
}

/**
 * The in-memory log of reliable server → client messages (PROTOCOL.md "Server → client"): a
 * ring trimmed by count, bytes and age, whose epoch is random, so that a restarted server
 * refuses every old position (reason `epoch`). Offsets start at 1 and increase by one per
 * append. Reads never copy payloads and never return a partial answer: when an entry after
 * the position asked for was trimmed, `read()` says so.
 */
export class MemoryReplayLog {
  readonly epoch = randomBytes(9).toString('base64url');
  readonly #options: MemoryReplayLogOptions;
  #entries: LogEntry[] = [];
  #head = 0;
  #bytes = 0;
  #last = 0;

  constructor(options: MemoryReplayLogOptions) {
    this.#options = options;
  }

  /** The offset of the last entry appended (0 before any). */
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

  /** Appends `message` for `audience`, sets `message.offset` and returns it. */
  append(audience: Audience, message: PreparedMessage): number {
    const offset = ++this.#last;
    message.offset = offset;
    const at = now();
    this.#entries.push({ offset, audience, message, at });
    this.#bytes += message.data.byteLength;
    this.#trim(at);
    return offset;
  }

  /**
   * Up to `max` entries after offset `after` that `wanted` accepts, examining at most `scan`
   * entries; or `null` when entries after `after` were trimmed (the caller decides whether
   * that matters). Continue from `scanned`.
   */
  read(
    after: number,
    max: number,
    wanted: (entry: LogEntry) => boolean,
    scan = max * 64,
  ): LogRead | null {
    this.#trim(now());
    if (after + 1 < this.first) return null;
    const entries: PreparedMessage[] = [];
    let scanned = after;
    const list = this.#entries;
    for (let i = this.#indexAfter(after); i < list.length && scan > 0; i++, scan--) {
      const entry = list[i]!;
      scanned = entry.offset;
      if (wanted(entry)) {
        entries.push(entry.message);
        if (entries.length >= max) break;
      }
    }
    return { entries, scanned };
  }

  /** The index of the first entry with an offset above `offset` (entries are in offset order). */
  #indexAfter(offset: number): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.offset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #trim(at: number): void {
    const { maxMessages, maxBytes, maxAge } = this.#options;
    const entries = this.#entries;
    while (
      this.#head < entries.length &&
      (entries.length - this.#head > maxMessages ||
        this.#bytes > maxBytes ||
        at - entries[this.#head]!.at > maxAge)
    ) {
      this.#bytes -= entries[this.#head]!.message.data.byteLength;
      entries[this.#head] = undefined as unknown as LogEntry;
      this.#head++;
    }
    // The same head-indexed compaction as the client's Outbox: amortised O(1) per entry.
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
