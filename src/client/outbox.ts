import { OutboxOverflowError } from '../common/errors.js';
import { byteLength, type Outgoing } from './payload.js';

/** Bounds of the outbox; every default is in `DEFAULTS.outbox`. */
export interface OutboxOptions {
  /**
   * Messages kept, a safety bound for tiny messages (each has a cost the byte count misses):
   * sent while not open and, in session mode, not yet acknowledged.
   */
  readonly maxMessages: number;
  /** Bytes kept, counted as for `maxMessages` (UTF-8 for text): the bound that usually binds. */
  readonly maxBytes: number;
  /**
   * What a `send()` while not open does when the outbox is full: drop the oldest, or throw
   * `OutboxOverflowError`; both fire `overflow`. On an open session link the oldest go.
   */
  readonly overflow: 'drop-oldest' | 'reject';
}

/**
 * The client's one queue, in order and bounded by count and bytes: what was sent while the link
 * was down and, in session mode, what the server has not acknowledged yet. A cursor marks the
 * oldest messages as written to the current link; `unwritten` is what `bufferedAmount` adds.
 * Overflow is never silent: `push()` tells `onOverflow` and returns what it dropped
 * (`'drop-oldest'`), or tells it and throws (`'reject'`).
 *
 * @example
 * const box = new Outbox({ maxMessages: 2, maxBytes: 1024, overflow: 'drop-oldest' });
 * box.push('a'); box.push('b'); box.push('c') // ['a']
 */
export class Outbox<T = Outgoing> {
  readonly #options: OutboxOptions;
  readonly #onOverflow: (dropped: T[], policy: OutboxOptions['overflow']) => void;
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  /** How many of the oldest messages were written to the current link, and their bytes. */
  #written = 0;
  #writtenBytes = 0;

  /** @param onOverflow told what was dropped (oldest first) or refused, before `push()` returns or throws. */
  constructor(
    options: OutboxOptions,
    onOverflow: (dropped: T[], policy: OutboxOptions['overflow']) => void = () => {},
  ) {
    this.#options = options;
    this.#onOverflow = onOverflow;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes of the messages not yet written to the current link. */
  get unwritten(): number {
    return this.#bytes - this.#writtenBytes;
  }

  /**
   * Queues `data`; returns the messages dropped to make room (oldest first, possibly `data`
   * itself when it alone exceeds `maxBytes`). Throws `OutboxOverflowError` under `'reject'`.
   */
  push(data: T, size = byteLength(data as Outgoing), overflow = this.#options.overflow): T[] {
    const { maxMessages, maxBytes } = this.#options;
    const fits = () => this.length < maxMessages && this.#bytes + size <= maxBytes;
    if (fits()) {
      this.#append(data, size);
      return [];
    }
    if (overflow === 'reject') {
      this.#onOverflow([data], overflow);
      throw new OutboxOverflowError(
        `Outbox full (${this.length}/${maxMessages} messages, ${this.#bytes}/${maxBytes} bytes): ` +
          `a message of ${size} bytes was rejected`,
      );
    }
    const dropped: T[] = [];
    if (size > maxBytes || maxMessages === 0) dropped.push(data);
    else {
      while (!fits()) dropped.push(this.shift()!);
      this.#append(data, size);
    }
    this.#onOverflow(dropped, overflow);
    return dropped;
  }

  /** The oldest message, left in place. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** The oldest message not yet written to the current link, now counted as written. */
  next(): T | undefined {
    const i = this.#head + this.#written;
    if (i >= this.#items.length) return undefined;
    this.#written++;
    this.#writtenBytes += this.#sizes[i]!;
    return this.#items[i];
  }

  /** The link is gone: every message still held is to be written again. */
  rewind(): void {
    this.#written = 0;
    this.#writtenBytes = 0;
  }

  /** Every message, oldest first, left in place. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }

  /** Removes every message `drop` picks, wherever it is; returns how many. */
  remove(drop: (item: T) => boolean): number {
    const items: T[] = [];
    const sizes: number[] = [];
    let written = 0;
    let writtenBytes = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (drop(item)) continue;
      const size = this.#sizes[i]!;
      if (i < this.#head + this.#written) {
        written++;
        writtenBytes += size;
      }
      items.push(item);
      sizes.push(size);
    }
    const removed = this.length - items.length;
    if (removed === 0) return 0;
    this.#items = items;
    this.#sizes = sizes;
    this.#head = 0;
    this.#bytes = sizes.reduce((a, b) => a + b, 0);
    this.#written = written;
    this.#writtenBytes = writtenBytes;
    return removed;
  }

  /** Removes and returns the oldest message. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const data = this.#items[this.#head]!;
    const size = this.#sizes[this.#head]!;
    this.#bytes -= size;
    if (this.#written > 0) {
      this.#written--;
      this.#writtenBytes -= size;
    }
    this.#items[this.#head] = undefined as T; // let it be collected
    this.#head++;
    if (this.#head === this.#items.length) this.#clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) this.#compact();
    return data;
  }

  #clear(): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.rewind();
  }

  #append(data: T, size: number): void {
    this.#items.push(data);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  #compact(): void {
    this.#items = this.#items.slice(this.#head);
    this.#sizes = this.#sizes.slice(this.#head);
    this.#head = 0;
  }
}
