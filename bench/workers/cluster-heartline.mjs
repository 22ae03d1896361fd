// A server factory (test/support/cluster.ts) for the cluster scenario: one HeartlineServer on
// `heartline/redis`, from bench/.build (the compiled package), with a node-redis client, as
// docs/server.md "Scaling out" sets it up. Plain JavaScript, run by plain `node`.
//
// options: { redisUrl, prefix, maxPending? }   every key and channel starts with hl:{prefix}:
// commands: burst / paced (cluster-broadcaster.mjs) → server.broadcast(text) to every client of
//           the cluster; { type: 'clients' } → local clients; { type: 'failures' } → broadcasts
//           the engine did not accept; { type: 'drain' } → resolves once Redis has everything
import { once } from 'node:events';
import { createClient } from 'redis';
import { redisEngine } from '../.build/redis/index.js';
import { HeartlineServer } from '../.build/server/index.js';
import { broadcastCommand } from './cluster-broadcaster.mjs';

export default async function heartlineNode(options, { port }) {
  const { redisUrl, prefix, maxPending } = options;
  const redis = createClient({ url: redisUrl });
  // A Redis outage is part of the scenario: errors are expected, and node-redis reconnects.
  redis.on('error', () => {});
  await redis.connect();
  const server = new HeartlineServer({
    port,
    host: '127.0.0.1',
    engine: redisEngine({ client: redis, prefix, ...(maxPending ? { maxPending } : {}) }),
    // At shutdown clients get 1012 with a retry hint spread over this window (5 s by default,
    // to spread thousands); 10 clients need no more than a second, and the phase waits 2–3 s.
    shutdown: { retryAfter: 1_000 },
  });
  server.on('error', () => {}); // Redis failures are reported here; the scenario counts loss
  await once(server, 'listening');
  const failures = { notAccepted: 0 };
  const broadcast = (text) => {
    if (server.broadcast(text) === false) failures.notAccepted++;
  };
  return {
    port: server.address().port,
    async close() {
      await server.close({ deadline: 2_000 });
      await redis.close().catch(() => {});
    },
    async command(body) {
      if (body.type === 'clients') return server.clients.size;
      if (body.type === 'failures') return { ...failures };
      if (body.type === 'drain') return redis.ping();
      const done = await broadcastCommand(broadcast, body);
      if (done === undefined) throw new Error(`unknown command ${body.type}`);
      return done;
    },
  };
}
