import { OutboxOverflowError } from '../common/errors.js';
import { byteLength, type Outgoing } from './payload.js';

export interface OutboxOptions {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly overflow: 'drop-oldest' | 'reject';
}

/**
 * Messages kept in order and bounded by count and bytes: those sent while the link is down
 * and, in session mode, those sent but not yet acknowledged. Overflow is never silent:
 * `push()` returns what it dropped (`'drop-oldest'`) or throws (`'reject'`).
 */
export class Outbox<T = Outgoing> {
  readonly #options: OutboxOptions;
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues `data`; returns the messages dropped to make room (oldest first, possibly `data`
   * itself when it alone exceeds `maxBytes`). Throws `OutboxOverflowError` under `'reject'`.
   */
  push(data: T, size = byteLength(data as Outgoing)): T[] {
    const { maxMessages, maxBytes, overflow } = this.#options;
    const fits = () => this.length < maxMessages && this.#bytes + size <= maxBytes;
    if (fits()) {
      this.#append(data, size);
      return [];
    }
    if (overflow === 'reject' || size > maxBytes || maxMessages === 0) {
      if (overflow === 'reject') {
        throw new OutboxOverflowError(
          `Outbox full (${this.length}/${maxMessages} messages, ${this.#bytes}/${maxBytes} bytes): ` +
            `a message of ${size} bytes was rejected`,
        );
      }
      return [data];
    }
    const dropped: T[] = [];
    while (!fits()) dropped.push(this.shift()!);
    this.#append(data, size);
    return dropped;
  }

  /** The oldest message, left in place. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Every message, oldest first, left in place. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }

  /** Removes and returns the oldest message. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const data = this.#items[this.#head]!;
    this.#bytes -= this.#sizes[this.#head]!;
    this.#items[this.#head] = undefined as T; // let it be collected
    this.#head++;
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) this.#compact();
    return data;
  }

  clear(): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
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
