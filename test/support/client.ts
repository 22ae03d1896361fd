import { onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import {
  HeartlineSocket,
  type HeartlineSocketOptions,
  type UrlSource,
} from '../../src/client/index.js';
import { connectWs } from './server-fixtures.js';
import { waitForEvent } from './wait.js';

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

/**
 * Opens a plain link to `url` and resolves with it and the first message it gets: the
 * greeting of the test node it reached ("node 1").
 */
export async function land(url: string): Promise<{ ws: WebSocket; node: string }> {
  const ws = connectWs(url);
  const greeting = await waitForEvent<Buffer>(ws, 'message');
  return { ws, node: greeting.toString() };
}
