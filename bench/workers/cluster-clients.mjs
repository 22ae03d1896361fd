// The receiving half of the cluster scenario (bench/scenarios/cluster.ts): `count` clients of
// one library on one node, counting every broadcast they get, by phase and seq (see
// cluster-broadcaster.mjs for the payload). Driven over IPC.
//
//   fork('cluster-clients.mjs', [JSON.stringify({ kind, url, count, mode, options })])
//   → { type: 'ready', open }                 every client connected (or 30 s passed)
//   ← { type: 'phase', phase, expected, latency }
//                                             forget the last phase; count broadcasts of
//                                             `phase` with seq < expected; record latencies
//   → { type: 'phase' }
//   ← { type: 'wait', quietMs, timeout }      resolve once every client has all `expected`, or
//                                             nothing arrived for quietMs (late broadcasts of
//                                             an earlier phase count as arrivals), or at timeout
//   → { type: 'report', clients, latency, stale, complete }
//        clients: per client { delivered, duplicates, gaps, lastAt, opens, recovered }
//        latency: { count, p50, p99, max } in ms over all clients (when asked for)
//   ← { type: 'exit' }
import { openClient } from './clients.mjs';
import { clock, closeAllAndExit, exitWithParent, sleep, tell } from './lib.mjs';

const config = JSON.parse(process.argv[2]);
const { kind, url, count, mode, options = {} } = config;
exitWithParent();

let phase = '';
let expected = 0;
let recordLatency = false;
let latencies = [];
let stale = 0;
let lastDeliveryAt = 0;

const states = Array.from({ length: count }, () => ({
  seen: new Uint8Array(0),
  delivered: 0,
  duplicates: 0,
  lastAt: 0,
  opens: 0,
  recovered: 0,
  /** Heartline: sessions that started afresh, told so (`resume` with `resumed: false`). */
  restarted: 0,
}));

function onMessage(state, text) {
  if (typeof text !== 'string') return;
  const now = clock();
  // Any arrival, even a late one of an earlier phase, means the pipeline is not quiet yet.
  lastDeliveryAt = now;
  const a = text.indexOf('|');
  const b = text.indexOf('|', a + 1);
  const c = text.indexOf('|', b + 1);
  if (a < 0 || b < 0 || c < 0 || text.slice(0, a) !== phase) {
    stale++;
    return;
  }
  const seq = Number(text.slice(a + 1, b));
  if (!(seq >= 0 && seq < expected)) {
    stale++;
    return;
  }
  if (state.seen[seq]) {
    state.duplicates++;
    return;
  }
  state.seen[seq] = 1;
  state.delivered++;
  state.lastAt = now;
  if (recordLatency) latencies.push(now - Number(text.slice(b + 1, c)));
}

const clients = states.map((state) => {
  const c = openClient(kind, url, {
    mode,
    options,
    onOpen() {
      state.opens++;
      // socket.io connection state recovery: the server restored this client's session.
      if (state.opens > 1 && c.raw?.recovered === true) state.recovered++;
    },
    onMessage: (text) => onMessage(state, text),
  });
  // A HeartlineSocket says how each link came back: the session resumed, or started afresh.
  c.raw?.addEventListener?.('resume', (e) => {
    if (e.resumed) state.recovered++;
    else state.restarted++;
  });
  return c;
});

for (let waited = 0; states.some((s) => s.opens === 0) && waited < 30_000; waited += 20) {
  await sleep(20);
}
tell({ type: 'ready', open: states.filter((s) => s.opens > 0).length });

/** Runs of missing seqs below `expected`: 1 for one hole, however long. */
function gaps(seen) {
  let runs = 0;
  for (let i = 0; i < expected; i++) if (!seen[i] && (i === 0 || seen[i - 1])) runs++;
  return runs;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function report() {
  const complete = states.every((s) => s.delivered === expected);
  let latency = null;
  if (recordLatency) {
    const sorted = Float64Array.from(latencies).sort();
    latency = {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
    };
  }
  return {
    type: 'report',
    complete,
    stale,
    latency,
    clients: states.map((s) => ({
      delivered: s.delivered,
      duplicates: s.duplicates,
      gaps: gaps(s.seen),
      lastAt: s.lastAt,
      opens: s.opens,
      recovered: s.recovered,
      restarted: s.restarted,
    })),
  };
}

process.on('message', async (message) => {
  switch (message.type) {
    case 'phase':
      phase = String(message.phase);
      expected = message.expected;
      recordLatency = message.latency === true;
      latencies = [];
      stale = 0;
      lastDeliveryAt = clock();
      for (const s of states) {
        s.seen = new Uint8Array(expected);
        s.delivered = 0;
        s.duplicates = 0;
        s.lastAt = 0;
        s.opens = Math.min(s.opens, 1);
        s.recovered = 0;
        s.restarted = 0;
      }
      tell({ type: 'phase' });
      break;
    case 'wait': {
      // Quiet is counted from the later of the last delivery and now: after an outage the last
      // delivery may be long past while the server still has a backlog to flush.
      const since = clock();
      const deadline = since + message.timeout;
      while (clock() < deadline) {
        if (states.every((s) => s.delivered === expected)) break;
        if (clock() - Math.max(lastDeliveryAt, since) >= message.quietMs) break;
        await sleep(20);
      }
      tell(report());
      break;
    }
    case 'exit':
      closeAllAndExit(clients);
      break;
  }
});
