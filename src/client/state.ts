/**
 * The lifecycle of a HeartlineSocket as one union and one table of legal moves. The socket has
 * a single writer (`#setState`) that checks this table, so there are no loose flags such as
 * `lockReconnect` or `forcedClose` to fall out of step.
 */
export type State = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

export const NEXT = {
  // first attempt (or the first after reconnect() on a closed socket)
  connecting: ['open', 'reconnecting', 'closing', 'closed'],
  open: ['reconnecting', 'closing', 'closed'],
  // waiting for the next attempt, or an attempt in flight after a drop
  reconnecting: ['open', 'closing', 'closed'],
  // close() was called: waiting for the closing handshake, or (before a link opened) for the
  // end of the task, after which a WebSocket fires error and close
  closing: ['closed'],
  // reconnect() may reopen a socket closed for good
  closed: ['connecting'],
} as const satisfies Record<State, readonly State[]>;

export function canMove(from: State, to: State): boolean {
  return (NEXT[from] as readonly State[]).includes(to);
}

/** `readyState` is derived from the state, never stored: WHATWG CONNECTING/OPEN/CLOSING/CLOSED. */
export const READY_STATE = {
  connecting: 0,
  open: 1,
  reconnecting: 0,
  closing: 2,
  closed: 3,
} as const satisfies Record<State, 0 | 1 | 2 | 3>;
