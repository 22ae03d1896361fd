// One server process for bench/server-memory.ts: a raw `ws` server or a HeartlineServer with
// default options (compression off in both), idle, measured on request after a full GC. Plain
// JavaScript run by plain `node`, importing the shipped build (run `npm run build` first), so
// that what is measured is what users run and not a TypeScript loader's output.
//
//   fork('bench/server-memory-host.mjs', ['ws' | 'heartline'])
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocketServer } from 'ws';
import { HeartlineServer } from '../dist/server/index.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const kind = process.argv[2];
let port;
let count;
if (kind === 'ws') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  port = wss.address().port;
  count = () => wss.clients.size;
} else {
  const server = new HeartlineServer({ port: 0, host: '127.0.0.1', allowMissingOrigin: true });
  await once(server, 'listening');
  port = server.address().port;
  count = () => server.clients.size;
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

await settle();
process.send({ type: 'listening', port });
process.on('message', async (message) => {
  if (message.type === 'measure') {
    await settle();
    const m = process.memoryUsage();
    process.send({
      type: 'measure',
      rss: m.rss,
      heap: m.heapUsed,
      external: m.external,
      connections: count(),
    });
  }
  if (message.type === 'snapshot') process.send({ type: 'snapshot', file: v8.writeHeapSnapshot() });
});
process.on('disconnect', () => process.exit(0));
