/**
 * The heartbeat race of research §3.3, both ways in one run: 500 healthy clients in another
 * process, a heartbeat interval of 1 s, and one synchronous 1.5 s stall of the server's event
 * loop inside an I/O callback. First the `ws` README recipe (decide inside the interval), then
 * HeartlineServer (decide after the poll phase, and skip a sweep that fired more than
 * `timeout` late). Prints how many healthy clients each terminated.
 *
 *   npx tsx bench/server-stall.ts [clients=500] [stall=1500] [interval=1000]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { HeartlineServer } from '../src/server/index.js';

const [clients = 500, stall = 1_500, interval = 1_000] = process.argv.slice(2).map(Number);
const SWARM = fileURLToPath(new URL('../test/integration/server-swarm.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a synchronous stall
  }
}

async function run(url: string, terminated: () => number): Promise<number> {
  const swarm: ChildProcess = fork(SWARM, [url, String(clients)], { stdio: 'inherit' });
  const [ready] = (await once(swarm, 'message')) as [{ open: number }];
  if (ready.open !== clients) throw new Error(`only ${ready.open} of ${clients} opened`);
  await sleep(interval * 1.2);
  // Stall right after a ping went out, as the research did (the stall sat in a pong handler):
  // the other clients' pongs arrive during the stall and wait unread.
  swarm.send({ type: 'send-on-ping', text: 'stall' });
  await sleep(interval);
  await sleep(stall + interval * 2.5);
  const killed = terminated();
  swarm.send({ type: 'exit' });
  await once(swarm, 'exit');
  return killed;
}

// 1. The ws README recipe ("How to detect and close broken connections?").
{
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const alive = new WeakMap<WebSocket, boolean>();
  let killed = 0;
  wss.on('connection', (ws) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data) => {
      if (String(data) === 'stall') blockFor(stall);
    });
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        killed++;
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, interval);
  const { port } = wss.address() as AddressInfo;
  const result = await run(`ws://127.0.0.1:${port}`, () => killed);
  clearInterval(timer);
  wss.close();
  console.log(
    `ws README recipe: ${result} of ${clients} healthy clients terminated after a ${stall} ms stall`,
  );
}

// 2. HeartlineServer with the same interval, and the interval as its timeout.
{
  const server = new HeartlineServer({
    port: 0,
    host: '127.0.0.1',
    allowMissingOrigin: true,
    heartbeat: { interval, timeout: interval },
  });
  await once(server, 'listening');
  server.on('connection', (client) =>
    client.on('message', (data) => {
      if (data === 'stall') blockFor(stall);
    }),
  );
  const { port } = server.address() as AddressInfo;
  const result = await run(
    `ws://127.0.0.1:${port}`,
    () => server.stats().terminations.heartbeat_timeout,
  );
  const { stalls } = server.stats();
  await server.close({ deadline: 0 });
  console.log(
    `HeartlineServer:  ${result} of ${clients} healthy clients terminated after a ${stall} ms stall (${stalls} stalled sweep(s) skipped)`,
  );
}
