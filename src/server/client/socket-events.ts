import type { WebSocket } from 'ws';

/** What a socket's events are handed to: the connection that owns the socket now. */
export interface SocketOwner {
  onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void;
  onPong(ws: WebSocket): void;
  onPing(ws: WebSocket, data: Buffer): void;
  onError(ws: WebSocket, error: Error): void;
  onClose(ws: WebSocket, code: number, reason: Buffer): void;
}

/** The socket's owner, kept on the socket as ws keeps its own (`kWebSocket`). */
const kOwner = Symbol('heartline.owner');
type TaggedSocket = WebSocket & { [kOwner]: SocketOwner };

// One listener function per event for all sockets (`this` is the socket), instead of a closure
// per socket and event: idle connections are what a server has most of. The socket is passed
// on, so that an owner ignores the events of a link it has already replaced.
function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as TaggedSocket)[kOwner].onMessage(this, data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as TaggedSocket)[kOwner].onPong(this);
}
function onSocketPing(this: WebSocket, data: Buffer): void {
  (this as TaggedSocket)[kOwner].onPing(this, data);
}
function onSocketError(this: WebSocket, error: Error): void {
  (this as TaggedSocket)[kOwner].onError(this, error);
}
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[kOwner].onClose(this, code, reason);
}

/**
 * Hands every event of `ws` to `owner`, with listeners shared by all sockets.
 *
 * @example
 * listenTo(ws, connection);
 */
export function listenTo(ws: WebSocket, owner: SocketOwner): void {
  (ws as TaggedSocket)[kOwner] = owner;
  ws.on('message', onSocketMessage);
  ws.on('pong', onSocketPong);
  ws.on('ping', onSocketPing);
  ws.on('error', onSocketError);
  ws.on('close', onSocketClose);
}
