import type { WebSocket } from 'ws';

/** The part of a `net.Socket` that coalescing needs. */
interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed?: boolean;
}

/** `ws` keeps its TCP socket here (lib/websocket.js `setSocket`); a stable field since ws 1. */
function tcpOf(ws: WebSocket): Corkable | undefined {
  const socket = (ws as unknown as { _socket?: Corkable })._socket;
  return socket && typeof socket.cork === 'function' ? socket : undefined;
}

const corked = new Set<Corkable>();
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  for (const socket of corked) if (!socket.destroyed) socket.uncork();
  corked.clear();
}

/**
 * Coalesces what this event-loop turn writes to `ws`: the first write of a turn corks the TCP
 * socket, and every socket corked in the turn is uncorked together once it ends
 * (`process.nextTick`, so with no added delay, never a timer). Each frame `ws` writes meanwhile
 * waits in the socket's buffer, so a turn's frames leave in one `writev` instead of one each:
 * a reply to every message of a read, the acks of a turn, a fan-out's frame to each socket.
 * The frames are unchanged; `bufferedAmount` still counts what waits.
 *
 * @example
 * coalesce(ws);
 * ws.send(a);
 * ws.send(b); // a and b leave together, after this turn
 */
export function coalesce(ws: WebSocket): void {
  const socket = tcpOf(ws);
  if (!socket || corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(uncorkAll);
  }
}
