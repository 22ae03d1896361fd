// Many clients of one library in one process, for fan-out, idle connections and the reconnect
// storm. Driven by its parent over IPC.
//
//   fork('swarm.mjs', [JSON.stringify({ kind, url, count, batch = 250, mode, options })])
//   → { type: 'ready', open, failed, ms }     once every client opened (or failed), in batches
//                                             so that the listen backlog never overflows
//   → { type: 'round', latencies }            every client got broadcast "b:<clock ms>": the
//                                             latency of each, in ms (clock shared by processes)
//   ← { type: 'collect' }                     → { type: 'round', latencies, partial: true }
//   ← { type: 'mark' }                        start counting reopens, errors and drops
//   → { type: 'all-back', at }                every client reopened since the mark
//   ← { type: 'status' }                      → { type: 'status', back, reopens, due, errors,
//                                             drops, stall }: `due`, HeartlineSocket only, when
//                                             the attempt that reopened each client was due
//                                             (scheduled at + its `reconnecting` delay: what the
//                                             library planned, whatever the CPUs did); `stall`,
//                                             the longest event-loop delay since the first
//                                             reopen (ms): the drops before it are one burst
//   ← { type: 'send-on-ping', text }          raw ws: the first client sends `text` right after
//                                             it answers its next ping (ws sends the pong
//                                             before it emits 'ping'), so the server has the
//                                             other clients' pongs still to read
//   ← { type: 'exit' }                        close every client and exit
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openClient } from './clients.mjs';
import { clock, closeAllAndExit, exitWithParent, sessionWitness, sleep, tell } from './lib.mjs';

const config = JSON.parse(process.argv[2]);
const { kind, url, count, batch = 250, mode, options = {} } = config;
exitWithParent();

const witness = sessionWitness();
const clients = [];
let open = 0;
let failed = 0;
let latencies = [];
let marked = false;
let markAt = 0;
const reopens = []; // clock ms of the first open of each client after the mark
const reopened = new Set();
const due = []; // clock ms each reopening attempt was due (HeartlineSocket)
const dueAt = new Map(); // client index → when its next attempt is due
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let errors = 0;
let drops = 0;

function connectOne(index) {
  return new Promise((resolve) => {
    let first = true;
    const settle = () => {
      if (first) {
        first = false;
        resolve();
      }
    };
    const client = openClient(kind, url, {
      mode,
      options: kind === 'heartline' ? { ...options, logger: witness.logger } : options,
      onOpen: () => {
        if (first) open++;
        settle();
        if (marked && !reopened.has(index)) {
          reopened.add(index);
          reopens.push(clock());
          if (reopened.size === 1) loopDelay.enable(); // stalls from the first reopen on
          if (dueAt.has(index)) due.push(dueAt.get(index));
          if (reopened.size === open) tell({ type: 'all-back', at: clock() });
        }
      },
      onMessage: (text) => {
        if (typeof text !== 'string' || !text.startsWith('b:')) return;
        latencies.push(clock() - Number(text.slice(2)));
        if (latencies.length === open) {
          tell({ type: 'round', latencies });
          latencies = [];
        }
      },
      onDrop: () => {
        if (marked) drops++;
      },
      onError: () => {
        if (marked) errors++;
        else if (first) failed++;
        settle();
      },
    });
    clients.push(client);
    if (kind === 'heartline') {
      client.raw.addEventListener('reconnecting', (e) => dueAt.set(index, clock() + e.delay));
    }
  });
}

const t0 = clock();
for (let i = 0; i < count; i += batch) {
  const wave = [];
  for (let j = i; j < Math.min(count, i + batch); j++) wave.push(connectOne(j));
  await Promise.race([Promise.all(wave), sleep(30_000)]);
}
// Reconnecting clients whose first attempt failed may still come in.
for (let waited = 0; open < count && waited < 10_000; waited += 100) await sleep(100);
tell({ type: 'ready', open, failed, ms: clock() - t0, sessions: witness.sessions });

process.on('message', (message) => {
  switch (message.type) {
    case 'collect':
      tell({ type: 'round', latencies, partial: true });
      latencies = [];
      break;
    case 'mark':
      marked = true;
      markAt = clock();
      break;
    case 'status':
      tell({
        type: 'status',
        back: reopened.size,
        reopens,
        due,
        stall: loopDelay.max / 1e6,
        errors,
        drops,
        markAt,
        sessions: witness.sessions,
      });
      break;
    case 'send-on-ping': {
      const first = clients[0];
      first?.raw.once('ping', () => first.send(message.text));
      break;
    }
    case 'exit':
      closeAllAndExit(clients);
      break;
  }
});
