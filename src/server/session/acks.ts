import { EngineError } from '../../common/errors.js';
import type { Engine } from '../engine/engine.js';
import type { ServerSession } from './server-session.js';

/**
 * Cumulative acks (PROTOCOL.md "ack"), batched once per event-loop turn for every session that
 * handled client messages in it: the engine persists each session's last handled number, and
 * only then is it acknowledged, so a message the client has discarded is never one a new
 * owner of the session would handle again. With the in-memory engine persisting is
 * synchronous, and the ack goes out in the same turn's flush.
 *
 * @example
 * const acks = new AckBatcher(engine, report);
 * acks.later(session); // after handling a reliable message
 */
export class AckBatcher {
  readonly #engine: Engine;
  readonly #report: (error: Error) => void;
  readonly #due = new Set<ServerSession>();
  #flush: ReturnType<typeof setImmediate> | undefined;

  constructor(engine: Engine, report: (error: Error) => void) {
    this.#engine = engine;
    this.#report = report;
  }

  /** `session` handled (or recognised as a duplicate) a reliable message: ack it this turn. */
  later(session: ServerSession): void {
    this.#due.add(session);
    this.#flush ??= setImmediate(this.#run);
  }

  /** Stops for good; nothing due is acknowledged any more. */
  close(): void {
    if (this.#flush) clearImmediate(this.#flush);
    this.#flush = undefined;
    this.#due.clear();
  }

  readonly #run = (): void => {
    this.#flush = undefined;
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
