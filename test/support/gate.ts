/**
 * A WebSocket endpoint that answers each opening handshake as the test says: an HTTP refusal
 * (any status, headers and body, as a proxy, a strict server or an auth layer sends them), or
 * an upgrade by a `ws` server that echoes. It records every handshake request, on 127.0.0.1
 * and port 0, and closes itself when the test finishes.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { type ServerOptions, WebSocketServer } from 'ws';

/** An HTTP answer to an upgrade request. */
export interface Refusal {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface Gate {
  readonly url: string;
  /** Every handshake request so far, oldest first. */
  readonly requests: IncomingMessage[];
  /** The `Sec-WebSocket-Protocol` offer of request `n` (0-based), or undefined without one. */
  offer(n: number): string | undefined;
}

/**
 * Starts a gate: `answer` sees each request and its index, and returns a refusal, or `null` to
 * upgrade it (`handleProtocols` as for `ws`; without it, `ws` selects the first offer).
 *
 * @example
 * const gate = await startGate(() => ({ status: 403, body: 'Origin not allowed' }));
 */
export async function startGate(
  answer: (request: IncomingMessage, n: number) => Refusal | null,
  handleProtocols?: ServerOptions['handleProtocols'],
): Promise<Gate> {
  const wss = new WebSocketServer({ noServer: true, ...(handleProtocols && { handleProtocols }) });
  wss.on('connection', (socket) => {
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const requests: IncomingMessage[] = [];
  const server = http.createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request: IncomingMessage, socket, head) => {
    socket.on('error', () => {});
    const refusal = answer(request, requests.push(request) - 1);
    if (!refusal) {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      return;
    }
    const body = refusal.body ?? '';
    const headers = {
      Connection: 'close',
      'Content-Type': 'text/plain',
      'Content-Length': String(Buffer.byteLength(body)),
      ...refusal.headers,
    };
    const head_ = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n${head_.join('')}\r\n${body}`,
    );
  });
  server.listen({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  onTestFinished(async () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    wss.close();
  });
  return {
    url: `ws://127.0.0.1:${port}/`,
    requests,
    offer: (n) => requests[n]?.headers['sec-websocket-protocol'],
  };
}
