/**
 * 1. Echo throughput: one connection, 32-byte text messages round trip with at most 1,000 in
 * flight; the server in one process, the client in another. Every peer of harness/peers.ts,
 * in interleaved rounds (the order rotates each round, so drift of the machine hits every row
 * alike); each figure is the median of the rounds with their spread. CPU per message comes from
 * each process's own `process.cpuUsage()`, which other work on the machine disturbs far less
 * than msgs/s.
 */
import { fixed, int, ratio, withSpread } from '../harness/format.js';
import { BASELINE, CEILING, PEERS, type Peer, rowLabel } from '../harness/peers.js';
import { Child, type Message, startServer } from '../harness/processes.js';
import { type Spread, spread } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

/** One round of one peer: msgs/s and CPU µs per message, over the measured window. */
export interface Round {
  rate: number;
  clientCpu: number;
  serverCpu: number;
  sessions: number;
}

type Mark = Message & { at: number; received: number; cpuMs: number; sessions: number };
type CpuTotal = Message & { ms: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the client's counters and the server's CPU at (nearly) the same moment. */
function mark(client: Child, server: Child): Promise<[Mark, CpuTotal]> {
  client.send({ type: 'mark' });
  server.send({ type: 'cpu-total' });
  return Promise.all([
    client.next<Mark>('mark', 10_000),
    server.next<CpuTotal>('cpu-total', 10_000),
  ]);
}

/** What bench/profile.ts does around the measured window (it starts and stops its profilers). */
export interface RoundHooks {
  /** After the warm-up, just before the first mark. */
  start?(client: Child, server: Child): Promise<void>;
  /** Just after the second mark. */
  stop?(client: Child, server: Child): Promise<void>;
}

/** Fresh processes for one round: warm up, then measure a window between two marks. */
export async function echoRound(
  p: Peer,
  flight: number,
  warmupMs: number,
  windowMs: number,
  hooks: RoundHooks = {},
): Promise<Round> {
  const { child: server, port } = await startServer(p.server);
  const client = new Child('echo-client.mjs', [
    JSON.stringify({ ...p.client, url: `ws://127.0.0.1:${port}`, window: flight }),
  ]);
  try {
    await client.next('open', 30_000);
    await sleep(warmupMs);
    await hooks.start?.(client, server);
    const [c0, s0] = await mark(client, server);
    await sleep(windowMs);
    const [c1, s1] = await mark(client, server);
    await hooks.stop?.(client, server);
    const n = c1.received - c0.received;
    if (n <= 0) throw new Error(`no echo within the ${windowMs} ms window`);
    return {
      rate: (n / (c1.at - c0.at)) * 1000,
      clientCpu: ((c1.cpuMs - c0.cpuMs) * 1000) / n,
      serverCpu: ((s1.ms - s0.ms) * 1000) / n,
      sessions: c1.sessions,
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}

interface Summary {
  rate: Spread;
  clientCpu: Spread;
  serverCpu: Spread;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export const throughput: Scenario = {
  id: 'throughput',
  title: '1. Echo throughput',
  async run(ctx: Context): Promise<ScenarioResult> {
    const flight = 1_000;
    const rounds = ctx.quick ? 2 : 5;
    const warmupMs = ctx.quick ? 200 : 500;
    const windowMs = ctx.quick ? 500 : 2_000;
    const runs = new Map<string, Round[]>(PEERS.map((p) => [p.id, []]));
    const failures = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      const order = PEERS.map((_, i) => PEERS[(i + round) % PEERS.length]!);
      for (const p of order) {
        if (failures.has(p.id)) continue;
        try {
          const r = await echoRound(p, flight, warmupMs, windowMs);
          // A session row whose links were not in session mode measured plain mode.
          if (p.session && r.sessions === 0) throw new Error('its links were not in session mode');
          runs.get(p.id)!.push(r);
          ctx.log(
            `  ${p.id} round ${round + 1}: ${int(r.rate)} msgs/s, ${fixed(r.clientCpu, 2)} / ${fixed(r.serverCpu, 2)} µs CPU per message`,
          );
        } catch (error) {
          failures.set(p.id, (error as Error).message);
          ctx.log(`  ${p.id} failed: ${(error as Error).message}`);
        }
      }
    }
    const summaries = new Map<string, Summary>();
    for (const p of PEERS) {
      const rs = runs.get(p.id)!;
      if (failures.has(p.id)) continue;
      summaries.set(p.id, {
        rate: spread(rs.map((r) => r.rate)),
        clientCpu: spread(rs.map((r) => r.clientCpu)),
        serverCpu: spread(rs.map((r) => r.serverCpu)),
      });
    }
    const rate = (id: string) => summaries.get(id)?.rate.median ?? Number.NaN;
    const cpu = (id: string) => {
      const s = summaries.get(id);
      return s ? s.clientCpu.median + s.serverCpu.median : Number.NaN;
    };
    const base = rate(BASELINE);
    const ceiling = rate(CEILING);
    const rows = PEERS.map((p) => {
      const s = summaries.get(p.id);
      if (!s) return [rowLabel(p), `failed: ${failures.get(p.id)}`, '', '', '', ''];
      return [
        rowLabel(p),
        withSpread(s.rate, int, { bold: true }),
        ratio(s.rate.median / base),
        ratio(s.rate.median / ceiling),
        withSpread(s.clientCpu, (x) => fixed(x, 2)),
        withSpread(s.serverCpu, (x) => fixed(x, 2)),
      ];
    });

    // Issue 13: coalescing must bring Heartline near the corked ceiling.
    const goal = (id: string, name: string, against: string, bound: number, strict = false) => {
      const x = rate(id) / rate(against);
      const failed = failures.get(id);
      const value = failed
        ? `failed: ${failed}`
        : `${ratio(x)} (${int(rate(id))} vs ${int(rate(against))} msgs/s; CPU per message, client + server, ` +
          `${fixed(cpu(id), 2)} vs ${fixed(cpu(against), 2)} µs)`;
      return {
        issue: 13,
        name,
        value,
        met: !failed && (strict ? x > bound : x >= bound),
      } satisfies Target;
    };
    const targets: Target[] = [
      goal('heartline-plain', 'plain echo ≥ 3.5× raw ws msgs/s', BASELINE, 3.5),
      goal('heartline-plain', 'plain echo ≥ 0.85× the corked ceiling', CEILING, 0.85),
      goal('heartline-session', 'session echo ≥ 3× raw ws msgs/s', BASELINE, 3),
      goal('heartline-session', 'session echo > the corked ceiling', CEILING, 1, true),
    ];
    return {
      id: 'throughput',
      title: this.title,
      method:
        `One connection sends text messages of 32 bytes, at most ${int(flight)} in flight, and ` +
        'the server echoes each; the server runs in one process and the client in another ' +
        `(loopback). Each round starts both afresh, lets them run ${warmupMs} ms, then counts the ` +
        `echoes of the next ${windowMs / 1000} s. ${rounds} rounds, interleaved (the order ` +
        'rotates each round); every figure is the median of the rounds, with their min–max. CPU ' +
        "µs per message is each process's own `process.cpuUsage()` (user + system) over the " +
        'window divided by the messages echoed in it; it varies less than msgs/s when other ' +
        'work shares the machine. The ceiling is raw `ws` with the writes of one event-loop ' +
        'turn corked on both ends (uncorked on `process.nextTick`), same wire format. Rows ' +
        'marked *(attribution)* pair one Heartline end with a raw `ws` end, to tell client cost ' +
        'from server cost.',
      tables: [
        {
          columns: [
            'client + server',
            'msgs/s: median (min–max)',
            '× raw ws',
            '× ceiling',
            'client CPU µs / msg',
            'server CPU µs / msg',
          ],
          rows,
        },
      ],
      notes: [
        "socket.io runs with `transports: ['websocket']` on both ends (the research measured it " +
          'after the upgrade from polling; the steady state is the same transport).',
        "The HeartlineServer echo handler is `client.on('message', (data) => client.send(data))`: " +
          'text arrives as a string and is encoded again on send, as in any app.',
        'The ceiling wraps `send`: the first send of a turn calls `ws._socket.cork()` and ' +
          "schedules `uncork()` on `process.nextTick` (bench/workers/lib.mjs `corkedSend`); ws's " +
          'own per-frame cork/uncork nests inside it.',
      ],
      targets,
      raw: {
        flight,
        rounds,
        warmupMs,
        windowMs,
        variants: Object.fromEntries(
          PEERS.map((p) => [
            p.id,
            failures.has(p.id)
              ? { failed: failures.get(p.id) }
              : {
                  rates: runs.get(p.id)!.map((r) => Math.round(r.rate)),
                  clientCpuMicros: runs.get(p.id)!.map((r) => round2(r.clientCpu)),
                  serverCpuMicros: runs.get(p.id)!.map((r) => round2(r.serverCpu)),
                  median: Math.round(rate(p.id)),
                },
          ]),
        ),
      },
    };
  },
};
