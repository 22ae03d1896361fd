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
  joins: [string, string][];
}

describeRedis(
  'heartline/redis cluster',
  (suite) => {
    describe.each(REDIS_LIBRARIES)('with %s', (library) => {
      async function cluster(nodes = 3, extra: { auth?: boolean; rooms?: string[] } = {}) {
        const prefix = freshId('cluster');
        const c = await startCluster({
          nodes,
          factory: FACTORY,
          options: { socketPath: suite.redis.socketPath, prefix, library, ...extra },
        });
        return c;
      }

      /** The index of the node whose local clients include the one client of the test. */
      async function nodeWithClient(c: Awaited<ReturnType<typeof cluster>>): Promise<number> {
        const found = await waitFor(
          async () => {
            const counts = await Promise.all(
              c.nodes.map((n) => n.command<number>({ type: 'clients' })),
            );
            const i = counts.findIndex((n) => n > 0);
            return i >= 0 && counts.filter((n) => n > 0).length === 1 ? { i } : undefined;
          },
          { message: 'the client on exactly one node' },
        );
        return found.i;
      }

      /**
       * A session client behind a fault proxy and a balancer that never picks the node of its
       * last link, open on node `a` of two (the other is `b`): a reset moves it to `b`.
       */
      async function movingClient(c: Awaited<ReturnType<typeof cluster>>) {
        const balancer = await startBalancer(c.ports, { mode: 'avoid-previous' });
        const proxy = await startFaultProxy({ port: balancer.port });
        const ws = openClient(proxy.url, fast);
        await waitForEvent(ws, 'open');
        const a = await nodeWithClient(c);
        return { proxy, ws, a, b: 1 - a };
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

      it('keeps a room joined on one node when the session resumes on another, with no join there', async () => {
        // No room joined by the app on connection: only the join below, on node a, puts the
        // session in a room.
        const c = await cluster(2, { rooms: [] });
        const { proxy, ws, a, b } = await movingClient(c);
        const room = 'joined-on-a';
        expect(await c.nodes[a]!.command({ type: 'join', room })).toEqual([room]);
        const received = collect<MessageEvent>(ws, 'message');
        const moved = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
        proxy.reset();
        expect(await moved).toMatchObject({ resumed: true });
        expect(await nodeWithClient(c)).toBe(b);
        const onB = await c.nodes[b]!.command<[string, boolean, string[]][]>({ type: 'rooms' });
        expect(onB).toEqual([[expect.any(String), true, [room]]]); // resumed, in the room
        const [id] = onB[0]!;
        const records = await Promise.all(
          c.nodes.map((n) => n.command<Records>({ type: 'records' })),
        );
        expect(records[a]!.joins).toEqual([[id, room]]);
        expect(records[b]!.joins).toEqual([]); // the app on b never joined it
        // From either node, to the room: each reaches the session on b once. The last one,
        // sent after the others arrived, comes after them in the log and on the link, so a
        // repeat of either would be in the list by then.
        for (const [node, text] of [
          [a, 'from a'],
          [b, 'from b'],
          [a, 'last'],
        ] as const) {
          expect(await c.nodes[node]!.command({ type: 'publish', text, room })).toBe(true);
          await waitFor(() => received.events.some((e) => e.data === text), {
            message: `'${text}' at the client`,
          });
        }
        expect(received.events.map((e) => e.data)).toEqual(['from a', 'from b', 'last']);
      });

      it('authenticates on every node: another node resumes the same identity, and refuses another with 3003', async () => {
        const c = await cluster(2, { auth: true });
        const balancer = await startBalancer(c.ports, { mode: 'avoid-previous' });
        const proxy = await startFaultProxy({ port: balancer.port });
        let user = 'alice';
        const ws = openClient(() => `${proxy.url}/?user=${user}`, fast);
        await waitForEvent(ws, 'open');
        const first = await nodeWithClient(c);
        const resumed = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
        proxy.reset();
        expect(await resumed).toMatchObject({ resumed: true });
        expect(await nodeWithClient(c)).toBe(1 - first); // the other node, same identity
        user = 'eve'; // the session's token, with someone else's credentials
        const closed = waitForEvent<{ code: number }>(ws, 'close', { timeout: 10_000 });
        proxy.reset();
        expect((await closed).code).toBe(3003);
        const records = await Promise.all(
          c.nodes.map((n) => n.command<Records>({ type: 'records' })),
        );
        const connected = records.flatMap((r) => r.connections);
        // One new session, one resume; none for eve.
        expect(connected.map(([, r]) => r).sort()).toEqual([false, true]);
        // Without credentials: refused before the upgrade (4401 in Node), on any node.
        user = '';
        const refused = openClient(() => `${balancer.url}/?user=`, fast);
        expect((await waitForEvent<{ code: number }>(refused, 'close')).code).toBe(4401);
      });

      it("delivers a request's answer across nodes both ways, once", async () => {
        const c = await cluster(2);
        const { proxy, ws, a, b } = await movingClient(c);
        // Client → server: the handler on node a answers after the client moved to node b.
        const reply = ws.request('job 1');
        await waitFor(
          async () => (await c.nodes[a]!.command<string[]>({ type: 'held' })).length === 1,
          { message: 'the request to wait on its node' },
        );
        const moved = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
        proxy.reset();
        expect(await moved).toMatchObject({ resumed: true });
        expect(await nodeWithClient(c)).toBe(b);
        expect(await c.nodes[a]!.command({ type: 'answer' })).toBe(1);
        expect(await reply).toBe('answer to job 1');
        // Server → client: node b asks; the client moves back to node a before it answers, and
        // its answer is forwarded from node a to node b.
        let answer!: (text: string) => void;
        ws.addEventListener('request', (e) =>
          e.respondWith(new Promise<string>((resolve) => (answer = resolve))),
        );
        const asked = c.nodes[b]!.command<string>({ type: 'ask', text: 'draft?' });
        await waitFor(() => answer !== undefined, { message: 'the server request at the client' });
        const back = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
        proxy.reset();
        expect(await back).toMatchObject({ resumed: true });
        expect(await nodeWithClient(c)).toBe(a);
        answer('half a sentence');
        expect(await asked).toBe('half a sentence');
        expect(await c.nodes[a]!.command<string[]>({ type: 'held' })).toEqual([]);
        expect(await c.nodes[b]!.command<string[]>({ type: 'held' })).toEqual([]);
      });
    });
  },
  { timeout: 20_000 },
);
