/**
 * heartline/redis under the failures of a cluster (docs/server.md, "Scaling out": the failure
 * table), each with traffic both ways through real server processes: a node killed (SIGKILL),
 * a node drained (`server.close()` in a rolling deploy), Redis restarted empty, Redis not
 * answering for two seconds, and the subscriber connection killed by Redis.
 */
import { describe, expect, it } from 'vitest';
import { expectIntact, startTraffic } from '../support/cluster-traffic.js';
import { describeRedis, startRedis } from '../support/redis.js';
import { REDIS_LIBRARIES } from '../support/redis-clients.js';
import { delay, waitFor } from '../support/wait.js';

describeRedis(
  'heartline/redis failures',
  () => {
    describe.each(REDIS_LIBRARIES)('with %s', (library) => {
      it('a node killed mid-traffic: its sessions resume elsewhere; nothing lost, repeats marked', async () => {
        const redis = await startRedis();
        const traffic = await startTraffic({ socketPath: redis.socketPath, library, clients: 3 });
        traffic.publishers = [0, 1]; // what a node accepted dies with it: node 2 only serves
        traffic.start(100);
        await delay(1_000); // traffic flows
        expect(traffic.sessionsOn(2)).toBeGreaterThan(0); // the crash takes sessions with it
        await traffic.cluster.nodes[2]!.kill('SIGKILL');
        traffic.balancer.setTargets(traffic.cluster.ports.slice(0, 2));
        await delay(1_500); // and goes on without it
        traffic.stop();
        await traffic.settle(20_000);
        const count = traffic.count();
        expect(count.resumedFalse).toBe(0);
        // Client → server across a crash: nothing lost; a repeat only if the app was told.
        expectIntact(count, { crashed: true });
      });

      it('a node drained with close(): its sessions resume on the others, not as new ones', async () => {
        const redis = await startRedis();
        const traffic = await startTraffic({ socketPath: redis.socketPath, library, clients: 3 });
        traffic.publishers = [0, 1];
        traffic.start(100);
        await delay(800);
        expect(traffic.sessionsOn(2)).toBeGreaterThan(0); // the drain hands sessions over
        const before = traffic.resumes.length;
        await traffic.cluster.nodes[2]!.kill('SIGTERM'); // server.close(): a rolling deploy
        traffic.balancer.setTargets(traffic.cluster.ports.slice(0, 2));
        await delay(1_000);
        traffic.stop();
        await traffic.settle(20_000);
        const count = traffic.count();
        expect(traffic.resumes.slice(before).every((e) => e.resumed)).toBe(true);
        expectIntact(count);
      });

      it('Redis restarted empty: sessions start afresh with reason epoch, broadcasts flow again', async () => {
        const redis = await startRedis();
        const traffic = await startTraffic({ socketPath: redis.socketPath, library });
        await redis.restart('SIGKILL'); // back on the same socket, with nothing in it
        // The cluster notices at its next append (the log's history is gone: a new epoch).
        await traffic.cluster.nodes[0]!.command({ type: 'publish', text: 'wake up' });
        const fresh = () => traffic.resumes.filter((e) => !e.resumed);
        await waitFor(() => traffic.clients.every((c) => fresh().some((e) => e.target === c)), {
          timeout: 15_000,
          message: 'every client to start a fresh session',
        });
        // Each node learns of the new epoch at its own next append: a client that started afresh
        // on a node that had not yet may be told so once more. Every refusal says why.
        expect(new Set(fresh().map((e) => e.reason))).toEqual(new Set(['epoch']));
        // New sessions work at once, both ways.
        const got = traffic.clients.map(() => [] as string[]);
        traffic.clients.forEach((c, i) => {
          c.addEventListener('message', (e) => got[i]!.push(String(e.data)));
        });
        await waitFor(
          async () => {
            await traffic.cluster.nodes[1]!.command({ type: 'publish', text: 'after' });
            return got.every((g) => g.includes('after'));
          },
          { timeout: 10_000, interval: 200, message: 'a broadcast to reach every client' },
        );
      });

      it('Redis not answering for two seconds: nothing lost either way once it answers again', async () => {
        const redis = await startRedis();
        const traffic = await startTraffic({ socketPath: redis.socketPath, library });
        traffic.start(100);
        await delay(500);
        redis.pause(); // SIGSTOP: connections stay open, nothing is answered
        await delay(2_000); // time is the scenario
        redis.resume();
        await delay(500);
        traffic.stop();
        await traffic.settle(20_000);
        const count = traffic.count();
        expect(count.resumedFalse).toBe(0);
        expectIntact(count);
      });

      it('the subscriber killed by Redis: every node repairs its gap from the log', async () => {
        const redis = await startRedis();
        const traffic = await startTraffic({ socketPath: redis.socketPath, library });
        traffic.start(100);
        await delay(500);
        await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await delay(800);
        traffic.stop();
        await traffic.settle(20_000);
        const count = traffic.count();
        expectIntact(count);
      });
    });
  },
  { shared: false },
);
