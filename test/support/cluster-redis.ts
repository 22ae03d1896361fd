/**
 * A server factory for cluster.ts: one Heartline node of a Redis cluster, in a process of its
 * own, built from `src/` (it runs under tsx). Every client joins room `'all'` on each
 * connection (new or resumed; `rooms` names others, `[]` none); what clients send
 * is recorded with what the app learns of it (`redelivered`), and the test reads the records of
 * every node to check that each message reached the app exactly once.
 *
 * options: { socketPath, prefix, library?: 'node-redis' | 'ioredis', records?: file,
 *            auth?: true, rooms?: string[] (default ['all']), server?: HeartlineServerOptions }
 * With `auth`, `authenticate` takes the `user` query parameter as the identity `{ user }` (none:
 * 401). Clients' requests wait (`held`) until an `answer` command answers them.
 * With `records`, every message, connection and end is also appended to that file as one JSON
 * line, written synchronously: what a node saw survives its SIGKILL.
 * commands:
 *   { type: 'publish', text, room? }  → server.to(room ?? 'all').send(text); true if accepted
 *   { type: 'records' }               → { messages: [clientId, text, redelivered][],
 *                                         connections: [clientId, resumed][], ends: [clientId, code][],
 *                                         joins: [clientId, room][] (every join() the app made) }
 *   { type: 'join', room }            → the first local client joins `room`; its rooms after
 *   { type: 'rooms' }                 → [clientId, resumed, rooms][] of the local clients
 *   { type: 'clients' }               → the number of local clients
 *   { type: 'held' }                  → the texts of the clients' requests waiting here
 *   { type: 'answer' }                → answers each with `answer to <text>`; their number
 *   { type: 'ask', text, timeout? }   → client.request(text) to the first local client; its
 *                                       reply, or `error: <message>`
 */
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { redisEngine } from '../../src/redis/index.js';
import {
  HeartlineServer,
  type HeartlineServerOptions,
  type ServerClient,
} from '../../src/server/index.js';

export interface RedisNodeOptions {
  readonly socketPath: string;
  readonly prefix: string;
  readonly library?: 'node-redis' | 'ioredis';
  readonly records?: string;
  readonly auth?: boolean;
  readonly rooms?: readonly string[];
  readonly server?: Omit<
    HeartlineServerOptions,
    'port' | 'host' | 'server' | 'noServer' | 'engine'
  >;
}

type Command =
  | { type: 'publish'; text: string; room?: string }
  | { type: 'records' }
  | { type: 'clients' }
  | { type: 'join'; room: string }
  | { type: 'rooms' }
  | { type: 'held' }
  | { type: 'answer' }
  | { type: 'ask'; text: string; timeout?: number };

async function connect(options: RedisNodeOptions) {
  if (options.library === 'ioredis') {
    const client = new Redis({ path: options.socketPath, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    return { client, close: async () => void client.disconnect() };
  }
  const client = createClient({ url: `unix://${options.socketPath}` });
  client.on('error', () => {});
  await client.connect();
  return { client, close: () => client.close().catch(() => {}) };
}

export default async function redisNode(options: RedisNodeOptions, { port }: { port: number }) {
  const redis = await connect(options);
  const server = new HeartlineServer({
    heartbeat: { interval: 500, timeout: 500 },
    ...options.server,
    port,
    host: '127.0.0.1',
    engine: redisEngine({ client: redis.client, prefix: options.prefix }),
    ...(options.auth
      ? {
          authenticate: (request: IncomingMessage) => {
            const user = new URL(request.url ?? '/', 'http://x').searchParams.get('user');
            return user ? { user } : false;
          },
        }
      : {}),
  });
  const held: { text: string; respond: (reply: string) => void }[] = [];
  const messages: [string, string, boolean][] = [];
  const connections: [string, boolean][] = [];
  const ends: [string, number][] = [];
  const joins: [string, string][] = [];
  const join = (client: ServerClient, room: string) => {
    joins.push([client.id, room]);
    client.join(room);
  };
  const file = options.records;
  const note = (record: object) => {
    // A wall-clock time in µs shared by every process of the machine, to merge the nodes' files.
    const t = Math.round((performance.timeOrigin + performance.now()) * 1_000);
    if (file) appendFileSync(file, `${JSON.stringify({ ...record, t })}\n`);
  };
  server.on('connection', (client) => {
    connections.push([client.id, client.resumed]);
    note({ k: 'c', id: client.id, resumed: client.resumed });
    for (const room of options.rooms ?? ['all']) join(client, room);
    client.on('message', (data, _isBinary, info) => {
      messages.push([client.id, String(data), info.redelivered]);
      note({ k: 'm', id: client.id, text: String(data), r: info.redelivered });
    });
    client.on('request', (data, respond) => {
      held.push({ text: String(data), respond });
    });
    client.on('close', (code) => {
      ends.push([client.id, code]);
      note({ k: 'e', id: client.id, code });
    });
  });
  server.on('error', (error) => {
    if (error.name !== 'ClientViolationError') console.error(`node error: ${error.message}`);
  });
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await server.close({ deadline: 1_000, retryAfter: 200 });
      await redis.close();
    },
    async command(body: Command) {
      if (body.type === 'publish') return server.to(body.room ?? 'all').send(body.text) ?? true;
      if (body.type === 'records') return { messages, connections, ends, joins };
      if (body.type === 'join') {
        const client = [...server.clients.values()][0];
        if (!client) return 'error: no client here';
        join(client, body.room);
        return [...client.rooms];
      }
      if (body.type === 'rooms') {
        return [...server.clients.values()].map((c) => [c.id, c.resumed, [...c.rooms]]);
      }
      if (body.type === 'held') return held.map((h) => h.text);
      if (body.type === 'answer') {
        const all = held.splice(0);
        for (const h of all) h.respond(`answer to ${h.text}`);
        return all.length;
      }
      if (body.type === 'ask') {
        const client = [...server.clients.values()][0];
        if (!client) return 'error: no client here';
        return client
          .request(body.text, { timeout: body.timeout ?? 10_000 })
          .then(String, (error: Error) => `error: ${error.name}: ${error.message}`);
      }
      return server.clients.size;
    },
  };
}
