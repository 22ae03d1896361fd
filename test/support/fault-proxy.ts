/**
 * A TCP proxy that sits between a WebSocket client and its server and breaks the link on
 * demand, the way real networks break it. It works below WebSocket: it copies bytes and
 * never parses a frame, so whatever it does, both ends see only what a router, a NAT, a
 * load balancer or a pulled cable would show them.
 *
 *   client ──TCP── proxy (127.0.0.1:port) ──TCP── target server
 *
 * Each accepted client socket gets its own upstream socket to the target. The client side
 * is paused until the upstream connects, so no byte is read before it can be forwarded. If
 * the upstream cannot be reached, the client socket is reset (RST).
 *
 * Faults, at the TCP level:
 *
 * - `blackhole()` — the cable is cut with no one noticing. Both TCP sockets of every
 *   current connection stay open; the proxy keeps reading from both and throws every byte
 *   away, and it never forwards a FIN or an RST (if one side closes or errors, the other
 *   side learns nothing). Both peers see a healthy ESTABLISHED connection: `readyState`
 *   stays OPEN, writes succeed (the kernel accepts them, the proxy drains them), and no
 *   `close` ever fires. Only an application-level timeout (a heartbeat) can tell. Bytes
 *   that Node had already queued for writing before the call may still be delivered.
 *   With `{ newConnections: true }` later connections are accepted too and blackholed at
 *   once, with no upstream at all: the TCP connect succeeds but the HTTP upgrade is never
 *   answered, so a client stays CONNECTING (a hanging handshake). Without that option
 *   new connections pass normally. A blackholed connection never comes back; `heal()`
 *   only affects connections made after it.
 * - `reset()` — every current connection, blackholed or not, is destroyed with a TCP RST
 *   (`socket.resetAndDestroy()`) on both sides: the client and the server each see
 *   ECONNRESET at once (`ws` reports close code 1006). New connections are unaffected.
 * - `refuse()` — the proxy stops listening: new connects fail with ECONNREFUSED, as with
 *   a server that is down or restarting. Existing connections are untouched.
 * - `accept()` — listens again on the same port; new connections pass.
 * - `delay(ms)` — every chunk forwarded in either direction, on current and new
 *   connections, is held `ms` before it is written. Order is preserved, FIN is forwarded
 *   after the held chunks, and `delay(0)` lets already held chunks go first. This is
 *   latency, not bandwidth: chunks are not split or throttled.
 * - `heal()` — new connections pass normally with no delay; the delay is lifted from
 *   current connections too. Blackholed connections stay dead.
 *
 * Without a fault, bytes are piped with backpressure (the reading side pauses while the
 * writing side is full), FIN is forwarded as FIN (half-close is kept) and an error or RST
 * on one side becomes an RST on the other.
 *
 * `discarded` counts the bytes read from blackholed connections and thrown away, so a test can
 * wait until a frame has provably reached the proxy and died there, instead of watching for a
 * while that nothing arrives.
 *
 * With `{ localAddress: '127.0.0.N' }` the upstream sockets are bound to that loopback address,
 * so that what sits behind (the balancer of `balancer.ts`) can tell the clients of several
 * proxies apart by their remote address. The whole 127.0.0.0/8 range is loopback on Linux.
 *
 * The same machinery routes: `startRoutedProxy()` takes a `route()` that picks the target of
 * each new connection, and is asked again when that target refuses (the client stays paused
 * meanwhile, so nothing is lost); `startFaultProxy(target)` is the route that always answers
 * `target` and gives up after one failure. `balancer.ts` is built on it.
 *
 * `startFaultProxy()` registers `close()` with Vitest's `onTestFinished` when called inside
 * a test; elsewhere (a `beforeAll`, a bench script) the caller closes it. Only loopback.
 *
 * @example
 * const server = await startServer();
 * const proxy = await startFaultProxy({ port: server.port });
 * const ws = new WebSocket(proxy.url);
 * await waitForEvent(ws, 'open');
 * proxy.blackhole(); // ws stays OPEN, nothing gets through any more
 */
import { once } from 'node:events';
import net from 'node:net';
import { onTestFinished } from 'vitest';

export interface FaultProxy {
  /** The port the proxy listens on (stable across `refuse()`/`accept()`). */
  readonly port: number;
  /** `ws://127.0.0.1:${port}` */
  readonly url: string;
  /** Live client-side connections currently held by the proxy, blackholed ones included. */
  readonly connections: number;
  /** Total client connections accepted since start. */
  readonly accepted: number;
  /** Bytes read from blackholed connections (both directions) and thrown away, since start. */
  readonly discarded: number;
  /**
   * Cuts every current connection silently: both sockets stay open, bytes are read and
   * discarded both ways, FIN and RST are never forwarded. With `newConnections: true`, new
   * connections are accepted and blackholed too (a handshake that never completes); by
   * default they pass.
   */
  blackhole(opts?: { newConnections?: boolean }): void;
  /** Destroys every current connection with a TCP RST on both sides. */
  reset(): void;
  /** Stops listening: new connections get ECONNREFUSED; existing ones are untouched. */
  refuse(): Promise<void>;
  /** Listens again on the same port; new connections pass. */
  accept(): Promise<void>;
  /** Holds every forwarded chunk `ms` milliseconds, both ways, in order; 0 = no delay. */
  delay(ms: number): void;
  /** New connections pass normally with no delay. Blackholed connections stay dead. */
  heal(): void;
  /** Destroys everything; resolves when fully closed. Idempotent. */
  close(): Promise<void>;
}

