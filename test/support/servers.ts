/**
 * Real `ws` servers for tests, on 127.0.0.1 and an ephemeral port, that tear themselves
 * down. By default a server behaves like the echo servers Heartline meets in the wild: it
 * echoes every message with the same binary flag and answers the text `"ping"` with
 * `"pong"`.
 *
 * The `WebSocketServer` runs in `noServer` mode behind a `node:http` server that this
 * fixture owns, so that `stop()` can really stop listening (a restarting server: clients
 * get 1006, then ECONNREFUSED) and `start()` can listen again on the same port, while
 * `wss` stays the same object for the whole test.
 */
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { onTestFinished } from 'vitest';
import { type ServerOptions, type WebSocket, WebSocketServer } from 'ws';

export interface TestServer {
  /** The port, stable across `stop()`/`start()`. */
  readonly port: number;
  /** `ws://127.0.0.1:${port}${path}` */
  readonly url: string;
  readonly wss: WebSocketServer;
  /** Server-side sockets currently open. */
  readonly sockets: Set<WebSocket>;
  /**
   * Resolves on the next connection.
   * Rejects after `timeout` ms (default 5000) with a message that says so.
   */
  nextConnection(options?: {
    timeout?: number;
  }): Promise<{ socket: WebSocket; request: IncomingMessage }>;
  /** Terminates every socket (clients see 1006) and stops listening (ECONNREFUSED). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops and closes the `WebSocketServer`. Idempotent. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  /**
   * Echoes every message back with the same binary flag.
   * @default true
   */
  echo?: boolean;
  /**
   * Answers the exact text message `"ping"` with `"pong"` instead of echoing it.
   * @default true
   */
  pong?: boolean;
  /** Passed to `WebSocketServer`; without it `ws` picks the client's first protocol. */
  handleProtocols?: ServerOptions['handleProtocols'];
  /**
   * Never sends anything: no echo, no `"pong"`, and no automatic pong to protocol-level
   * pings either (`autoPong: false`). A server that went quiet without closing.
   * @default false
   */
  silent?: boolean;
  /** Called for every connection, after the echo handler is attached. */
  onConnection?: (socket: WebSocket, request: IncomingMessage) => void;
  /** Only upgrades on this path are accepted; others get HTTP 400. */
  path?: string;
}

const HOST = '127.0.0.1';
const REBIND_ATTEMPTS = 20;
const REBIND_INTERVAL = 50;

/**
 * Starts a `ws` server on 127.0.0.1, port 0. Inside a test it closes itself when the test
 * finishes; elsewhere the caller calls `close()`.
 *
 * @example
 * const server = await startServer({ echo: false });
 * const ws = new WebSocket(server.url);
 * const { socket } = await server.nextConnection();
 */
export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { echo = true, pong = true, silent = false, onConnection, path } = options;
  const wss = new WebSocketServer({
    noServer: true,
    autoPong: !silent,
    ...(path === undefined ? {} : { path }),
    ...(options.handleProtocols ? { handleProtocols: options.handleProtocols } : {}),
  });
  const sockets = new Set<WebSocket>();
  let listener: http.Server | undefined;
  let port = 0;
  let closing: Promise<void> | undefined;

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (!silent) {
      socket.on('message', (data, isBinary) => {
        if (pong && !isBinary && data.toString() === 'ping') socket.send('pong');
        else if (echo) socket.send(data, { binary: isBinary });
      });
    }
    onConnection?.(socket, request);
  });

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    if (!wss.shouldHandle(request)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  }

  async function listen(): Promise<void> {
    const server = http.createServer((_request, response) => {
      response.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      response.end('Upgrade Required');
    });
    server.on('upgrade', onUpgrade);
    for (let attempt = 1; ; attempt++) {
      try {
        server.listen({ port, host: HOST });
        await once(server, 'listening');
        break;
      } catch (error) {
        // The kernel may briefly hold the port after stop(); retry a bounded number of times.
        const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!busy || port === 0 || attempt >= REBIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, REBIND_INTERVAL));
      }
    }
    port = (server.address() as AddressInfo).port;
    listener = server;
  }

  async function stop(): Promise<void> {
    const server = listener;
    listener = undefined;
    for (const socket of wss.clients) socket.terminate();
    if (!server) return;
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  }

  await listen();

  const testServer: TestServer = {
    get port() {
      return port;
    },
    get url() {
      return `ws://${HOST}:${port}${path ?? ''}`;
    },
    wss,
    sockets,
    nextConnection({ timeout = 5000 } = {}) {
      return new Promise((resolve, reject) => {
        const onConnection = (socket: WebSocket, request: IncomingMessage) => {
          clearTimeout(timer);
          resolve({ socket, request });
        };
        const timer = setTimeout(() => {
          wss.off('connection', onConnection);
          reject(new Error(`TestServer#nextConnection: no connection within ${timeout} ms`));
        }, timeout);
        wss.once('connection', onConnection);
      });
    },
    stop,
    async start() {
      if (closing) throw new Error('TestServer#start: the server is closed');
      if (!listener) await listen();
    },
    close() {
      closing ??= (async () => {
        await stop();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };

  try {
    onTestFinished(() => testServer.close());
  } catch {
    // Not inside a test (a beforeAll hook or a bench script): the caller closes the server.
  }
  return testServer;
}
