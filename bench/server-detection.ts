/**
 * Dead-client detection time of the server: N trials, each with a `ws` client behind the fault
 * proxy. The client's liveness is proven (one answered ping), then its link is blackholed at a
 * random phase of the heartbeat cycle; the time from the cut to the client's `close` event on
 * the server is recorded. The bound is interval + timeout; the sweep adds up to two periods
 * (a tenth of the shorter of the two) and the check phase a little more.
 *
 *   npx tsx bench/server-detection.ts [trials=20] [interval=500] [timeout=500]
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { HeartlineServer, type ServerClient } from '../src/server/index.js';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { delay, waitFor, waitForEvent } from '../test/support/wait.js';

const [trials = 20, interval = 500, timeout = 500] = process.argv.slice(2).map(Number);
const server = new HeartlineServer({
  port: 0,
  host: '127.0.0.1',
  allowMissingOrigin: true,
  heartbeat: { interval, timeout },
});
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
const times: number[] = [];
for (let i = 0; i < trials; i++) {
  const proxy = await startFaultProxy({ port });
  const connected = waitForEvent<ServerClient>(server, 'connection');
  const ws = new WebSocket(proxy.url);
  ws.on('error', () => {});
  const client = await connected;
  await waitFor(() => client.rtt !== undefined, { timeout: 5 * interval, message: 'a first pong' });
  await delay(Math.random() * interval); // a random phase of the cycle
  proxy.blackhole();
  const cut = performance.now();
  await waitForEvent(client, 'close', { timeout: 10 * (interval + timeout) });
  times.push(performance.now() - cut);
  ws.terminate();
  await proxy.close();
}
const terminated = server.stats().terminations.heartbeat_timeout;
await server.close();
times.sort((a, b) => a - b);
const mid = times.length / 2;
const median = times.length % 2 ? times[Math.floor(mid)]! : (times[mid - 1]! + times[mid]!) / 2;
const r = (x: number) => Math.round(x);
console.log(
  `server dead-client detection, interval ${interval} ms + timeout ${timeout} ms, ${trials} trials ` +
    `(${terminated} heartbeat terminations): min ${r(times[0]!)} ms, median ${r(median)} ms, ` +
    `max ${r(times.at(-1)!)} ms (bound ${interval + timeout} ms)`,
);
