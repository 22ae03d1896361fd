import { describe, expect, it } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { HeartlineEmitter, redisEngine } from '../../src/redis/index.js';
import { openClient } from '../support/client.js';
import { describeEngineContract, freshId } from '../support/engine-contract.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { describeRedis, startRedis } from '../support/redis.js';
import { connectRedis, REDIS_LIBRARIES } from '../support/redis-clients.js';
import { startHeartline } from '../support/server-fixtures.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

describeRedis('redisEngine', (suite) => {
  describe.each(REDIS_LIBRARIES)('with %s', (library) => {
    describeEngineContract(`redisEngine (${library})`, async () => {
      const { client } = await connectRedis(library, suite.redis);
      return redisEngine({ client, prefix: freshId('contract') });
    });
  });
});

describeRedis('heartline/redis in one process', (suite) => {
  describe.each(REDIS_LIBRARIES)('with %s', (library) => {
    async function server(prefix: string) {
      const { client } = await connectRedis(library, suite.redis);
      return startHeartline({ engine: redisEngine({ client, prefix }) });
    }

    it('publishes from a process without sockets (HeartlineEmitter), logged and resumable', async () => {
      const prefix = freshId('emitter');
      const { server: hl, port } = await server(prefix);
      hl.on('connection', (client) => client.join('news'));
      const proxy = await startFaultProxy({ port });
      const ws = openClient(proxy.url, { reconnect: { minDelay: 5, maxDelay: 20 } });
      await waitForEvent(ws, 'open');
      const received = collect<MessageEvent>(ws, 'message');
      const { client } = await connectRedis(library, suite.redis);
      const emitter = new HeartlineEmitter({ client, prefix });
      await emitter.to('news').send('live');
      await waitFor(() => received.events.length === 1, { message: 'the live message' });
      // While the client is away, the emitter's messages wait in the log for its resume.
      await proxy.refuse();
      proxy.reset();
      await waitForEvent(ws, 'drop');
      await emitter.to('news').send('missed 1');
      await emitter.broadcast('missed 2');
      await emitter.to('elsewhere').send('not for it');
      const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
      await proxy.accept();
      expect(await resumed).toMatchObject({ resumed: true });
      await waitFor(() => received.events.length === 3, { message: 'the replay' });
      expect(received.events.map((e) => e.data)).toEqual(['live', 'missed 1', 'missed 2']);
      await emitter.close();
    });

    it('starts every session afresh when the log lost a tail (its counter went back)', async () => {
      const prefix = freshId('tail');
      const { server: hl, url } = await server(prefix);
      const reported: Error[] = [];
      hl.on('error', (error) => reported.push(error));
      const ws = openClient(url, { reconnect: { minDelay: 5, maxDelay: 20 } });
      await waitForEvent(ws, 'open');
      const received = collect<MessageEvent>(ws, 'message');
      for (let i = 0; i < 5; i++) hl.broadcast(`m${i}`);
      await waitFor(() => received.events.length === 5);
      // What a failover to a replica that missed the last writes leaves: a counter below
      // offsets already delivered. Reusing them would make clients drop new messages.
      await suite.redis.command('HSET', `hl:{${prefix}}:meta`, 's', '2');
      const fresh = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 10_000 });
      hl.broadcast('noticed at this append'); // the append that finds the counter went back
      expect(await fresh).toMatchObject({ resumed: false, reason: 'epoch' });
      // The fresh session is told it may have missed things; from now on it misses nothing.
      hl.broadcast('in the new log');
      await waitFor(() => received.events.at(-1)?.data === 'in the new log', {
        message: 'a broadcast in the new log',
      });
      expect(reported.map((e) => e.message)).toEqual([
        expect.stringMatching(/^Sessions can no longer resume: the log started over/),
      ]);
    });

    it('replaces a subscriber that looks connected but hears nothing, and loses nothing', async () => {
      // Redis on TCP too, so that only the subscriber goes through a proxy that can go silent.
      const redis = await startRedis({ tcp: true });
      const proxy = await startFaultProxy({ port: redis.port! });
      const { client } = await connectRedis(library, redis);
      const { client: subscriber } = await connectRedis(library, { port: proxy.port });
      const { server: hl, url } = await startHeartline({
        engine: redisEngine({ client, subscriber, prefix: freshId('deaf'), probeInterval: 300 }),
      });
      const reported: Error[] = [];
      hl.on('error', (error) => reported.push(error));
      const ws = openClient(url);
      await waitForEvent(ws, 'open');
      const received = collect<MessageEvent>(ws, 'message');
      hl.broadcast('before');
      await waitFor(() => received.events.length === 1, { message: 'the first broadcast' });
      proxy.blackhole(); // the subscriber's connection stays up and carries nothing
      hl.broadcast('while deaf 1');
      hl.broadcast('while deaf 2');
      await waitFor(() => received.events.length === 3, {
        timeout: 5_000,
        message: 'the broadcasts the deaf subscriber missed',
      });
      expect(received.events.map((e) => e.data)).toEqual([
        'before',
        'while deaf 1',
        'while deaf 2',
      ]);
      expect(reported.map((e) => e.message)).toContainEqual(
        expect.stringMatching(/hears nothing though it looks connected/),
      );
    });

    it('returns false from send() once what waits for an unreachable Redis fills its bound', async () => {
      const { client } = await connectRedis(library, suite.redis);
      const { server: hl, url } = await startHeartline({
        engine: redisEngine({ client, prefix: freshId('bound'), maxPending: { messages: 5 } }),
      });
      const errors: Error[] = [];
      hl.on('error', (error) => errors.push(error));
      const ws = openClient(url);
      await waitForEvent(ws, 'open');
      const [target] = [...hl.clients.values()];
      await suite.redis.pause();
      try {
        const results = Array.from({ length: 8 }, (_, i) => target!.send(`m${i}`));
        // Five are held for Redis; the rest are refused, and the caller is told.
        expect(results.filter(Boolean).length).toBeLessThanOrEqual(5);
        expect(results.at(-1)).toBe(false);
      } finally {
        await suite.redis.resume();
      }
    });
  });
});
