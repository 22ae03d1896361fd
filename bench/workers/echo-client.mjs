// The client side of the echo scenarios: one connection sends 32-byte text messages and the
// server echoes each (research §D's method). Two ways to drive it:
//
// Throughput, `window` messages in flight, for as long as the parent wants: the parent takes
// two marks (the server's CPU counter is read at the same moments) and stops the process.
//   fork('echo-client.mjs', [JSON.stringify({ kind, url, mode, cork, options, window })])
//   → { type: 'open' }                 the connection is up and the messages flow
//   ← { type: 'mark' }                 → { type: 'mark', at, received, cpuMs, sessions }
//   ← { type: 'profile-start' } …      see profileOnRequest() in lib.mjs
//
// Latency, one message at a time (send, wait for the echo, send the next): `warmup` round
// trips untimed, then `count` timed ones.
//   fork('echo-client.mjs', [JSON.stringify({ kind, url, mode, cork, options, count, warmup })])
//   → { type: 'result', p50, p90, p99, max, sessions }   ms per round trip
//
// With `request: true`, latency is that of requests instead: `client.request()` (Heartline
// session mode, socket.io's emitWithAck) answered by the server with its data.
//
// Either way: → { type: 'failed', error } when the link does not open or the echoes stop.
import { openClient } from './clients.mjs';
import {
  clock,
  exitWithParent,
  MESSAGE_32,
  profileOnRequest,
  sessionWitness,
  tell,
} from './lib.mjs';

const config = JSON.parse(process.argv[2]);
const { kind, url, mode, cork, options = {}, window = 1, count = 0, warmup = 0 } = config;
const requests = config.request === true;
const latency = count > 0;
exitWithParent();
profileOnRequest();
const witness = sessionWitness();
let sent = 0;
let received = 0;
let started = false;
let done = false;
let client;

function fail(error) {
  tell({ type: 'failed', error });
  process.exit(1);
}

const openTimer = setTimeout(() => fail('the link did not open within 30 s'), 30_000);

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// Throughput: keep `window` messages in flight.
function pump() {
  while (sent - received < window) {
    client.send(MESSAGE_32);
    sent++;
  }
}

// Latency: one round trip at a time.
const times = new Float64Array(count);
let sentAt = 0;
function ping() {
  sentAt = clock();
  if (!requests) {
    client.send(MESSAGE_32);
    return;
  }
  client.request(MESSAGE_32).then(onEcho, (error) => fail(`a request failed: ${error.message}`));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function onEcho() {
  if (!latency) {
    received++;
    pump();
    return;
  }
  const now = clock();
  if (received >= warmup) times[received - warmup] = now - sentAt;
  received++;
  if (received < warmup + count) {
    ping();
    return;
  }
  const sorted = times.sort();
  tell({
    type: 'result',
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    sessions: witness.sessions,
  });
  done = true;
  client.close();
  setTimeout(() => process.exit(0), 50);
}

client = openClient(kind, url, {
  mode,
  cork,
  options: kind === 'heartline' ? { ...options, logger: witness.logger } : options,
  onOpen: () => {
    if (started) return; // a reconnect: the run is already going
    started = true;
    clearTimeout(openTimer);
    if (latency) ping();
    else {
      tell({ type: 'open' });
      pump();
    }
  },
  onMessage: requests ? () => {} : onEcho,
  onDrop: (why) => started && !done && fail(`the link dropped (${why}) after ${received} echoes`),
  onError: () => {},
});

process.on('message', (message) => {
  if (message.type === 'mark') {
    tell({ type: 'mark', at: clock(), received, cpuMs: cpuMs(), sessions: witness.sessions });
  }
});
