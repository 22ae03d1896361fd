// The client side of the echo-throughput scenario: one connection sends `total` 32-byte text
// messages, at most `window` in flight, and times the round trips (research §D's method).
//
//   fork('echo-client.mjs', [JSON.stringify({ kind, url, mode, options, total, window })])
//   → { type: 'result', ms, rate, cpuMs, sessions } | { type: 'failed', error }
//   cpuMs: this process's CPU time during the run
import { openClient } from './clients.mjs';
import { clock, exitWithParent, MESSAGE_32, sessionWitness, tell } from './lib.mjs';

const {
  kind,
  url,
  mode,
  options = {},
  total,
  window,
  limit = 120_000,
} = JSON.parse(process.argv[2]);
exitWithParent();
const witness = sessionWitness();
let sent = 0;
let received = 0;
let t0 = 0;
let cpu0;
let client;

const timer = setTimeout(() => {
  tell({ type: 'failed', error: `timed out after ${limit} ms (${received}/${total} echoed)` });
  process.exit(1);
}, limit);

function pump() {
  while (sent < total && sent - received < window) {
    client.send(MESSAGE_32);
    sent++;
  }
}

client = openClient(kind, url, {
  mode,
  options: kind === 'heartline' ? { ...options, logger: witness.logger } : options,
  onOpen: () => {
    if (t0 !== 0) return; // a reconnect: the run is already going
    t0 = clock();
    cpu0 = process.cpuUsage();
    pump();
  },
  onMessage: () => {
    received++;
    if (received === total) {
      const ms = clock() - t0;
      const cpu = process.cpuUsage(cpu0);
      clearTimeout(timer);
      tell({
        type: 'result',
        ms,
        rate: (total / ms) * 1000,
        cpuMs: (cpu.user + cpu.system) / 1000,
        sessions: witness.sessions,
      });
      client.close();
      setTimeout(() => process.exit(0), 50);
      return;
    }
    pump();
  },
});
