/**
 * Traffic through a Heartline Redis cluster, both ways, and the count of what arrived: the
 * shared part of the cluster churn and fault tests.
 *
 *   clients (HeartlineSocket) ── fault proxy each ── balancer ── nodes (cluster-redis.ts)
 *
 * The cluster publishes numbered messages to room `'all'` from its nodes in turn (server →
 * client); every client sends numbered messages of its own (client → server), and every node
 * appends what its app received to a records file, written synchronously, so that what a node
 * saw survives its SIGKILL. `settle()` waits until every accepted message has arrived, then
 * `count()` says, per direction, what was lost, duplicated, redelivered (marked) and out of
 * order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import type { HeartlineSocket, ResumeEvent } from '../../src/client/index.js';
import { type Balancer, startBalancer } from './balancer.js';
import { openClient } from './client.js';
import { type Cluster, startCluster } from './cluster.js';
import { freshId } from './engine-contract.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import type { RedisLibrary } from './redis-clients.js';
import { waitFor } from './wait.js';

export interface Traffic {
  readonly cluster: Cluster;
  readonly balancer: Balancer;
  readonly proxies: readonly FaultProxy[];
  readonly clients: readonly HeartlineSocket[];
  /** Every resume event of every client, in order. */
  readonly resumes: ResumeEvent[];
  /** Starts sending both ways: `rate` messages per second each way (cluster, and each client). */
  start(rate: number): void;
  stop(): void;
  /** Waits until everything accepted arrived (at most `timeout` ms). */
  settle(timeout?: number): Promise<void>;
  count(): TrafficCount;
  /** Sessions that started or resumed on node `index` so far. */
  sessionsOn(index: number): number;
  /** Nodes that may publish (a test that kills one takes it out first). */
  publishers: number[];
}

export interface DirectionCount {
  sent: number;
  lost: number;
  duplicated: number;
  /** Duplicates the app was told about (`info.redelivered`), client → server only. */
  redelivered: number;
  outOfOrder: number;
}

export interface TrafficCount {
  serverToClient: DirectionCount;
  clientToServer: DirectionCount;
  /** Connections that resumed a session on a node where it did not start. */
  crossNodeResumes: number;
  resumedFalse: number;
  /** Clients that closed for good (before the test's end), with their code and reason. */
  closes: string[];
}

/**
 * Asserts what a cluster promises: server → client nothing lost, duplicated or reordered;
 * client → server nothing lost or silently duplicated. With `crashed`, a node died holding
 * messages it had not acknowledged, so client → server may carry redeliveries (each marked,
 * so in any order); otherwise there are none and the order holds too.
 */
export function expectIntact(count: TrafficCount, { crashed = false } = {}): void {
  expect(count.closes, 'clients closed for good').toEqual([]);
  expect(count.serverToClient).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(count.clientToServer).toMatchObject(
    crashed
      ? { lost: 0, duplicated: 0 }
      : { lost: 0, duplicated: 0, redelivered: 0, outOfOrder: 0 },
  );
}

interface Record {
  k: 'm' | 'c' | 'e';
  id: string;
  text?: string;
  r?: boolean;
  resumed?: boolean;
  t: number;
}

