// One server process of the benchmark: a raw `ws` server, a HeartlineServer or a socket.io
// server, configured by one JSON argument and driven by its parent over IPC.
//
//   fork('server.mjs', [JSON.stringify(config)], { execArgv: ['--expose-gc'] })
//
// config: { kind: 'ws' | 'heartline' | 'socketio', port = 0,
//           echo = true,            echo every message (socket.io: event 'm')
//           cork = false,           ws: echo through corkedSend (lib.mjs), the ceiling row
//           pong = false,           ws: answer the text "ping" with "pong" (an echo server as
//                                   the classic snippet expects it)
//           readmeHeartbeat,        ws: ms of the README's ping/terminate interval, or none
//           mode, options,          heartline: 'plain' | 'session', extra HeartlineServer options
//           sio,                    socketio: extra Server options
//           room = false,           put every client in room 'all' (fan-out)
//           stall }                 ws, heartline: ms to block the event loop for when a client
//                                   sends the text "stall" (inside the I/O callback)
//
// → { type: 'listening', port, at }   at: clock ms when it began listening
// ← { type: 'measure' }            → { type: 'measure', rss, heap, connections } after 3 GCs
// ← { type: 'cpu', ms }            → { type: 'cpu', perSecond, elapsed } (CPU ms per wall second)
// ← { type: 'broadcast' }          sends "b:<clock ms>" to room 'all' (a ws loop for ws)
//                                  → { type: 'broadcast', syncMs } the synchronous part
// ← { type: 'cpu-total' }        → { type: 'cpu-total', ms } CPU used since start
// ← { type: 'accepts' }            → { type: 'accepts', times, stall } clock ms of every connection,
//                                  and the longest event-loop delay (ms) since the first
// ← { type: 'closes' }             → { type: 'closes', times } clock ms at which the server
//                                  closed each connection whose URL had ?tag=<tag>, by tag
// ← { type: 'stats' }              → { type: 'stats', terminated, stalls } heartbeat
//                                  terminations (ws: by the README recipe) and skipped sweeps
// ← { type: 'profile-start' } …    see profileOnRequest() in lib.mjs
// ← { type: 'shutdown' }           heartline: await server.close() (1012 + retry-after spread);
//                                  the others: exit at once, as a process restart does
import { once } from 'node:events';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { HeartlineServer } from '../.build/server/index.js';
import {
  clock,
  corkedSend,
  exitWithParent,
  gcFunction,
  heartlineServerOptions,
  profileOnRequest,
  sleep,
  tell,
} from './lib.mjs';

const config = JSON.parse(process.argv[2]);
const { kind, port: wantedPort = 0, echo = true, room = false } = config;
const gc = gcFunction();
const accepts = [];
/** Event-loop delays from the first accept on: a stall here delays the accepts it counts. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
function accepted() {
  if (accepts.length === 0) loopDelay.enable();
  accepts.push(clock());
}
let connections;
let broadcast;
let shutdown = async () => {};
let stats = () => ({ terminated, stalls: 0 });
let terminated = 0;
let port;
const closes = {};

/** Dead-client detection (scenarios/detection.ts) tags its connections to find their close. */
function watchClose(emitter, url) {
  const tag = new URL(url ?? '/', 'http://x').searchParams.get('tag');
  if (tag) {
    emitter.on('close', () => {
      closes[tag] = clock();
    });
  }
}

function isStall(data) {
  return config.stall && String(data) === 'stall';
}

function blockFor(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a synchronous stall
  }
}

function onWsConnection(ws, request) {
  accepted();
  watchClose(ws, request.url);
  ws.on('error', () => {});
  if (config.readmeHeartbeat) {
    ws.isAlive = true;
    ws.on('pong', heartbeat);
  }
  if (!echo && !config.stall) return;
  const send = config.cork ? corkedSend(ws) : (data, options) => ws.send(data, options);
  ws.on('message', (data, isBinary) => {
    if (isStall(data)) blockFor(config.stall);
    else if (config.pong && !isBinary && data.length === 4 && data.toString() === 'ping') {
      send('pong');
    } else if (echo) send(data, { binary: isBinary });
  });
}

