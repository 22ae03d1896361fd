import { onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import {
  HeartlineSocket,
  type HeartlineSocketOptions,
  type UrlSource,
} from '../../src/client/index.js';

/**
 * A HeartlineSocket over `ws` (Node 20 has no global WebSocket) that closes itself when the
 * test finishes.
 */
export function openClient(
  url: UrlSource,
  options: HeartlineSocketOptions = {},
  protocols?: string | string[],
): HeartlineSocket {
  const socket = new HeartlineSocket(url, protocols, { WebSocket, ...options });
  onTestFinished(() => socket.close());
  return socket;
}
