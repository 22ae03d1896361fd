import type { PreparedMessage } from '../server/client/outgoing-message.js';
import type { ReplayBatch, ReplayCursor } from '../server/engine/engine.js';
import { parseEntries } from './codec.js';
import type { Keys } from './keys.js';
import type { CommandPort } from './port.js';
import { count, run, SCRIPTS, text } from './scripts.js';

/** Entries a replay's read script examines per call, so one call never holds Redis long. */
const SCAN = 2_000;
/** Payload bytes one page of a replay carries at most (at least one message). */
const PAGE_BYTES = 1 << 20;
/** Live entries a cursor holds while its reads catch up; more and the replay gives up. */
const HELD = 10_000;

/**
 * A resumed session's replay on one node: pages read from the shared log by the `read` script
 * (only the entries that were for the session), then the live entries the node's feed brought
 * meanwhile, held here instead of written (the engine routes them to the cursor while it is
 * open). A held entry the reads already returned is dropped, so every offset comes once, in
 * order, and `close()` hands what is still held to live delivery.
 */
export class RedisCursor implements ReplayCursor {
  readonly #port: CommandPort;
  readonly #keys: Keys;
  readonly #id: string;
  readonly #epoch: string;
  #after: number;
  /** The log had nothing more for the session when last read. */
  #caughtUp = false;
  #held: PreparedMessage[] = [];
  #overflow = false;
  readonly #release: (held: PreparedMessage[]) => void;

  constructor(
    port: CommandPort,
    keys: Keys,
    id: string,
    epoch: string,
    after: number,
    release: (held: PreparedMessage[]) => void,
  ) {
    this.#port = port;
    this.#keys = keys;
    this.#id = id;
    this.#epoch = epoch;
    this.#after = after;
    this.#release = release;
  }

  /** A live entry for this session arrived while the replay streams. */
  hold(message: PreparedMessage): void {
    if (this.#held.length >= HELD) this.#overflow = true;
    else this.#held.push(message);
  }

  async next(max: number): Promise<ReplayBatch> {
    if (this.#overflow) return null;
    while (!this.#caughtUp) {
      const k = this.#keys;
      const id = this.#id;
      const reply = (await run(
        this.#port,
        SCRIPTS.read,
        [k.meta, k.log, k.session(id), k.rooms(id), k.left(id)],
        [
          this.#epoch,
          String(this.#after),
          String(max),
          String(SCAN),
          id,
          k.base,
          String(PAGE_BYTES),
        ],
      )) as unknown[];
      if (text(reply[0]) !== 'OK') return null; // GAP, EPOCH or GONE: never a partial replay
      const scanned = count(reply[1]);
      const last = count(reply[2]);
      const entries = parseEntries(reply[3] as Buffer);
      this.#after = Math.max(this.#after, scanned);
      if (scanned >= last) this.#caughtUp = true;
      if (entries.length > 0) return entries.map((e) => e.message);
    }
    // The log is read up to where it was; what came live since is held here, in order.
    const held = this.#held.filter((m) => m.offset! > this.#after);
    const batch = held.slice(0, max);
    this.#held = held.slice(max);
    if (batch.length > 0) this.#after = batch.at(-1)!.offset!;
    return batch;
  }

  close(): void {
    const rest = this.#held.filter((m) => m.offset! > this.#after);
    this.#held = [];
    this.#release(rest);
  }
}
