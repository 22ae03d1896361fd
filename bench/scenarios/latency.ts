/**
 * 1b. Low-rate latency: one message at a time (send, wait for the echo, send the next), so that
 * nothing can be coalesced and every message pays the whole path. Coalescing must not cost this
 * case anything (issue 13). Interleaved rounds, fresh processes each, as in echo throughput.
 */
import { int, msFine, withSpread } from '../harness/format.js';
import { BASELINE, type Peer, peers, rowLabel } from '../harness/peers.js';
import { type Message, runWorker, startServer } from '../harness/processes.js';
import { type Spread, spread } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

const ROWS = peers('ws', 'ws-corked', 'heartline-plain', 'heartline-session');

/** Heartline p50 may exceed raw ws's by this much (issue 13). */
const SLACK_MS = 0.1;

type Result = Message & { p50: number; p90: number; p99: number; max: number; sessions: number };

async function latencyRound(p: Peer, count: number, warmup: number): Promise<Result> {
  const { child: server, port } = await startServer(p.server);
  try {
    return await runWorker<Result>(
      'echo-client.mjs',
      { ...p.client, url: `ws://127.0.0.1:${port}`, count, warmup },
      60_000,
    );
  } finally {
    await server.stop();
  }
}

const PERCENTILES = ['p50', 'p90', 'p99'] as const;

export const latency: Scenario = {
  id: 'latency',
  title: '1b. Low-rate latency',
  async run(ctx: Context): Promise<ScenarioResult> {
    const count = ctx.quick ? 2_000 : 10_000;
    const warmup = ctx.quick ? 200 : 1_000;
    const rounds = ctx.quick ? 2 : 5;
    const runs = new Map<string, Result[]>(ROWS.map((p) => [p.id, []]));
    const failures = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      for (const p of ROWS.map((_, i) => ROWS[(i + round) % ROWS.length]!)) {
        if (failures.has(p.id)) continue;
        try {
          const r = await latencyRound(p, count, warmup);
          if (p.session && r.sessions === 0) throw new Error('its links were not in session mode');
          runs.get(p.id)!.push(r);
          ctx.log(`  ${p.id} round ${round + 1}: p50 ${msFine(r.p50)}, p99 ${msFine(r.p99)}`);
        } catch (error) {
          failures.set(p.id, (error as Error).message);
          ctx.log(`  ${p.id} failed: ${(error as Error).message}`);
        }
      }
    }
    const summary = new Map<string, Record<(typeof PERCENTILES)[number], Spread>>();
    for (const p of ROWS) {
      if (failures.has(p.id)) continue;
      const rs = runs.get(p.id)!;
      summary.set(p.id, {
        p50: spread(rs.map((r) => r.p50)),
        p90: spread(rs.map((r) => r.p90)),
        p99: spread(rs.map((r) => r.p99)),
      });
    }
    const p50 = (id: string) => summary.get(id)?.p50.median ?? Number.NaN;
    const base = p50(BASELINE);
    const signed = (x: number) => (x >= 0 ? `+${msFine(x)}` : `−${msFine(-x)}`);
    const rows = ROWS.map((p) => {
      const s = summary.get(p.id);
      if (!s) return [rowLabel(p), `failed: ${failures.get(p.id)}`, '', '', ''];
      return [
        rowLabel(p),
        ...PERCENTILES.map((k) =>
          withSpread(s[k], msFine, { bold: k === 'p50', range: (x) => x.toFixed(3) }),
        ),
        signed(s.p50.median - base),
      ];
    });
    const targets: Target[] = (['heartline-plain', 'heartline-session'] as const).map((id) => {
      const failed = failures.get(id);
      const d = p50(id) - base;
      return {
        issue: 13,
        name: `low-rate p50 within ${SLACK_MS} ms of raw ws (${id === 'heartline-plain' ? 'plain' : 'session'})`,
        value: failed
          ? `failed: ${failed}`
          : `${signed(d)} (${msFine(p50(id))} vs ${msFine(base)})`,
        met: !failed && d <= SLACK_MS,
      };
    });
    return {
      id: 'latency',
      title: this.title,
      method:
        'One connection, one 32-byte text message at a time: the client sends, waits for the ' +
        `echo, and sends the next. ${int(warmup)} untimed round trips, then ${int(count)} timed ` +
        'ones (CLOCK_MONOTONIC in the client); the server in one process, the client in another. ' +
        `${rounds} rounds, interleaved, fresh processes each; each percentile is the median of ` +
        "the rounds' percentiles, with their min–max.",
      tables: [
        {
          columns: ['client + server', 'p50: median (min–max)', 'p90', 'p99', 'p50 − raw ws'],
          rows,
        },
      ],
      notes: [
        'With one message in flight there is nothing to coalesce: a per-turn cork costs this ' +
          'case at most the wait for `process.nextTick`, which the ceiling row shows.',
      ],
      targets,
      raw: {
        count,
        warmup,
        rounds,
        variants: Object.fromEntries(
          ROWS.map((p) => [
            p.id,
            failures.has(p.id)
              ? { failed: failures.get(p.id) }
              : runs.get(p.id)!.map(({ p50, p90, p99, max }) => ({ p50, p90, p99, max })),
          ]),
        ),
      },
    };
  },
};