/** Where a connection goes: a TCP port on loopback. */
export interface ProxyTarget {
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export interface FaultProxyOptions {
  /** Binds every upstream socket to this local (loopback) address, e.g. `'127.0.0.2'`. */
  localAddress?: string;
}

export interface RoutedProxyOptions extends FaultProxyOptions {
  /**
   * Picks the target of a new connection. `failed` lists the targets this connection already
   * tried and could not reach, in order (empty on the first call); `undefined` gives up, and
   * the client gets an RST.
   */
  route(client: net.Socket, failed: readonly ProxyTarget[]): ProxyTarget | undefined;
  /** A connection's upstream is connected to `target`. */
  onOpen?(target: ProxyTarget, client: net.Socket): void;
  /** A connection's upstream that had connected to `target` is closed. */
  onClose?(target: ProxyTarget, client: net.Socket): void;
}

const HOST = '127.0.0.1';
/** Attempts to re-bind the same port in `accept()`, REBIND_INTERVAL ms apart. */
const REBIND_ATTEMPTS = 20;
const REBIND_INTERVAL = 50;

interface Held {
  chunk: Buffer;
  at: number;
}

/** One direction of a pair: bytes read from `from` are written to `to`. */
interface Lane {
  from: net.Socket;
  to: net.Socket;
  held: Held[];
  timer: NodeJS.Timeout | undefined;
  /** `from` has sent FIN; forward it once `held` is empty. */
  ended: boolean;
  /** `from` is paused until `to` drains. */
  draining: boolean;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  blackholed: boolean;
  lanes: Lane[];
}

/**
 * Starts a fault proxy on 127.0.0.1 (port 0) in front of `target`.
 *
 * @example
 * const proxy = await startFaultProxy({ port: server.port });
 * const second = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.3' });
 */
export function startFaultProxy(
  target: ProxyTarget,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  return startRoutedProxy({
    ...options,
    route: (_client, failed) => (failed.length === 0 ? target : undefined),
  });
}

/**
 * Starts a fault proxy on 127.0.0.1 (port 0) whose every new connection goes where `route()`
 * says. The building block of `startFaultProxy()` and of the balancer.
 *
 * @example
 * const proxy = await startRoutedProxy({ route: () => ({ port: pick() }) });
 */
export async function startRoutedProxy(options: RoutedProxyOptions): Promise<FaultProxy> {
  const { route, onOpen, onClose, localAddress } = options;
  const pairs = new Set<Pair>();
  const clients = new Set<net.Socket>();
  let accepted = 0;
  let discarded = 0;
  let delayMs = 0;
  let blackholeNew = false;
  let closing: Promise<void> | undefined;
  let listener: net.Server | undefined;
  let port = 0;

  function discard(socket: net.Socket): void {
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
    });
    socket.resume();
  }

  function blackholePair(pair: Pair): void {
    if (pair.blackholed) return;
    pair.blackholed = true;
    for (const lane of pair.lanes) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.held.length = 0;
    }
    discard(pair.client);
    if (pair.upstream) discard(pair.upstream);
  }

  function destroyPair(pair: Pair, rst: boolean): void {
    for (const lane of pair.lanes) clearTimeout(lane.timer);
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket || socket.destroyed) continue;
      // resetAndDestroy() waits for 'connect' on a connecting socket; just drop those.
      if (rst && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  /** Forwards the FIN of `from` to `to` once nothing is held, unless the pair is blackholed. */
  function propagateEnd(pair: Pair, lane: Lane): void {
    if (pair.blackholed || lane.held.length > 0) return;
    if (!lane.to.destroyed && !lane.to.writableEnded) lane.to.end();
  }

  function flush(pair: Pair, lane: Lane): void {
    lane.timer = undefined;
    if (pair.blackholed) return;
    const now = Date.now();
    while (lane.held.length > 0 && lane.held[0]!.at <= now) {
      write(lane, lane.held.shift()!.chunk);
    }
    const next = lane.held[0];
    if (next) lane.timer = setTimeout(() => flush(pair, lane), Math.max(0, next.at - now));
    else if (lane.ended) propagateEnd(pair, lane);
  }

  function write(lane: Lane, chunk: Buffer): void {
    if (lane.to.destroyed) return;
    if (!lane.to.write(chunk) && !lane.draining) {
      lane.draining = true;
      lane.from.pause();
      lane.to.once('drain', () => {
        lane.draining = false;
        lane.from.resume();
      });
    }
  }

  function startLane(pair: Pair, from: net.Socket, to: net.Socket): void {
    const lane: Lane = { from, to, held: [], timer: undefined, ended: false, draining: false };
    pair.lanes.push(lane);
    from.on('data', (chunk: Buffer) => {
      if (pair.blackholed) return;
      if (delayMs === 0 && lane.held.length === 0) return write(lane, chunk);
      // Never earlier than the chunk before it, so a shorter delay cannot reorder bytes.
      const last = lane.held.at(-1);
      const at = Math.max(Date.now() + delayMs, last ? last.at : 0);
      lane.held.push({ chunk, at });
      if (!lane.timer) lane.timer = setTimeout(() => flush(pair, lane), at - Date.now());
    });
    from.on('end', () => {
      lane.ended = true;
      propagateEnd(pair, lane);
    });
  }

  function onConnection(client: net.Socket): void {
    accepted++;
    clients.add(client);
    const pair: Pair = { client, upstream: undefined, blackholed: false, lanes: [] };
    pairs.add(pair);
    client.setNoDelay(true);
    client.on('close', (hadError) => {
      clients.delete(client);
      if (!pair.upstream || pair.upstream.destroyed) pairs.delete(pair);
      if (hadError && !pair.blackholed && pair.upstream && !pair.upstream.destroyed) {
        destroyPair(pair, true);
      }
    });
    // Every socket always has an 'error' listener: errors surface as 'close' above, and a
    // blackholed pair must never crash the test process with an unhandled 'error'.
    client.on('error', () => {});

    if (blackholeNew) {
      blackholePair(pair);
      return;
    }

    connectUpstream(pair, []);
  }

  /** Connects `pair` to the target `route()` picks; asks again while targets refuse. */
  function connectUpstream(pair: Pair, failed: ProxyTarget[]): void {
    const { client } = pair;
    const target = route(client, failed);
    if (!target) {
      destroyPair(pair, true);
      return;
    }
    const upstream = net.connect({
      port: target.port,
      host: target.host ?? HOST,
      allowHalfOpen: true,
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    pair.upstream = upstream;
    let connected = false;
    upstream.setNoDelay(true);
    upstream.on('error', () => {});
    upstream.on('close', (hadError) => {
      if (connected) onClose?.(target, client);
      if (client.destroyed) pairs.delete(pair);
      if (pair.blackholed || client.destroyed) return;
      // Could not connect: the route may offer another target (the client is still paused).
      if (!connected) return connectUpstream(pair, [...failed, target]);
      // The server reset: the client gets an RST too.
      if (hadError) destroyPair(pair, true);
    });
    upstream.once('connect', () => {
      connected = true;
      onOpen?.(target, client);
      if (pair.blackholed) {
        discard(upstream);
        return;
      }
      startLane(pair, client, upstream);
      startLane(pair, upstream, client);
      client.resume();
    });
  }

  async function listen(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, onConnection);
    for (let attempt = 1; ; attempt++) {
      try {
        server.listen({ port, host: HOST, exclusive: true });
        await once(server, 'listening');
        break;
      } catch (error) {
        // The kernel may briefly hold the port after refuse(); retry a bounded number of times.
        const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!busy || port === 0 || attempt >= REBIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, REBIND_INTERVAL));
      }
    }
    port = (server.address() as net.AddressInfo).port;
    listener = server;
  }

  function stopListening(): Promise<void> {
    const server = listener;
    listener = undefined;
    if (!server) return Promise.resolve();
    // close() stops accepting at once; its callback would wait for every open connection,
    // which this server no longer tracks on our behalf, so it is not awaited here.
    server.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  await listen();

  const proxy: FaultProxy = {
    get port() {
      return port;
    },
    get url() {
      return `ws://${HOST}:${port}`;
    },
    get connections() {
      return clients.size;
    },
    get accepted() {
      return accepted;
    },
    get discarded() {
      return discarded;
    },
    blackhole(opts) {
      blackholeNew = opts?.newConnections === true;
      for (const pair of pairs) blackholePair(pair);
    },
    reset() {
      for (const pair of pairs) destroyPair(pair, true);
    },
    refuse() {
      return stopListening();
    },
    async accept() {
      if (closing) throw new Error('FaultProxy#accept: the proxy is closed');
      if (!listener) await listen();
    },
    delay(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new TypeError(`Expected \`ms\` to be a finite number >= 0, got ${ms}`);
      }
      delayMs = ms;
    },
    heal() {
      blackholeNew = false;
      delayMs = 0;
    },
    close() {
      closing ??= (async () => {
        const server = listener;
        listener = undefined;
        for (const pair of pairs) destroyPair(pair, false);
        const closed = server ? once(server, 'close') : undefined;
        server?.close();
        const sockets = [...pairs].flatMap((p) => [p.client, p.upstream]);
        await Promise.all(sockets.map((s) => (s && !s.closed ? once(s, 'close') : undefined)));
        await closed;
        pairs.clear();
        clients.clear();
      })();
      return closing;
    },
  };

  try {
    onTestFinished(() => proxy.close());
  } catch {
    // Not inside a test (a beforeAll hook or a bench script): the caller closes the proxy.
  }
  return proxy;
}
