// Loss under churn (issue 4's churn test, for every library): 2 clients, each behind its own
// fault proxy that resets or blackholes the link at random every 50–300 ms while messages flow
// both ways, plus room broadcasts. Afterwards the faults stop and a grace period lets every
// library deliver what it still holds. Every message is numbered per stream; the receivers
// count what arrived: lost = sent − distinct received, duplicated = received − distinct.
//
// Run with tsx (the fault proxy is TypeScript):
//   fork('churn.mjs', [JSON.stringify({ variant, faults, messages, duration, heartbeat, grace })],
//        { execArgv: ['--import', 'tsx'] })
//   variant: 'heartline-session' | 'heartline-plain' | 'socketio' | 'rws'
//   faults: 'reset+blackhole' | 'reset' | 'dead-link' (one blackhole at `cutAt` ms, then none:
//           the link stays dead until the client's heartbeat finds out)
//   heartbeat: ms for interval and timeout on both ends, or null for each library's defaults
//   size: bytes of each numbered message (padded with spaces), else as short as it gets
//   direct: false sends no server → client messages (room broadcasts still flow)
//   → { type: 'result', streams, reconnects, sessions, elapsed }
import { once } from 'node:events';
import http from 'node:http';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import { startFaultProxy } from '../../test/support/fault-proxy.ts';
import { HeartlineServer } from '../.build/server/index.js';
import { openClient } from './clients.mjs';
import {
  clock,
  exitWithParent,
  heartlineServerOptions,
  sessionWitness,
  sleep,
  tell,
} from './lib.mjs';

const config = JSON.parse(process.argv[2]);
const { variant, faults, messages, duration, heartbeat, grace } = config;
const { size = 0, direct = true, cutAt = 1_000 } = config;
/** Both ends' heartbeat options: the benchmark's, or none to keep each library's defaults. */
const beat = (options) => (heartbeat === null ? {} : options);
/** A numbered message, padded to `size` bytes: receivers read the number with Number(), which trims. */
const numbered = (text) => (size > 0 ? text.padEnd(size, ' ') : text);
// Extra Heartline options (bounds sized for the run): { client: {...}, server: {...} }.
const sized = config.heartline ?? { client: {}, server: {} };
exitWithParent();

const CLIENTS = 2;
const TICK = 10;
const ticks = Math.floor(duration / TICK);
const perTick = Math.ceil(messages / ticks);

/** One numbered stream: what was sent, and what the receiver saw. */
function stream() {
  return { sent: 0, got: new Map(), received: 0, outOfOrder: 0, last: -1 };
}
function receive(s, seq) {
  s.received++;
  s.got.set(seq, (s.got.get(seq) ?? 0) + 1);
  if (seq < s.last) s.outOfOrder++;
  else s.last = seq;
}

const streams = {};
for (let i = 0; i < CLIENTS; i++) {
  streams[`c${i}→server`] = stream();
  streams[`server→c${i}`] = stream();
  streams[`broadcast→c${i}`] = stream();
}

// ── the server ───────────────────────────────────────────────────────────────────────────────
let port;
let sendDirect; // (i, text) => void
let sendBroadcast; // (text) => void
let closeServer;
const onServerMessage = (i, text) => {
  const seq = Number(text.slice(text.indexOf(':') + 1));
  receive(streams[`c${i}→server`], seq);
};
const idOf = (url) => Number(new URL(url, 'http://x').searchParams.get('id'));

