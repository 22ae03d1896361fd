import type { WebSocket } from 'ws';
import { type Corkable, tcpOf } from '../../common/tcp.js';

/**
 * A turn's corked bytes are flushed once they reach this much (or a quarter of the link's
 * high-water mark, when that is smaller): enough to fill one `writev` with small frames, and
 * never so much that a burst to a fast reader looks like a slow reader's backlog.
 */
export const FLUSH_BYTES = 16 * 1024;

/** Gathers what a turn writes to a link, and writes it once the turn ends (a batch frame). */
export interface TurnWriter {
  /** Writes what was gathered, into the still corked socket. */
  endTurn(): void;
}

const corked = new Set<Corkable>();
let writers: TurnWriter[] = [];
let scheduled = false;
let hooks: (() => void)[] = [];

function uncorkAll(): void {
  // What runs here writes into the still corked sockets (`scheduled` is still set): first the
  // hooks (a turn's acks), then the writers, whose batches take what the hooks wrote. A writer
  // or a hook may queue more; the loop takes those too, boundedly.
  try {
    for (let i = 0; i < 100 && (hooks.length > 0 || writers.length > 0); i++) {
      const run = hooks;
      hooks = [];
      for (const fn of run) fn();
      const due = writers;
      writers = [];
      for (const writer of due) writer.endTurn();
    }
  } finally {
    scheduled = false;
    for (const socket of corked) if (!socket.destroyed) socket.uncork();
    corked.clear();
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  process.nextTick(uncorkAll);
}

/**
 * `writer.endTurn()` runs once this turn ends, just before the sockets the turn corked are
 * uncorked, so what it writes then leaves with the rest of the turn's writes.
 */
export function atTurnEnd(writer: TurnWriter): void {
  writers.push(writer);
  schedule();
}

/**
 * Runs `fn` once, at the end of this turn, before the writers' batches and the turn's writes
 * leave: what it writes leaves with them (the acks of the messages handled in the turn, with
 * the replies to them).
 *
 * @example
 * beforeFlush(() => session.ack(session.lastSeq));
 */
export function beforeFlush(fn: () => void): void {
  hooks.push(fn);
  schedule();
}

/**
 * Coalesces what this event-loop turn writes to `ws`: the first write of a turn corks the TCP
 * socket, and every socket corked in the turn is uncorked together once it ends
 * (`process.nextTick`, so with no added delay, never a timer). Each frame `ws` writes meanwhile
 * waits in the socket's buffer, so a turn's frames leave in one `writev` instead of one each:
 * a reply to every message of a read, the acks of a turn, a fan-out's frame to each socket.
 * The frames are unchanged; `bufferedAmount` still counts what waits.
 *
 * Once a turn has corked `flushAt` bytes on a socket they are flushed at once and the socket
 * corked again, so a large burst reaches the kernel as it would uncorked and `bufferedAmount`
 * keeps meaning what the reader has not taken.
 *
 * @example
 * coalesce(ws);
 * ws.send(a);
 * ws.send(b); // a and b leave together, after this turn
 */
export function coalesce(ws: WebSocket, flushAt = FLUSH_BYTES): void {
  const socket = tcpOf(ws);
  if (!socket) return;
  if (corked.has(socket)) {
    if (socket.writableLength >= Math.min(flushAt, FLUSH_BYTES)) {
      socket.uncork();
      socket.cork();
    }
    return;
  }
  socket.cork();
  corked.add(socket);
  schedule();
}
