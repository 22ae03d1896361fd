/**
 * A TCP load balancer for tests: one port in front of several servers (the nodes of a cluster),
 * choosing a node for each new TCP connection, with no stickiness, the way nginx's `upstream`
 * with round-robin or HAProxy in TCP mode spreads WebSocket clients. After the choice it only
 * copies bytes: every WebSocket link lives on the node its connection was given, and a
 * reconnect is a new connection, free to land anywhere.
 *
 *   clients ──TCP── balancer (127.0.0.1:port) ──┬── node 1 (target port)
 *                                               ├── node 2
 *                                               └── node 3
 *
 * It is a fault proxy (`fault-proxy.ts`, `startRoutedProxy()`) whose route picks a target per
 * connection, so the byte copying, half-close, RST propagation and backpressure are that
 * proxy's, tested there.
 *
 * Modes:
 * - `'round-robin'` (default) — each new connection goes to the next target in turn.
 * - `'avoid-previous'` — each new connection goes to a target other than the one the previous
 *   connection *of the same client* went to, so every reconnect of a client lands on another
 *   node. TCP cannot name a client; the balancer recognises one by the remote address of its
 *   connections (`clientKey`). Connections from one address (every client on 127.0.0.1) count
 *   as one client: then each connection avoids the target of the connection before it. To
 *   tell several clients apart, give each one its own fault proxy bound to its own loopback
 *   address (`startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.2' })`): the
 *   usual topology, client → fault proxy → balancer → nodes. A client's previous target is
 *   never tried while there is another one, even if all the others refuse (the client gets an
 *   RST and tries again); with a single target there is no other choice, and it is used.
 *
 * A target that refuses the connection (a node that is down) is skipped and the next one is
 * tried, as nginx does with `proxy_next_upstream error`; the client's bytes wait meanwhile.
 * When every target refuses, the client gets an RST. `failover: false` turns this off (a refused
 * connection is reset at once). `setTargets()` replaces the list, e.g. to drop a node that was
 * killed; current connections are not touched.
 *
 * `startBalancer()` registers `close()` with Vitest's `onTestFinished` when called inside a
 * test; elsewhere the caller closes it. Only loopback.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3, factory });
 * const balancer = await startBalancer(cluster.ports, { mode: 'avoid-previous' });
 * const proxy = await startFaultProxy({ port: balancer.port }); // per client
 * const socket = openClient(proxy.url);
 * proxy.reset(); // the client reconnects, through the balancer, to another node
 */
import type net from 'node:net';
import { onTestFinished } from 'vitest';
import { type ProxyTarget, startRoutedProxy } from './fault-proxy.js';

export type BalancerMode = 'round-robin' | 'avoid-previous';

export interface BalancerOptions {
  /**
   * How a target is picked for a new connection (see the header).
   * @default 'round-robin'
   */
  mode?: BalancerMode;
  /**
   * Tries the next target when one refuses, as nginx's `proxy_next_upstream error`.
   * @default true
   */
  failover?: boolean;
  /**
   * Recognises a client for `'avoid-previous'`.
   * @default (socket) => socket.remoteAddress
   */
  clientKey?: (socket: net.Socket) => string;
}

export interface Balancer {
  /** The port the balancer listens on. */
  readonly port: number;
  /** `ws://127.0.0.1:${port}` */
  readonly url: string;
  /** The ports new connections are spread over, in order. */
  readonly targets: readonly number[];
  /** Client connections currently held, whether or not their upstream is connected yet. */
  readonly connections: number;
  /** Connections given to each target since start (counted once connected), by port. */
  readonly counts: ReadonlyMap<number, number>;
  /** Connections currently open to each target, by port. */
  readonly live: ReadonlyMap<number, number>;
  /** Replaces the targets of new connections; current connections stay where they are. */
  setTargets(ports: readonly number[]): void;
  /** Destroys every current connection with a TCP RST on both sides (a balancer restart). */
  reset(): void;
  /** Destroys everything; resolves when fully closed. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

function checkPorts(ports: readonly number[]): number[] {
  if (ports.length === 0 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65_536)) {
    throw new TypeError(
      `Expected \`ports\` to be a non-empty list of TCP ports, got ${JSON.stringify(ports)}`,
    );
  }
  return [...ports];
}

/**
 * Starts a balancer on 127.0.0.1 (port 0) in front of `ports` (servers on 127.0.0.1).
 *
 * @example
 * const balancer = await startBalancer([a.port, b.port], { mode: 'avoid-previous' });
 */
export async function startBalancer(
  ports: readonly number[],
  options: BalancerOptions = {},
): Promise<Balancer> {
  const {
    mode = 'round-robin',
    failover = true,
    clientKey = (socket) => socket.remoteAddress ?? '',
  } = options;
  if (mode !== 'round-robin' && mode !== 'avoid-previous') {
    throw new TypeError(
      `Expected \`mode\` to be 'round-robin' or 'avoid-previous', got ${String(mode)}`,
    );
  }
  let targets = checkPorts(ports);
  /** Index into `targets` of the next round-robin pick. */
  let cursor = 0;
  /** 'avoid-previous': the target each client's latest connection went to. */
  const previous = new Map<string, number>();
  const counts = new Map<number, number>();
  const live = new Map<number, number>();

  /**
   * The targets a new connection may try, in order: all of them from the cursor on, less the
   * client's previous target in 'avoid-previous' mode (unless it is the only one).
   */
  function plan(client: net.Socket): number[] {
    const start = cursor % targets.length;
    cursor = (start + 1) % targets.length;
    let ordered = [...targets.slice(start), ...targets.slice(0, start)];
    if (mode === 'avoid-previous' && targets.length > 1) {
      const avoid = previous.get(clientKey(client));
      ordered = ordered.filter((p) => p !== avoid);
    }
    return failover ? ordered : ordered.slice(0, 1);
  }

  /** Each connection's plan, fixed at its first route() call. */
  const plans = new WeakMap<net.Socket, number[]>();

  function route(client: net.Socket, failed: readonly ProxyTarget[]): ProxyTarget | undefined {
    let tries = plans.get(client);
    if (!tries) {
      tries = plan(client);
      plans.set(client, tries);
    }
    const port = tries[failed.length];
    return port === undefined ? undefined : { port, host: HOST };
  }

  const add = (map: Map<number, number>, port: number, n: number) =>
    map.set(port, (map.get(port) ?? 0) + n);

  const proxy = await startRoutedProxy({
    route,
    onOpen(target, client) {
      add(counts, target.port, 1);
      add(live, target.port, 1);
      if (mode === 'avoid-previous') previous.set(clientKey(client), target.port);
    },
    onClose(target) {
      add(live, target.port, -1);
    },
  });

  const balancer: Balancer = {
    get port() {
      return proxy.port;
    },
    get url() {
      return proxy.url;
    },
    get targets() {
      return targets;
    },
    get connections() {
      return proxy.connections;
    },
    counts,
    live,
    setTargets(next) {
      targets = checkPorts(next);
      cursor = 0;
    },
    reset() {
      proxy.reset();
    },
    close() {
      return proxy.close();
    },
  };

  try {
    onTestFinished(() => balancer.close());
  } catch {
    // Not inside a test (a beforeAll hook or a bench script): the caller closes the balancer.
  }
  return balancer;
}
