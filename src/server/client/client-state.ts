/**
 * The lifecycle of a `ServerClient` as one union and one table of legal moves, with one writer
 * (`ClientConnection#setState`), as on the client and the server:
 *
 * - `open`: a link is up;
 * - `closing`: the server or the client began to end the link, and the client with it;
 * - `detached`: session mode, the link is gone and the session waits for a resume;
 * - `closed`: the client ended for good; `close` has fired.
 */
export type ClientState = 'open' | 'closing' | 'detached' | 'closed';

export const NEXT = {
  // a plain link closed by the peer ends at once; a session's lost link detaches
  open: ['closing', 'detached', 'closed'],
  // a session link the server ended for a reason of the link (heartbeat, slow reader) detaches
  closing: ['detached', 'closed'],
  // resumed on a new link, or the window passed (or the app closed it, or it moved)
  detached: ['open', 'closed'],
  closed: [],
} as const satisfies Record<ClientState, readonly ClientState[]>;

/**
 * Whether a client may move from `from` to `to`.
 *
 * @example
 * canMove('detached', 'open') // true: resumed
 * canMove('closed', 'open') // false
 */
export function canMove(from: ClientState, to: ClientState): boolean {
  return (NEXT[from] as readonly ClientState[]).includes(to);
}