export async function startTraffic(options: {
  socketPath: string;
  library: RedisLibrary;
  nodes?: number;
  clients?: number;
  server?: object;
  client?: object;
}): Promise<Traffic> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hl-traffic-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = freshId('traffic');
  const nodes = options.nodes ?? 3;
  const cluster = await startCluster({
    nodes,
    factory: 'test/support/cluster-redis.ts',
    options: (index: number) => ({
      socketPath: options.socketPath,
      prefix,
      library: options.library,
      records: path.join(dir, `node-${index}.jsonl`),
      server: options.server,
    }),
  });
  const balancer = await startBalancer(cluster.ports, { mode: 'avoid-previous' });
  const proxies: FaultProxy[] = [];
  const clients: HeartlineSocket[] = [];
  const received: string[][] = [];
  const resumes: ResumeEvent[] = [];
  const closes: string[] = [];
  const count = options.clients ?? 2;
  for (let i = 0; i < count; i++) {
    // Each client from its own loopback address, so the balancer tells them apart.
    const proxy = await startFaultProxy(
      { port: balancer.port },
      { localAddress: `127.0.0.${i + 2}` },
    );
    const socket = openClient(proxy.url, {
      reconnect: { minDelay: 5, maxDelay: 100 },
      heartbeat: { interval: 300, timeout: 300 },
      outbox: { maxMessages: 100_000, maxBytes: 16 << 20 },
      ...options.client,
    });
    const inbox: string[] = [];
    socket.addEventListener('message', (e) => inbox.push(String(e.data)));
    socket.addEventListener('resume', (e) => resumes.push(e));
    // A client closed for good during the traffic is a failure whatever the counts say.
    socket.addEventListener('close', (e) => closes.push(`client ${i}: ${e.code} ${e.reason}`));
    proxies.push(proxy);
    clients.push(socket);
    received.push(inbox);
  }
  await waitFor(() => clients.every((c) => c.readyState === 1), { message: 'every client open' });

  const recordsOf = (index: number): Record[] => {
    let text = '';
    try {
      text = readFileSync(path.join(dir, `node-${index}.jsonl`), 'utf8');
    } catch {}
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record);
  };
  let published = 0;
  const accepted: string[] = [];
  const sent = clients.map(() => 0);
  const timers: ReturnType<typeof setInterval>[] = [];
  const traffic: Traffic = {
    cluster,
    balancer,
    proxies,
    clients,
    resumes,
    publishers: cluster.nodes.map((_, i) => i),
    start(rate) {
      const every = Math.max(1, Math.round(1_000 / rate));
      timers.push(
        setInterval(() => {
          const list = traffic.publishers;
          const node = cluster.nodes[list[published % list.length]!]!;
          const text = `s${published++}`;
          node
            .command<boolean>({ type: 'publish', text })
            .then((ok) => ok !== false && accepted.push(text))
            .catch(() => {}); // a node killed meanwhile: never accepted
        }, every),
      );
      clients.forEach((socket, i) => {
        timers.push(
          setInterval(() => {
            if (socket.readyState < 2) socket.send(`c${i}-${sent[i]!++}`);
          }, every),
        );
      });
    },
    stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
    },
    async settle(timeout = 15_000) {
      for (const proxy of proxies) proxy.heal();
      await waitFor(
        () => {
          const c = traffic.count();
          return c.serverToClient.lost === 0 && c.clientToServer.lost === 0;
        },
        { timeout, interval: 100, message: 'every accepted message to arrive' },
      );
    },
    sessionsOn(index) {
      return recordsOf(index).filter((r) => r.k === 'c').length;
    },
    count() {
      const records: Record[] = cluster.nodes.flatMap((_, index) => recordsOf(index));
      records.sort((a, b) => a.t - b.t); // the nodes' files merged in the order things happened
      // Server → client: every accepted message once per client, in one order for all.
      const s2c: DirectionCount = {
        sent: accepted.length,
        lost: 0,
        duplicated: 0,
        redelivered: 0,
        outOfOrder: 0,
      };
      const reference = received[0] ?? [];
      for (const inbox of received) {
        const seen = new Set(inbox);
        s2c.duplicated += inbox.length - seen.size;
        s2c.lost += accepted.filter((t) => !seen.has(t)).length;
        const common = inbox.filter((t) => reference.includes(t));
        const ref = reference.filter((t) => seen.has(t));
        s2c.outOfOrder += common.filter((t, i) => t !== ref[i]).length;
      }
      // Client → server: the app saw each once, in order; a second sight only if marked.
      const c2s: DirectionCount = {
        sent: sent.reduce((a, b) => a + b, 0),
        lost: 0,
        duplicated: 0,
        redelivered: 0,
        outOfOrder: 0,
      };
      const messages = records.filter((r) => r.k === 'm');
      for (let i = 0; i < clients.length; i++) {
        const texts = messages.filter((m) => m.text!.startsWith(`c${i}-`));
        const numbers = texts.map((m) => Number(m.text!.split('-')[1]));
        const firstSeen = new Set<number>();
        for (const [j, n] of numbers.entries()) {
          if (firstSeen.has(n)) {
            if (texts[j]!.r) c2s.redelivered++;
            else c2s.duplicated++;
          }
          firstSeen.add(n);
        }
        for (let n = 0; n < sent[i]!; n++) if (!firstSeen.has(n)) c2s.lost++;
        const unique = numbers.filter((n, j) => numbers.indexOf(n) === j);
        c2s.outOfOrder += unique.filter((n, j) => j > 0 && n < unique[j - 1]!).length;
      }
      const started = new Map<string, number>();
      let crossNodeResumes = 0;
      records.forEach((r) => {
        if (r.k !== 'c') return;
        if (r.resumed) crossNodeResumes++;
        else started.set(r.id, 1);
      });
      return {
        serverToClient: s2c,
        clientToServer: c2s,
        crossNodeResumes,
        resumedFalse: resumes.filter((e) => !e.resumed).length,
        closes: [...closes],
      };
    },
  };
  onTestFinished(() => traffic.stop());
  return traffic;
}
