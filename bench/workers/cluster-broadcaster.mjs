// The broadcasting half of the cluster scenario (bench/scenarios/cluster.ts), shared by every
// server factory: a factory gives it one `broadcast(text)` (its library's "to every client of
// the cluster"), and answers the scenario's commands with it.
//
// Every broadcast is "<phase>|<seq>|<clock ms>|" padded with "x" to `size` bytes, so that a
// receiving client can tell its phase, find holes and duplicates by seq, and measure latency
// with the clock every process of the machine shares (CLOCK_MONOTONIC).
//
//   { type: 'burst', phase, count, size, chunk = 500 }  as fast as it can: `chunk` broadcasts per
//                                                       event-loop turn (setImmediate between)
//   { type: 'paced', phase, count, size, rate }         `rate` per second, on a 10 ms tick that
//                                                       catches up on elapsed time
//   → { startedAt, endedAt, sent }                      clock ms of the first and last send

/** lib.mjs's clock, repeated so that the socket.io rows do not import bench/.build. */
const clock = () => Number(process.hrtime.bigint()) / 1e6;

export function payload(phase, seq, size) {
  const head = `${phase}|${seq}|${clock().toFixed(3)}|`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers one scenario command with `broadcast`; undefined for commands it does not know. */
export async function broadcastCommand(broadcast, body) {
  const { phase, count, size = 100 } = body;
  if (body.type === 'burst') {
    const chunk = body.chunk ?? 500;
    const startedAt = clock();
    for (let seq = 0; seq < count; ) {
      const end = Math.min(count, seq + chunk);
      for (; seq < end; seq++) broadcast(payload(phase, seq, size));
      await turn();
    }
    return { startedAt, endedAt: clock(), sent: count };
  }
  if (body.type === 'paced') {
    const startedAt = clock();
    let seq = 0;
    // Bounded: count / rate seconds, plus a slack for a stalled event loop.
    const deadline = startedAt + (count / body.rate) * 1_000 + 30_000;
    while (seq < count && clock() < deadline) {
      const due = Math.min(count, Math.floor(((clock() - startedAt) * body.rate) / 1_000) + 1);
      for (; seq < due; seq++) broadcast(payload(phase, seq, size));
      if (seq < count) await tick(10);
    }
    return { startedAt, endedAt: clock(), sent: seq };
  }
  return undefined;
}
