/**
 * A server factory for cluster.ts (see its header): a HeartlineServer built from `src/` (a .ts
 * factory runs under tsx), listening on 127.0.0.1, with every client in room `'all'` and every
 * message echoed to its sender. The template of a Redis-backed node: pass
 * `engine: redisEngine({ client, prefix })` in `createServer` once `heartline/redis` exists.
 *
 * options: { server?: HeartlineServerOptions without port/host/server/noServer }
 * commands: { type: 'broadcast', text } → sends `text` to room 'all', resolves with the number of
 *                                         local clients
 *           { type: 'clients' }         → the number of local clients
 *
 * @example
 * const cluster = await startCluster({
 *   nodes: 2,
 *   factory: 'test/support/cluster-heartline.ts',
 *   options: { server: { resume: {} } },
 * });
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { HeartlineServer, type HeartlineServerOptions } from '../../src/server/index.js';

export interface HeartlineNodeOptions {
  server?: Omit<HeartlineServerOptions, 'port' | 'host' | 'server' | 'noServer'>;
}

type Command = { type: 'broadcast'; text: string } | { type: 'clients' };

export default async function heartlineNode(
  options: HeartlineNodeOptions = {},
  { port }: { index: number; port: number },
) {
  const server = new HeartlineServer({ ...options.server, port, host: '127.0.0.1' });
  server.on('connection', (client) => {
    client.join('all');
    client.on('message', (data) => client.send(data));
  });
  await once(server, 'listening');
  server.on('error', (error) => console.error(error));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => server.close({ deadline: 1_000 }),
    command(body: Command) {
      if (body.type === 'broadcast') server.to('all').send(body.text);
      return server.clients.size;
    },
  };
}
