/**
 * Server RSS per idle connection: a HeartlineServer next to a raw `ws` server, measured in the
 * same run, each in a fresh process, with the clients in another process (research §2.1's
 * method). Rounds alternate the two so that drift in the machine hits both.
 *
 *   npx tsx bench/server-memory.ts [connections=5000] [rounds=2]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const [connections = 5_000, rounds = 2] = process.argv.slice(2).map(Number);
const HOST = fileURLToPath(new URL('./server-memory-host.mjs', import.meta.url));
const SWARM = fileURLToPath(new URL('../test/integration/server-swarm.mjs', import.meta.url));

interface Measure {
  type: 'measure';
  rss: number;
  heap: number;
  external: number;
  connections: number;
}

async function next<T>(child: ChildProcess, type: string): Promise<T> {
  for (;;) {
    const [message] = (await once(child, 'message', { signal: AbortSignal.timeout(120_000) })) as [
      T & { type: string },
    ];
    if (message.type === type) return message;
  }
}

async function measure(kind: 'ws' | 'heartline'): Promise<{ rss: number; heap: number }> {
  const host = fork(HOST, [kind], { execArgv: [], stdio: 'inherit' });
  try {
    const { port } = await next<{ port: number }>(host, 'listening');
    host.send({ type: 'measure' });
    const before = await next<Measure>(host, 'measure');
    const swarm = fork(SWARM, [`ws://127.0.0.1:${port}`, String(connections), '200'], {
      stdio: 'inherit',
    });
    const ready = await next<{ open: number }>(swarm, 'ready');
    if (ready.open !== connections)
      throw new Error(`${kind}: only ${ready.open} of ${connections} opened`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    host.send({ type: 'measure' });
    const after = await next<Measure>(host, 'measure');
    if (after.connections !== connections)
      throw new Error(`${kind}: server holds ${after.connections}`);
    swarm.send({ type: 'exit' });
    await once(swarm, 'exit');
    return {
      rss: (after.rss - before.rss) / connections,
      heap: (after.heap - before.heap) / connections,
    };
  } finally {
    host.kill();
  }
}

const results: Record<'ws' | 'heartline', { rss: number; heap: number }[]> = {
  ws: [],
  heartline: [],
};
for (let round = 0; round < rounds; round++) {
  for (const kind of round % 2 === 0
    ? (['ws', 'heartline'] as const)
    : (['heartline', 'ws'] as const)) {
    results[kind].push(await measure(kind));
  }
}
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const kind of ['ws', 'heartline'] as const) {
  const runs = results[kind];
  console.log(
    `${kind.padEnd(9)} RSS/conn ${runs.map((r) => `${kb(r.rss)} KB`).join(', ')} (mean ${kb(mean(runs.map((r) => r.rss)))} KB); ` +
      `heap/conn mean ${kb(mean(runs.map((r) => r.heap)))} KB`,
  );
}
const ratio = mean(results.heartline.map((r) => r.rss)) / mean(results.ws.map((r) => r.rss));
console.log(
  `heartline / ws RSS per idle connection at ${connections}: ${ratio.toFixed(2)}x (goal <= 1.25x)`,
);
