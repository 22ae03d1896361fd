/**
 * 1b. Low-rate latency: one message at a time (send, wait for the echo, send the next), so that
 * nothing can be coalesced and every message pays the whole path. Coalescing must not cost this
 * case anything (issue 13). Interleaved rounds, fresh processes each, as in echo throughput.
 * The same run times request round trips (issue 14): Heartline's `request()` next to socket.io's
 * `emitWithAck()`.
 */
import { int, msFine, withSpread } from '../harness/format.js';
import { BASELINE, type Peer, peer, peers, rowLabel } from '../harness/peers.js';
import { type Message, runWorker, startServer } from '../harness/processes.js';
import { type Spread, spread } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

/** One measured row: a peer, sending messages (echoed) or requests (answered). */
interface Row {
  readonly id: string;
  readonly label: string;
  readonly peer: Peer;
  readonly request: boolean;
}

const MESSAGE_ROWS: Row[] = peers('ws', 'ws-corked', 'heartline-plain', 'heartline-session').map(
  (p) => ({ id: p.id, label: rowLabel(p), peer: p, request: false }),
);
/** Issue 14: request round trips, next to socket.io's acknowledgements in the same run. */
const REQUEST_ROWS: Row[] = [
  {
    id: 'heartline-request',
    label: "Heartline session: `ws.request()` answered by `client.on('request')`",
    peer: peer('heartline-session'),
    request: true,
  },
  {
    id: 'socketio-request',
    label: 'socket.io: `socket.emitWithAck()` answered by its ack callback',
    peer: peer('socketio'),
    request: true,
  },
];
const ROWS = [...MESSAGE_ROWS, ...REQUEST_ROWS];

/** Heartline p50 may exceed raw ws's by this much (issue 13). */
const SLACK_MS = 0.1;

type Result = Message & { p50: number; p90: number; p99: number; max: number; sessions: number };

async function latencyRound(row: Row, count: number, warmup: number): Promise<Result> {
  const p = row.peer;
  const { child: server, port } = await startServer(p.server);
  try {
    return await runWorker<Result>(
      'echo-client.mjs',
      { ...p.client, url: `ws://127.0.0.1:${port}`, count, warmup, request: row.request },
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
    const runs = new Map<string, Result[]>(ROWS.map((r) => [r.id, []]));
    const failures = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      for (const row of ROWS.map((_, i) => ROWS[(i + round) % ROWS.length]!)) {
        if (failures.has(row.id)) continue;
        try {
          const r = await latencyRound(row, count, warmup);
          if (row.peer.session && r.sessions === 0)
            throw new Error('its links were not in session mode');
          runs.get(row.id)!.push(r);
          ctx.log(`  ${row.id} round ${round + 1}: p50 ${msFine(r.p50)}, p99 ${msFine(r.p99)}`);
        } catch (error) {
          failures.set(row.id, (error as Error).message);
          ctx.log(`  ${row.id} failed: ${(error as Error).message}`);
        }
      }
    }
    const summary = new Map<string, Record<(typeof PERCENTILES)[number], Spread>>();
    for (const row of ROWS) {
      if (failures.has(row.id)) continue;
      const rs = runs.get(row.id)!;
      summary.set(row.id, {
        p50: spread(rs.map((r) => r.p50)),
        p90: spread(rs.map((r) => r.p90)),
        p99: spread(rs.map((r) => r.p99)),
      });
    }
    const p50 = (id: string) => summary.get(id)?.p50.median ?? Number.NaN;
    const signed = (x: number) => (x >= 0 ? `+${msFine(x)}` : `−${msFine(-x)}`);
    const tableOf = (rows: readonly Row[], base: string) =>
      rows.map((row) => {
        const s = summary.get(row.id);
        if (!s) return [row.label, `failed: ${failures.get(row.id)}`, '', '', ''];
        return [
          row.label,
          ...PERCENTILES.map((k) =>
            withSpread(s[k], msFine, { bold: k === 'p50', range: (x) => x.toFixed(3) }),
          ),
          signed(s.p50.median - p50(base)),
        ];
      });
    const base = p50(BASELINE);
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
    const requestFailed = failures.get('heartline-request') ?? failures.get('socketio-request');
    targets.push({
      issue: 14,
      name: "request round-trip p50 no slower than socket.io's emitWithAck",
      value: requestFailed
        ? `failed: ${requestFailed}`
        : `${msFine(p50('heartline-request'))} vs ${msFine(p50('socketio-request'))} (p99 ${msFine(summary.get('heartline-request')!.p99.median)} vs ${msFine(summary.get('socketio-request')!.p99.median)})`,
      met: !requestFailed && p50('heartline-request') <= p50('socketio-request'),
    });
    return {
      id: 'latency',
      title: this.title,
      method:
        'One connection, one 32-byte text message at a time: the client sends, waits for the ' +
        `echo, and sends the next. ${int(warmup)} untimed round trips, then ${int(count)} timed ` +
        'ones (CLOCK_MONOTONIC in the client); the server in one process, the client in another. ' +
        `${rounds} rounds, interleaved, fresh processes each; each percentile is the median of ` +
        "the rounds' percentiles, with their min–max. The request rows (issue 14) time a " +
        "request answered with its data instead: Heartline's `request()` in session mode, and " +
        "socket.io's `emitWithAck()` with the server answering through its ack callback.",
      tables: [
        {
          columns: ['client + server', 'p50: median (min–max)', 'p90', 'p99', 'p50 − raw ws'],
          rows: tableOf(MESSAGE_ROWS, BASELINE),
        },
        {
          title: 'Request round trip (issue 14): a request, answered with its data',
          columns: [
            'requester + responder',
            'p50: median (min–max)',
            'p90',
            'p99',
            'p50 − socket.io',
          ],
          rows: tableOf(REQUEST_ROWS, 'socketio-request'),
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
          ROWS.map((row) => [
            row.id,
            failures.has(row.id)
              ? { failed: failures.get(row.id) }
              : runs.get(row.id)!.map(({ p50, p90, p99, max }) => ({ p50, p90, p99, max })),
          ]),
        ),
      },
    };
  },
};
