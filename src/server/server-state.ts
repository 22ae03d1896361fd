/** The lifecycle of a `HeartlineServer`: it only moves forward. */
export type ServerState = 'running' | 'draining' | 'closed';

/** The legal moves, as plain data: the one writer (`HeartlineServer#setState`) checks them. */
export const NEXT = {
  running: ['draining'],
  draining: ['closed'],
  closed: [],
} as const satisfies Record<ServerState, readonly ServerState[]>;

/**
 * Whether the server may move from `from` to `to`.
 *
 * @example
 * canMove('running', 'draining') // true
 * canMove('closed', 'running') // false
 */
export function canMove(from: ServerState, to: ServerState): boolean {
  return (NEXT[from] as readonly ServerState[]).includes(to);
}
