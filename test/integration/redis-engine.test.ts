import { createClient } from 'redis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { HeartlineEmitter, redisEngine } from '../../src/redis/index.js';
import { EngineError } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import {
  describeEngineContract,
  freshId,
  RecordingHost,
  SETTINGS,
} from '../support/engine-contract.js';
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

describeRedis('redisEngine hand-overs between nodes', (suite) => {
  describe.each(REDIS_LIBRARIES)('with %s', (library) => {
    async function node(prefix: string) {
      const { client } = await connectRedis(library, suite.redis);
      const engine = redisEngine({ client, prefix });
      const host = new RecordingHost();
      engine.attach(host, SETTINGS);
      await engine.ready();
      onTestFinished(() => engine.close());
      /** Resolves once every command the engine sent so far has run (one connection, in order). */
      const barrier = () => (client as { ping(): Promise<unknown> }).ping();
      return { engine, host, barrier };
    }

    /** A node that does not exist but looks alive: its control channel is the test's. */
    async function ghostOwner(prefix: string, id: string, nodes: readonly string[]) {
      await suite.redis.command('HSET', `hl:{${prefix}}:s:${id}`, 'o', 'ghost');
      await suite.redis.command('SET', `hl:{${prefix}}:n:ghost`, '1', 'PX', '60000');
      const listener = createClient({ url: suite.redis.url });
      listener.on('error', () => {});
      await listener.connect();
      onTestFinished(() => listener.destroy());
      const heard: string[] = [];
      for (const n of ['ghost', ...nodes]) {
        await listener.sSubscribe(`hl:{${prefix}}:ctl:${n}`, (m) => heard.push(`${n} ${m}`));
      }
      return heard;
    }

    it('passes on what a resume under way learns when another node claims the session meanwhile', async () => {
      const prefix = freshId('race');
      const [first, b, a] = [await node(prefix), await node(prefix), await node(prefix)];
      const id = freshId('s');
      const token = `token-${id}`;
      first.engine.createSession({ id, token, protocol: '' });
      // The session's owner is a node that handled 7 messages, persisted none, and answers late.
      const heard = await ghostOwner(prefix, id, [b.engine.node, a.engine.node]);
      const request = { id, token, epoch: b.engine.epoch, offset: b.engine.position };
      const viaB = b.engine.resume(request);
      await waitFor(() => heard.includes(`ghost T ${id} ${b.engine.node}`), {
        message: 'node b to ask the owner',
      });
      // The client moves on to node a before the owner answered b.
      const viaA = a.engine.resume(request);
      await waitFor(() => heard.includes(`${b.engine.node} T ${id} ${a.engine.node}`), {
        message: 'node a to ask node b',
      });
      await suite.redis.command('SPUBLISH', `hl:{${prefix}}:ctl:${b.engine.node}`, `R ${id} 7`);
      const resumed = await viaA;
      expect(resumed).toMatchObject({ ok: true, lastSeq: 7, clean: true });
      if (resumed.ok) resumed.replay.close();
      expect(await viaB).toEqual({ ok: false, reason: 'unknown' }); // stale: the client left it
    });

    it('ends only a session it still owns: a node that lost one cannot delete it elsewhere', async () => {
      const prefix = freshId('fence');
      const first = await node(prefix);
      const id = freshId('s');
      first.engine.createSession({ id, token: `token-${id}`, protocol: '' });
      const key = `hl:{${prefix}}:s:${id}`;
      await waitFor(async () => (await suite.redis.command('EXISTS', key)) === 1);
      // Another node took it over, and `first` never heard (its control message was lost).
      await suite.redis.command('HSET', key, 'o', 'elsewhere');
      await suite.redis.command('HINCRBY', key, 'g', '1');
      first.engine.end(id, 'expired');
      await first.barrier();
      expect(await suite.redis.command('EXISTS', key)).toBe(1);
      expect(await suite.redis.command('EXISTS', `hl:{${prefix}}:x:${id}`)).toBe(0);
    });

    it('answers a hand-over of a session it does not have with "cannot say": the new owner marks', async () => {
      const prefix = freshId('unknown');
      const [first, a] = [await node(prefix), await node(prefix)];
      const id = freshId('s');
      const token = `token-${id}`;
      first.engine.createSession({ id, token, protocol: '' });
      // The Redis record says `first` owns it, but `first` has no client for it (its host
      // knows no such id): it cannot say what was handled.
      await waitFor(
        async () => (await suite.redis.command('EXISTS', `hl:{${prefix}}:s:${id}`)) === 1,
        { message: 'the session in Redis' },
      );
      const resumed = await a.engine.resume({ id, token, epoch: a.engine.epoch, offset: 0 });
      expect(resumed).toMatchObject({ ok: true, clean: false });
      if (resumed.ok) resumed.replay.close();
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

    it('returns false from send() and reports an EngineError once what waits for an unreachable Redis fills its bound', async () => {
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
        // The refusal is reported once, when it begins, not once per refused message. Other
        // reports (a probe of the paused subscriber) may come too; only this one is asserted.
        const refusals = errors.filter(
          (e) => e instanceof EngineError && /refusing more until it does/.test(e.message),
        );
        expect(refusals).toHaveLength(1);
        expect(refusals[0]).toMatchObject({ name: 'EngineError', code: 'HL_ERR_ENGINE' });
        expect(refusals[0]!.message).toMatch(
          /^Redis has not taken the \d+ message\(s\) \(\d+ bytes\) held for it; refusing more until it does \(maxPending: 5 messages, \d+ bytes\)$/,
        );
      } finally {
        await suite.redis.resume();
      }
    });
  });
});
