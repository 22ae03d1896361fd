/**
 * Dead-link detection time of the client: N trials, each through the fault proxy. The link
 * is proven (one pong), then blackholed at a random phase of the heartbeat cycle; the time
 * from the cut to the `drop` event is recorded.
 *
 *   npx tsx bench/client-detection.ts [trials=20] [interval=200] [timeout=200]
 */
import { WebSocket } from 'ws';
import { HeartlineSocket } from '../src/client/index.js';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { startServer } from '../test/support/servers.js';
import { delay, waitForEvent } from '../test/support/wait.js';

const [trials = 20, interval = 200, timeout = 200] = process.argv.slice(2).map(Number);
const server = await startServer();
const times: number[] = [];
for (let i = 0; i < trials; i++) {
  const proxy = await startFaultProxy({ port: server.port });
  const ws = new HeartlineSocket(proxy.url, [], {
    WebSocket,
    heartbeat: { interval, timeout },
    reconnect: false,
  });
  await waitForEvent(ws, 'heartbeat', { timeout: 5000 });
  await delay(Math.random() * interval); // a random phase of the cycle
  proxy.blackhole();
  const cut = performance.now();
  await waitForEvent(ws, 'drop', { timeout: 10 * (interval + timeout) });
  times.push(performance.now() - cut);
  ws.close();
  await proxy.close();
}
await server.close();
times.sort((a, b) => a - b);
const median =
  times.length % 2
    ? times[(times.length - 1) / 2]!
    : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
const r = (x: number) => Math.round(x);
console.log(
  `dead-link detection, interval ${interval} ms + timeout ${timeout} ms, ${trials} trials: ` +
    `min ${r(times[0]!)} ms, median ${r(median)} ms, max ${r(times.at(-1)!)} ms (bound ${interval + timeout} ms)`,
);
