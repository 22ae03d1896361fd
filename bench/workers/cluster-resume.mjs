// Resume latency across nodes (bench/scenarios/cluster.ts, table (e)): two HeartlineServers on
// one Redis in this process, a raw heartline.v1 client. Each trial opens a session on node 0,
// joins a room, drops the link, has `missed` messages published to the room (HeartlineEmitter:
// they are in Redis when it resolves), then resumes on node 1 and times from the `connect`
// frame to the last replayed message.
//
//   fork('cluster-resume.mjs', [JSON.stringify({ redisUrl, prefix, trials, missed })])
//   → { type: 'result', times: number[] }   ms per trial
import { once } from 'node:events';
import { createClient } from 'redis';
import { WebSocket } from 'ws';
import { HeartlineEmitter, redisEngine } from '../.build/redis/index.js';
import { HeartlineServer } from '../.build/server/index.js';
import { clock, exitWithParent, tell } from './lib.mjs';

const { redisUrl, prefix, trials, missed } = JSON.parse(process.argv[2]);
exitWithParent();

async function node() {
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => {});
  await redis.connect();
  const server = new HeartlineServer({
    port: 0,
    host: '127.0.0.1',
    engine: redisEngine({ client: redis, prefix }),
  });
  server.on('connection', (client) => client.join('room'));
  server.on('error', () => {});
  await once(server, 'listening');
  return { server, redis, url: `ws://127.0.0.1:${server.address().port}` };
}

/** Opens a heartline.v1 link, sends `connect`, and resolves with the socket and its hello. */
async function link(url, connect, onFrame) {
  const ws = new WebSocket(url, ['heartline.plain', 'heartline.v1']);
  ws.on('error', () => {});
  await once(ws, 'open');
  const hello = new Promise((resolve) => {
    ws.on('message', (data, binary) => {
      const text = binary ? data : data.toString();
      if (typeof text === 'string' && text.startsWith('{"t":"hello"')) resolve(JSON.parse(text));
      else onFrame?.(text);
    });
  });
  const sent = clock();
  ws.send(JSON.stringify({ t: 'connect', v: 1, ...connect }));
  return { ws, hello: await hello, sent };
}

const a = await node();
const b = await node();
const redis = createClient({ url: redisUrl });
redis.on('error', () => {});
await redis.connect();
const emitter = new HeartlineEmitter({ client: redis, prefix });
const times = [];
for (let i = 0; i < trials; i++) {
  const first = await link(a.url, {});
  const { sid, token, epoch, offset } = first.hello;
  first.ws.terminate();
  await once(first.ws, 'close');
  for (let m = 0; m < missed; m++) await emitter.to('room').send(`missed ${m}`);
  let replayed = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  const second = await link(b.url, { sid, token, epoch, offset }, (frame) => {
    if (typeof frame === 'string' && frame.startsWith('m') && ++replayed === missed) done(clock());
  });
  if (!second.hello.resumed) throw new Error(`trial ${i}: not resumed (${second.hello.reason})`);
  times.push((await all) - second.sent);
  second.ws.close();
}
await emitter.close();
await Promise.all([a.server.close({ deadline: 500 }), b.server.close({ deadline: 500 })]);
await Promise.all([a.redis.close(), b.redis.close(), redis.close()]);
tell({ type: 'result', times });
process.exit(0);
