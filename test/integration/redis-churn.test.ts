/**
 * The churn test across nodes (issue 10): three Heartline nodes on one Redis, two clients whose
 * links are reset every 50–300 ms behind a balancer that never sends a reconnect to the node of
 * the previous link, traffic both ways meanwhile. Nothing may be lost, duplicated or reordered,
 * and the run proves that resumes really crossed nodes.
 */
import { describe, expect, it } from 'vitest';
import { expectIntact, startTraffic } from '../support/cluster-traffic.js';
import { seededRandom } from '../support/random.js';
import { describeRedis } from '../support/redis.js';
import { REDIS_LIBRARIES } from '../support/redis-clients.js';
import { delay } from '../support/wait.js';

describeRedis('heartline/redis churn', (suite) => {
  describe.each(REDIS_LIBRARIES)('with %s', (library) => {
    it('loses, duplicates and reorders nothing while links are reset every 50–300 ms', async () => {
      const traffic = await startTraffic({ socketPath: suite.redis.socketPath, library });
      const random = seededRandom(library === 'ioredis' ? 11 : 7);
      traffic.start(100);
      let faults = 0;
      const until = Date.now() + 6_000;
      while (Date.now() < until) {
        // Time is the scenario: links live 50–300 ms before the next cut.
        await delay(50 + Math.floor(random() * 250));
        traffic.proxies[Math.floor(random() * traffic.proxies.length)]!.reset();
        faults++;
      }
      traffic.stop();
      await traffic.settle().catch(() => {});
      const count = traffic.count();
      console.info(
        `redis churn (${library}): ${faults} resets, ${count.crossNodeResumes} cross-node resumes, ` +
          `s→c ${count.serverToClient.sent} sent, c→s ${count.clientToServer.sent} sent, ` +
          `${JSON.stringify({ s2c: count.serverToClient, c2s: count.clientToServer })}`,
      );
      expect(count.crossNodeResumes).toBeGreaterThan(5);
      expect(count.resumedFalse).toBe(0);
      expectIntact(count);
    });
  });
});