if (variant === 'rws') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  port = wss.address().port;
  const current = new Map();
  wss.on('connection', (ws, request) => {
    const i = idOf(request.url);
    current.set(i, ws);
    ws.on('error', () => {});
    ws.on('message', (data) => onServerMessage(i, data.toString()));
  });
  // A plain server has nowhere to keep a message for a client that is not connected.
  sendDirect = (i, text) => {
    const ws = current.get(i);
    if (ws?.readyState === 1) ws.send(text);
  };
  sendBroadcast = (text) => {
    for (const ws of wss.clients) ws.send(text);
  };
  closeServer = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
} else if (variant.startsWith('heartline')) {
  const mode = variant === 'heartline-session' ? 'session' : 'plain';
  const server = new HeartlineServer(
    heartlineServerOptions(mode, {
      port: 0,
      ...beat({ heartbeat: { interval: heartbeat, timeout: heartbeat } }),
      ...sized.server,
    }),
  );
  await once(server, 'listening');
  port = server.address().port;
  server.on('error', () => {});
  const current = new Map();
  server.on('connection', (client, request) => {
    const i = idOf(request.url);
    current.set(i, client);
    client.join('room');
    client.on('message', (data) => onServerMessage(i, String(data)));
  });
  // In session mode `client` is the session and outlives its links; in plain mode it is one link.
  sendDirect = (i, text) => current.get(i)?.send(text);
  sendBroadcast = (text) => server.to('room').send(text);
  closeServer = () => server.close({ deadline: 0 });
} else if (variant === 'socketio') {
  const httpServer = http.createServer();
  const io = new SocketIoServer(httpServer, {
    transports: ['websocket'],
    pingInterval: heartbeat,
    pingTimeout: heartbeat,
    connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true },
  });
  io.on('connection', (socket) => {
    const i = Number(socket.handshake.auth.id);
    if (!socket.recovered) {
      socket.join(`client:${i}`);
      socket.join('room');
    }
    socket.on('m', (text) => onServerMessage(i, text));
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  port = httpServer.address().port;
  // Emits to rooms are what connection state recovery stores and replays.
  sendDirect = (i, text) => io.to(`client:${i}`).emit('d', text);
  sendBroadcast = (text) => io.to('room').emit('b', text);
  closeServer = () => io.close();
} else {
  throw new Error(`unknown churn variant ${variant}`);
}

// ── the clients, each behind its own fault proxy ──────────────────────────────────────────────
const witness = sessionWitness();
let reconnects = 0;
const resumes = {}; // Heartline session mode: how each resume ended
let overflowed = 0; // Heartline: messages dropped from a full outbox / unacked buffer
const proxies = [];
const clients = [];
for (let i = 0; i < CLIENTS; i++) {
  const proxy = await startFaultProxy({ port });
  proxies.push(proxy);
  const kind = variant.startsWith('heartline') ? 'heartline' : variant;
  const options =
    kind === 'heartline'
      ? {
          ...beat({ heartbeat: { interval: heartbeat, timeout: heartbeat } }),
          logger: witness.logger,
          ...sized.client,
        }
      : kind === 'socketio'
        ? { auth: { id: i } }
        : {};
  let opened = false;
  const ready = new Promise((resolve) => {
    const client = openClient(kind, `${proxy.url}/?id=${i}`, {
      mode: variant === 'heartline-session' ? 'session' : 'plain',
      options,
      onOpen: () => {
        if (opened) reconnects++;
        opened = true;
        resolve();
      },
      onMessage: (text) => {
        const colon = text.indexOf(':');
        const seq = Number(text.slice(colon + 1));
        const kindOf = text.slice(0, colon);
        if (kindOf === 's') receive(streams[`server→c${i}`], seq);
        else if (kindOf === 'r') receive(streams[`broadcast→c${i}`], seq);
      },
      onError: () => {},
    });
    clients.push(client);
    if (kind === 'heartline') {
      client.raw.addEventListener('overflow', (e) => {
        overflowed += e.dropped.length;
      });
      client.raw.addEventListener('resume', (e) => {
        const key = e.resumed ? 'resumed' : `fresh (${e.reason})`;
        resumes[key] = (resumes[key] ?? 0) + 1;
      });
    }
  });
  await ready;
}

// ── traffic and faults ───────────────────────────────────────────────────────────────────────
let faulting = true;
const faultLoops = proxies.map(async (proxy) => {
  if (faults === 'dead-link') {
    await sleep(cutAt);
    proxy.blackhole(); // new connections pass: the reconnect after the heartbeat timeout
    return;
  }
  while (faulting) {
    await sleep(50 + Math.random() * 250);
    if (!faulting) break;
    if (faults === 'reset' || Math.random() < 0.5) proxy.reset();
    else proxy.blackhole();
  }
});

const t0 = clock();
let broadcasts = 0;
for (let t = 0; t < ticks; t++) {
  for (let i = 0; i < CLIENTS; i++) {
    for (let k = 0; k < perTick; k++) {
      const up = streams[`c${i}→server`];
      if (up.sent < messages) {
        try {
          clients[i].send(numbered(`c${i}:${up.sent}`));
        } catch {
          // A library that throws while disconnected lost the message; it still counts as sent.
        }
        up.sent++;
      }
      const down = streams[`server→c${i}`];
      if (direct && down.sent < messages) {
        sendDirect(i, numbered(`s:${down.sent}`));
        down.sent++;
      }
    }
  }
  sendBroadcast(`r:${broadcasts}`);
  broadcasts++;
  for (let i = 0; i < CLIENTS; i++) streams[`broadcast→c${i}`].sent = broadcasts;
  // Keep the pace: each tick starts TICK ms after the previous one, whatever the sends cost.
  const wait = t0 + (t + 1) * TICK - clock();
  if (wait > 0) await sleep(wait);
}
faulting = false;
await Promise.all(faultLoops);
for (const proxy of proxies) proxy.heal();

// Grace: let every library deliver what it holds (stops early once everything arrived).
const complete = () => Object.values(streams).every((s) => s.got.size >= s.sent);
const graceEnd = clock() + grace;
while (!complete() && clock() < graceEnd) await sleep(100);

/** The first few runs of lost sequence numbers, as "from–to", to tell a gap from scattered loss. */
function ranges(s) {
  const out = [];
  let start = -1;
  for (let seq = 0; seq <= s.sent && out.length < 5; seq++) {
    const missing = seq < s.sent && !s.got.has(seq);
    if (missing && start < 0) start = seq;
    if (!missing && start >= 0) {
      out.push(start === seq - 1 ? `${start}` : `${start}–${seq - 1}`);
      start = -1;
    }
  }
  return out;
}

const report = {};
for (const [name, s] of Object.entries(streams)) {
  let distinct = 0;
  for (const seq of s.got.keys()) if (seq < s.sent) distinct++;
  report[name] = {
    sent: s.sent,
    lost: s.sent - distinct,
    duplicated: s.received - s.got.size,
    outOfOrder: s.outOfOrder,
    lostRanges: ranges(s),
  };
}
tell({
  type: 'result',
  streams: report,
  reconnects,
  resumes,
  overflowed,
  sessions: witness.sessions,
  elapsed: clock() - t0,
});
for (const c of clients) {
  try {
    c.close();
  } catch {}
}
await Promise.all(proxies.map((p) => p.close()));
await Promise.race([closeServer(), sleep(1_000)]);
process.exit(0);
