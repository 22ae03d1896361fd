import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { redisEngine } from '../redis/index.js';
import { HeartlineServer, type OriginCheck } from '../server/index.js';
import { RedisChatStore } from './chat-store.js';
import { ChatRoom } from './demo-chat.js';

/** How long the shared store counts a member without news of it (refreshed every 30 s). */
const MEMBER_TTL = 90_000;

/** The package's root: `dist/cli/` and `src/cli/` are both two levels down. */
const ROOT = new URL('../../', import.meta.url);

/** The path of the demo's WebSocket endpoint. */
export const DEMO_WS_PATH = '/ws';

/** Every URL the demo serves, and the file behind it (relative to the package root). */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'demo/app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'demo/style.css', type: 'text/css; charset=utf-8' },
  '/heartline.min.js': {
    file: 'dist/browser/heartline.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  '/heartline.min.js.map': {
    file: 'dist/browser/heartline.min.js.map',
    type: 'application/json; charset=utf-8',
  },
};

/** The file the demo needs from the build, for the error that says it is missing. */
export const BUNDLE_FILE = fileURLToPath(new URL('dist/browser/heartline.min.js', ROOT));

// `?ws=` may point the page at another endpoint (a proxy in the tests), hence ws: and wss:.
const HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

export interface DemoServerOptions {
  /** 0 = any free port. */
  readonly port: number;
  readonly host: string;
  /** More browser origins allowed to connect, besides the page's own. */
  readonly origins?: readonly string[];
  /** ms over which the clients' return is spread at shutdown. @default 2000 */
  readonly retrySpread?: number;
  /**
   * Share one Redis with other demo servers: with the same prefix, they are one chat room, and
   * a page may resume on any of them (`heartline demo --redis`).
   */
  readonly redis?: { readonly client: unknown; readonly prefix: string };
}

export interface DemoServer {
  /** The page to open: `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** The WebSocket endpoint: `ws://127.0.0.1:8080/ws`. */
  readonly wsUrl: string;
  readonly port: number;
  /** The origins allowed to connect (the page's own and `origins`). */
  readonly origins: readonly string[];
  readonly heartline: HeartlineServer;
  readonly chat: ChatRoom;
  /** Closes every session (1012, see `retrySpread`), then the HTTP server. Idempotent. */
  close(): Promise<void>;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

/** `host:port` in URL form (IPv6 in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The origins of the page itself. On a loopback address, the page is also reached as
 * `localhost`. An unspecified address (0.0.0.0, ::) is reached by names this process cannot
 * know, so there the request's own `Host` is accepted as well (see `originCheck`).
 */
export function pageOrigins(host: string, port: number): string[] {
  if (UNSPECIFIED.has(host))
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  const origins = [`http://${hostPort(host, port)}`];
  if (host === '127.0.0.1' || host === '::1') origins.push(`http://localhost:${port}`);
  return origins;
}

/**
 * The allowed origins as a check. A fixed list protects a loopback server from pages of other
 * sites (DNS rebinding); only a server on every interface also accepts its own `Host`.
 */
function originCheck(allowed: ReadonlySet<string>, anyHost: boolean): OriginCheck {
  return (origin, request) =>
    allowed.has(origin) || (anyHost && origin === `http://${request.headers.host ?? ''}`);
}

async function serveAsset(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', ...HEADERS }).end();
    return;
  }
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  if (path === '/favicon.ico') {
    response.writeHead(204, HEADERS).end(); // the page declares an inline icon; this is for others
    return;
  }
  const asset = ASSETS[path];
  if (!asset) {
    response
      .writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...HEADERS })
      .end('Not Found');
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(new URL(asset.file, ROOT));
  } catch {
    const text = asset.file.startsWith('dist/')
      ? `${asset.file} is missing: run \`npm run build\` (or \`npm start\`, which builds first).`
      : `${asset.file} is missing from the package.`;
    response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', ...HEADERS }).end(text);
    return;
  }
  response.writeHead(200, {
    'Content-Type': asset.type,
    'Content-Length': body.length,
    ...HEADERS,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * Starts the chat demo: one HTTP server for the page, its script, its style and the client
 * bundle, with a `HeartlineServer` on `/ws` and a `ChatRoom` on that. Rejects with the
 * listening error (EADDRINUSE…) if the port cannot be had.
 *
 * @example
 * const demo = await startDemoServer({ port: 0, host: '127.0.0.1' });
 * console.log(demo.url);
 * await demo.close();
 */
export async function startDemoServer(o: DemoServerOptions): Promise<DemoServer> {
  const httpServer = http.createServer((request, response) => {
    serveAsset(request, response).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, HEADERS);
      response.end();
      httpServer.emit('clientError', error, request.socket);
    });
  });
  httpServer.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen({ port: o.port, host: o.host }, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const origins = [...new Set([...pageOrigins(o.host, port), ...(o.origins ?? [])])];
  const heartline = new HeartlineServer({
    server: httpServer,
    path: DEMO_WS_PATH,
    origins: originCheck(new Set(origins), UNSPECIFIED.has(o.host)),
    // Terminal clients (`heartline connect ws://…/ws`) send no Origin; browsers always do.
    allowMissingOrigin: true,
    maxPayload: 16 * 1024,
    // Like the page's heartbeat (5 s + 3 s): a page cut off shows as away to the others
    // within about 5 s, where the default (25 s + 10 s) would take half a minute.
    heartbeat: { interval: 3_000, timeout: 2_000 },
    shutdown: { retryAfter: o.retrySpread ?? 2_000 },
    ...(o.redis ? { engine: redisEngine({ client: o.redis.client, prefix: o.redis.prefix }) } : {}),
  });
  const chat = new ChatRoom(
    heartline,
    o.redis ? new RedisChatStore(o.redis.client as never, o.redis.prefix, MEMBER_TTL) : undefined,
  );
  await chat.ready;
  const shown = UNSPECIFIED.has(o.host) ? '127.0.0.1' : o.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPort(shown, port)}/`,
    wsUrl: `ws://${hostPort(shown, port)}${DEMO_WS_PATH}`,
    port,
    origins,
    heartline,
    chat,
    close() {
      closing ??= (async () => {
        await heartline.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