// The ws README's "How to detect and close broken connections?" recipe.
function heartbeat() {
  this.isAlive = true;
}

if (kind === 'ws') {
  const wss = new WebSocketServer({
    port: wantedPort,
    host: '127.0.0.1',
    perMessageDeflate: false,
  });
  await once(wss, 'listening');
  port = wss.address().port;
  wss.on('connection', onWsConnection);
  if (config.readmeHeartbeat) {
    setInterval(() => {
      for (const ws of wss.clients) {
        if (ws.isAlive === false) {
          terminated++;
          ws.terminate();
          continue;
        }
        ws.isAlive = false;
        ws.ping();
      }
    }, config.readmeHeartbeat);
  }
  connections = () => wss.clients.size;
  broadcast = (text) => {
    for (const ws of wss.clients) ws.send(text);
  };
} else if (kind === 'heartline') {
  const server = new HeartlineServer(
    heartlineServerOptions(config.mode ?? 'plain', { port: wantedPort, ...config.options }),
  );
  await once(server, 'listening');
  port = server.address().port;
  server.on('error', () => {});
  server.on('connection', (client, request) => {
    accepted();
    watchClose(client, request.url);
    if (room) client.join('all');
    if (config.stall) client.on('message', (data) => isStall(data) && blockFor(config.stall));
    if (echo) client.on('message', (data) => client.send(data));
    client.on('request', (data) => data); // requests (session mode): answered with their data
  });
  stats = () => ({
    terminated: server.stats().terminations.heartbeat_timeout,
    stalls: server.stats().stalls,
  });
  connections = () => server.clients.size;
  broadcast = (text) => server.to('all').send(text);
  shutdown = () => server.close();
} else if (kind === 'socketio') {
  const { Server } = await import('socket.io');
  const httpServer = http.createServer();
  const io = new Server(httpServer, { transports: ['websocket'], ...config.sio });
  io.on('connection', (socket) => {
    accepted();
    if (room) socket.join('all');
    if (echo) socket.on('m', (data) => socket.emit('m', data));
    socket.on('q', (data, ack) => ack(data)); // requests: emitWithAck, answered with their data
  });
  httpServer.listen(wantedPort, '127.0.0.1');
  await once(httpServer, 'listening');
  port = httpServer.address().port;
  connections = () => io.engine.clientsCount;
  broadcast = (text) => io.to('all').emit('b', text);
} else {
  throw new Error(`unknown server kind ${kind}`);
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
}

exitWithParent();
profileOnRequest();
const listeningAt = clock();
await settle();
tell({ type: 'listening', port, at: listeningAt });
process.on('message', async (message) => {
  switch (message.type) {
    case 'measure': {
      await settle();
      const m = process.memoryUsage();
      tell({ type: 'measure', rss: m.rss, heap: m.heapUsed, connections: connections() });
      break;
    }
    case 'cpu': {
      const start = process.cpuUsage();
      const t0 = clock();
      await sleep(message.ms);
      const used = process.cpuUsage(start);
      const elapsed = clock() - t0;
      tell({
        type: 'cpu',
        perSecond: (used.user + used.system) / 1000 / (elapsed / 1000),
        elapsed,
        connections: connections(),
      });
      break;
    }
    case 'broadcast': {
      const t0 = clock();
      broadcast(`b:${t0}`);
      tell({ type: 'broadcast', syncMs: clock() - t0 });
      break;
    }
    case 'cpu-total': {
      const { user, system } = process.cpuUsage();
      tell({ type: 'cpu-total', ms: (user + system) / 1000 });
      break;
    }
    case 'accepts':
      tell({ type: 'accepts', times: accepts, stall: loopDelay.max / 1e6 });
      break;
    case 'closes':
      tell({ type: 'closes', times: closes });
      break;
    case 'stats':
      tell({ type: 'stats', ...stats() });
      break;
    case 'shutdown':
      await shutdown();
      process.exit(0);
  }
});
