/** The lifecycle of a `HeartlineServer`: it only moves forward. */
export type ServerState = 'running' | 'draining' | 'closed';

/** The legal moves, as plain data: the one writer (`HeartlineServer#setState`) checks them. */
export const NEXT_STATE = {
  running: ['draining'],
  draining: ['closed'],
  closed: [],
} as const satisfies Record<ServerState, readonly ServerState[]>;

/**
 * Whether the server may move from `from` to `to`.
 *
 * @example
 * canTransition('running', 'draining') // true
 * canTransition('closed', 'running') // false
 */
export function canTransition(from: ServerState, to: ServerState): boolean {
  return (NEXT_STATE[from] as readonly ServerState[]).includes(to);
}
