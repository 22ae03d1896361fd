/**
 * heartline/redis across real server processes: three nodes (test/support/cluster-redis.ts)
 * on one real redis-server, clients in this process, a round-robin balancer in front that
 * sends every reconnect of a client to another node, and a fault proxy per client to cut its
 * links.
 */
import { describe, expect, it } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { startBalancer } from '../support/balancer.js';
import { openClient } from '../support/client.js';
import { startCluster } from '../support/cluster.js';
import { freshId } from '../support/engine-contract.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { describeRedis } from '../support/redis.js';
import { REDIS_LIBRARIES } from '../support/redis-clients.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const FACTORY = 'test/support/cluster-redis.ts';
const fast = {
  reconnect: { minDelay: 5, maxDelay: 50 },
  heartbeat: { interval: 300, timeout: 300 },
};

interface Records {
  messages: [string, string, boolean][];
  connections: [string, boolean][];
  ends: [string, number][];
}

describeRedis(
  'heartline/redis cluster',
  (suite) => {
    describe.each(REDIS_LIBRARIES)('with %s', (library) => {
      async function cluster(nodes = 3) {
        const prefix = freshId('cluster');
        const c = await startCluster({
          nodes,
          factory: FACTORY,
          options: { socketPath: suite.redis.socketPath, prefix, library },
        });
        return c;
      }

      it('delivers a broadcast from any node to the members on every node, once, in one order', async () => {
        const c = await cluster();
        const sockets = c.nodes.flatMap((node) => [0, 1].map(() => openClient(node.url, fast)));
        await Promise.all(sockets.map((s) => waitForEvent(s, 'open')));
        const inboxes = sockets.map((s) => collect<MessageEvent>(s, 'message'));
        const texts = Array.from({ length: 60 }, (_, i) => `m${i}`);
        // From every node in turn, without waiting: the cluster decides one order.
        await Promise.all(
          texts.map((text, i) => c.nodes[i % 3]!.command({ type: 'publish', text })),
        );
        await waitFor(() => inboxes.every((inbox) => inbox.events.length >= 60), {
          message: 'every client to have 60 messages',
        });
        const orders = inboxes.map((inbox) => inbox.events.map((e) => String(e.data)));
        expect(new Set(orders[0]).size).toBe(60);
        for (const order of orders) expect(order).toEqual(orders[0]);
        expect([...orders[0]!].sort()).toEqual([...texts].sort());
      });

      it('resumes a session on another node: same id, connection there with resumed, nothing lost', async () => {
        const c = await cluster();
        const balancer = await startBalancer(c.ports, { mode: 'avoid-previous' });
        const proxy = await startFaultProxy({ port: balancer.port });
        const ws = openClient(proxy.url, fast);
        await waitForEvent(ws, 'open');
        const received = collect<MessageEvent>(ws, 'message');
        await c.nodes[0]!.command({ type: 'publish', text: 'before' });
        await waitFor(() => received.events.length === 1, { message: 'the first message' });
        ws.send('up 1');
        await waitForEvent(ws, 'ack');
        // Cut the link; meanwhile the cluster sends, and the client sends.
        await proxy.refuse();
        proxy.reset();
        await waitForEvent(ws, 'drop');
        // From one node, so that program order is the log's order (across nodes the log decides).
        for (let i = 0; i < 5; i++)
          await c.nodes[2]!.command({ type: 'publish', text: `gap ${i}` });
        ws.send('up 2');
        const resumed = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
        await proxy.accept();
        expect(await resumed).toMatchObject({ resumed: true });
        await waitFor(() => received.events.length === 6, { message: 'the replay' });
        expect(received.events.map((e) => e.data)).toEqual([
          'before',
          'gap 0',
          'gap 1',
          'gap 2',
          'gap 3',
          'gap 4',
        ]);
        const recordsOf = () =>
          Promise.all(c.nodes.map((n) => n.command<Records>({ type: 'records' })));
        const records: Records[] = await waitFor(
          async () => {
            const r = await recordsOf();
            return r.flatMap((x) => x.messages).length === 2 ? r : undefined;
          },
          { message: 'both client messages at the app' },
        );
        const connected = records.flatMap((r) => r.connections);
        expect(connected.map(([, r]) => r).sort()).toEqual([false, true]); // once new, once resumed
        expect(new Set(connected.map(([id]) => id)).size).toBe(1); // the same id on both nodes
        const handled = records.flatMap((r) => r.messages.map(([, text]) => text));
        expect(handled.sort()).toEqual(['up 1', 'up 2']);
        // The node it left ended its client object with 4000: the session lives on elsewhere.
        const ends = records.flatMap((r) => r.ends);
        expect(ends.map(([, code]) => code)).toEqual([4000]);
      });
    });
  },
  { timeout: 15_000 },
);
