/**
 * Dead-link detection trials for bench/scenarios/detection.ts, every trial of every variant at
 * once so that a 60 s cap costs 60 s once, not per trial. Each trial has its own fault proxy
 * (test/support/fault-proxy.ts): the client connects through it, and at 1 s + a random phase of
 * its heartbeat cycle after open the proxy blackholes the link (both TCP sockets stay open,
 * nothing gets through, no FIN, no RST). The time from the cut to the library's own "link lost"
 * event (HeartlineSocket `drop`, socket.io `disconnect`, `close` for the wrappers) is recorded,
 * or `null` when the cap passed first.
 *
 * Server-side trials (`servers`) cut the link of a raw `ws` client in the same way; the server
 * (a bench/workers/server.mjs process) notes when it closed the connection tagged `?tag=` in the
 * URL, and the scenario takes the difference. The worker only keeps the client and its proxy
 * open for `wait` ms after the cut.
 *
 * Run by the orchestrator with tsx (the fault proxy is TypeScript, from test/support/):
 *   fork('detection.ts', [JSON.stringify({ variants, servers, trials, cap })],
 *        { execArgv: ['--import', 'tsx'] })
 *   → { type: 'result', results: { [id]: { times: (number | null)[], drops: string[] } },
 *       cuts: { [tag]: clock ms of the cut } }
 */
import { startFaultProxy } from '../../test/support/fault-proxy.js';
import { type BenchClient, openClient } from './clients.mjs';

interface Variant {
  id: string;
  kind: string;
  port: number;
  mode?: 'plain' | 'session';
  options?: object;
  /** ms of the heartbeat cycle the cut is spread over (capped at 10 s); 0 without a heartbeat. */
  phase: number;
}

interface ServerVariant {
  id: string;
  port: number;
  phase: number;
  /** ms to keep the cut link open, for the server to notice. */
  wait: number;
}

interface Config {
  variants: Variant[];
  servers: ServerVariant[];
  trials: number;
  cap: number;
}

const { variants, servers = [], trials, cap } = JSON.parse(process.argv[2]!) as Config;
const clock = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
process.on('disconnect', () => process.exit(0));

async function trial(v: Variant): Promise<{ time: number | null; why: string }> {
  const proxy = await startFaultProxy({ port: v.port });
  let cutAt = 0;
  let settle!: (r: { time: number | null; why: string }) => void;
  const detected = new Promise<{ time: number | null; why: string }>((r) => {
    settle = r;
  });
  let opened!: () => void;
  const open = new Promise<void>((r) => {
    opened = r;
  });
  const client: BenchClient = openClient(v.kind, proxy.url, {
    mode: v.mode,
    options: v.options ?? {},
    onOpen: () => opened(),
    onDrop: (why: string) => {
      if (cutAt > 0) settle({ time: clock() - cutAt, why });
    },
    onError: () => {},
  });
  try {
    await Promise.race([open, sleep(10_000)]);
    await sleep(1_000 + Math.random() * Math.min(v.phase, 10_000));
    proxy.blackhole();
    cutAt = clock();
    const timer = setTimeout(() => settle({ time: null, why: 'cap' }), cap);
    const result = await detected;
    clearTimeout(timer);
    return result;
  } finally {
    try {
      client.close();
    } catch {}
    await proxy.close();
  }
}

/** A raw `ws` client cut like the others; the server's side of the story is the server's. */
async function serverTrial(v: ServerVariant, tag: string): Promise<number> {
  const proxy = await startFaultProxy({ port: v.port });
  let opened!: () => void;
  const open = new Promise<void>((r) => {
    opened = r;
  });
  const client = openClient('ws', `${proxy.url}/?tag=${tag}`, {
    onOpen: () => opened(),
    onError: () => {},
  });
  try {
    await Promise.race([open, sleep(10_000)]);
    await sleep(1_000 + Math.random() * Math.min(v.phase, 10_000));
    proxy.blackhole();
    const cutAt = clock();
    await sleep(v.wait);
    return cutAt;
  } finally {
    client.close();
    await proxy.close();
  }
}

const results: Record<string, { times: (number | null)[]; drops: string[] }> = {};
const cuts: Record<string, number> = {};
await Promise.all([
  ...variants.map(async (v) => {
    const outcomes = await Promise.all(Array.from({ length: trials }, () => trial(v)));
    results[v.id] = { times: outcomes.map((o) => o.time), drops: outcomes.map((o) => o.why) };
  }),
  ...servers.flatMap((v) =>
    Array.from({ length: trials }, async (_, k) => {
      const tag = `${v.id}-${k}`;
      cuts[tag] = await serverTrial(v, tag);
    }),
  ),
]);
process.send?.({ type: 'result', results, cuts });
setTimeout(() => process.exit(0), 100);
