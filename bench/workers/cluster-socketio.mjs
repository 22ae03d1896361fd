// A server factory (test/support/cluster.ts) for the cluster scenario: one socket.io node on
// Redis, with `@socket.io/redis-adapter` (pub/sub) or `@socket.io/redis-streams-adapter`, and
// node-redis clients, as their READMEs set them up. Plain JavaScript, run by plain `node`.
//
// options: { redisUrl, prefix,            every key and channel of this run starts with prefix
//            adapter: 'pubsub' | 'streams',
//            maxLen,                       streams: the stream's MAXLEN (its default: 10,000)
//            recovery = false }            socket.io connection state recovery (streams only:
//                                          the pub/sub adapter cannot persist packets)
// commands: burst / paced (cluster-broadcaster.mjs) → io.emit('b', text) to every client of the
//           cluster; { type: 'clients' } → local clients; { type: 'failures' } → publishes
//           (PUBLISH, XADD) rejected by node-redis since start, by error name; { type: 'drain' }
//           → resolves once Redis has answered everything queued on the publisher
import { once } from 'node:events';
import http from 'node:http';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { broadcastCommand } from './cluster-broadcaster.mjs';

export default async function socketioNode(options, { port }) {
  const { redisUrl, prefix, adapter, maxLen, recovery = false } = options;
  const clients = [];
  const connect = async (client) => {
    // A Redis outage is part of the scenario: errors are expected, and node-redis reconnects.
    client.on('error', () => {});
    await client.connect();
    clients.push(client);
    return client;
  };
  const pub = await connect(createClient({ url: redisUrl }));
  // Both adapters catch a failed publish and only log it (debug), so count them here: with
  // node-redis >= 5 a command still unanswered after 5 s (its default timeout) is rejected.
  const failures = countFailures(pub, ['publish', 'xAdd']);
  let adapterFactory;
  if (adapter === 'pubsub') {
    const sub = await connect(pub.duplicate());
    adapterFactory = createPubSubAdapter(pub, sub, { key: prefix });
  } else if (adapter === 'streams') {
    adapterFactory = createStreamsAdapter(pub, {
      streamName: prefix,
      channelPrefix: prefix,
      sessionKeyPrefix: `${prefix}:session:`,
      ...(maxLen === undefined ? {} : { maxLen }),
    });
  } else {
    throw new Error(`unknown adapter ${adapter}`);
  }
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    transports: ['websocket'],
    adapter: adapterFactory,
    ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } } : {}),
  });
  httpServer.listen(port, '127.0.0.1');
  await once(httpServer, 'listening');
  const broadcast = (text) => io.emit('b', text);
  return {
    port: httpServer.address().port,
    async close() {
      // io.close() disconnects every client ("server shutting down", recoverable) and the
      // engine; clients reconnect by themselves.
      await new Promise((resolve) => io.close(() => resolve()));
      await Promise.allSettled(clients.map((c) => c.close()));
    },
    async command(body) {
      if (body.type === 'clients') return io.engine.clientsCount;
      if (body.type === 'failures') return { ...failures };
      // Resolves once Redis has answered every command queued on the publisher before it.
      if (body.type === 'drain') return pub.ping();
      const done = await broadcastCommand(broadcast, body);
      if (done === undefined) throw new Error(`unknown command ${body.type}`);
      return done;
    },
  };
}

/** Wraps `methods` of a node-redis client to count their rejections, by error name. */
function countFailures(client, methods) {
  const counts = {};
  for (const name of methods) {
    const original = client[name].bind(client);
    client[name] = (...args) =>
      original(...args).catch((error) => {
        const key = error?.constructor?.name ?? 'Error';
        counts[key] = (counts[key] ?? 0) + 1;
        throw error;
      });
  }
  return counts;
}
