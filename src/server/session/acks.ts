import { EngineError } from '../../common/errors.js';
import { beforeFlush } from '../client/corking.js';
import type { Engine } from '../engine/engine.js';
import type { ServerSession } from './server-session.js';

/**
 * Cumulative acks (PROTOCOL.md "ack"), batched once per event-loop turn for every session that
 * handled client messages in it: the engine persists each session's last handled number, and
 * only then is it acknowledged, so a message the client has discarded is never one a new
 * owner of the session would handle again. With the in-memory engine persisting is
 * synchronous, and the ack goes out in the same turn's flush, in the same write as the turn's
 * replies (`beforeFlush`); a durable engine's acks are batched per loop iteration instead.
 *
 * @example
 * const acks = new AckBatcher(engine, report);
 * acks.later(session); // after handling a reliable message
 */
export class AckBatcher {
  readonly #engine: Engine;
  readonly #report: (error: Error) => void;
  readonly #due = new Set<ServerSession>();
  #scheduled = false;
  #closed = false;

  constructor(engine: Engine, report: (error: Error) => void) {
    this.#engine = engine;
    this.#report = report;
  }

  /** `session` handled (or recognised as a duplicate) a reliable message: ack it this turn. */
  later(session: ServerSession): void {
    if (this.#closed) return;
    this.#due.add(session);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A shared store persists with a round trip: one batch per loop iteration, for every
    // socket read in it. In memory it is free: the acks leave with the turn's replies.
    if (this.#engine.durable) setImmediate(this.#run);
    else beforeFlush(this.#run);
  }

  /** Stops for good; nothing due is acknowledged any more. */
  close(): void {
    this.#closed = true;
    this.#due.clear();
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    if (this.#closed) return;
    const sessions = [...this.#due];
    this.#due.clear();
    const batch = sessions.map((s) => ({ id: s.id, seq: s.lastSeq }));
    const ack = () => {
      for (let i = 0; i < sessions.length; i++) {
        const session = sessions[i]!;
        const seq = batch[i]!.seq;
        if (seq > session.persistedSeq) session.persistedSeq = seq;
        session.ack(seq);
      }
    };
    let pending: void | Promise<void>;
    try {
      pending = this.#engine.persist(batch);
    } catch (error) {
      this.#report(new EngineError('The engine failed to persist acknowledgements', error));
      return;
    }
    if (pending) {
      // Not persisted, not acknowledged: the client keeps the messages and resends them.
      pending.then(ack, (error: unknown) =>
        this.#report(new EngineError('The engine failed to persist acknowledgements', error)),
      );
    } else ack();
  };
}
