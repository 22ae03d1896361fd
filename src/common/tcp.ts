/** The part of a Node `net.Socket` that coalescing writes needs. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed?: boolean;
  /** Bytes waiting in the socket's buffer (corked ones included). */
  readonly writableLength: number;
}

/**
 * The TCP socket under a `ws` WebSocket, which `ws` keeps at `_socket` (lib/websocket.js
 * `setSocket`, a stable field since ws 1); `undefined` for any other WebSocket (a browser's).
 */
export function tcpOf(ws: unknown): Corkable | undefined {
  const socket = (ws as { _socket?: Partial<Corkable> } | null)?._socket;
  return socket && typeof socket.cork === 'function' ? (socket as Corkable) : undefined;
}
