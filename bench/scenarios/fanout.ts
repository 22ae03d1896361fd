/**
 * 2. Fan-out: one broadcast to every connection of a room; the time until each client has it,
 * measured with a clock every process of the machine shares. Clients in another process.
 */
import { int, ms, ratio } from '../harness/format.js';
import { type Peer, type PeerId, peer } from '../harness/peers.js';
import { Child, type Message, startServer } from '../harness/processes.js';
import { max, median, percentile } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

/** A row: a peer of harness/peers.ts, labelled by how its server fans out. */
interface Row {
  readonly peer: Peer;
  readonly label: string;
  /** Issue 13: at the largest size, "all" no worse than the `ws` loop. */
  readonly goal?: string;
}

const row = (id: PeerId, label: string, goal?: string): Row => ({ peer: peer(id), label, goal });

const ROWS: readonly Row[] = [
  row('ws', '`ws` loop over `wss.clients` (`ws` clients)'),
  row('heartline-server', 'Heartline `server.to(room).send()` (`ws` clients)', 'plain'),
  row('heartline-plain', 'Heartline rooms, HeartlineSocket clients (plain) *(attribution)*'),
  row('heartline-session', 'Heartline rooms, session mode (HeartlineSocket clients)', 'session'),
  row('socketio', 'socket.io `io.to(room).emit()` (socket.io-client, websocket)'),
];

interface Measured {
  latencies: number[];
  /** Per round: the time until the last client had it. */
  all: number[];
  /** Per round: how long the server's broadcast call itself took (the synchronous part). */
  sync: number[];
  sessions: number;
}

async function measure(p: Peer, count: number, rounds: number): Promise<Measured> {
  const { child: server, port } = await startServer({ ...p.server, room: true, echo: false });
  const swarm = new Child('swarm.mjs', [
    JSON.stringify({ ...p.client, url: `ws://127.0.0.1:${port}`, count }),
  ]);
  try {
    const ready = await swarm.next<Message & { open: number; sessions: number }>('ready', 120_000);
    if (ready.open !== count) throw new Error(`only ${ready.open} of ${count} clients opened`);
    const latencies: number[] = [];
    const all: number[] = [];
    const sync: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.send({ type: 'broadcast' });
      const sent = await server.next<Message & { syncMs: number }>('broadcast', 30_000);
      sync.push(sent.syncMs);
      let round: Message & { latencies: number[] };
      try {
        round = await swarm.next('round', 30_000);
      } catch {
        swarm.send({ type: 'collect' });
        round = await swarm.next('round', 5_000);
        throw new Error(
          `round ${r + 1}: only ${round.latencies.length} of ${count} clients got it`,
        );
      }
      latencies.push(...round.latencies);
      all.push(max(round.latencies));
    }
    return { latencies, all, sync, sessions: ready.sessions };
  } finally {
    await swarm.stop(5_000);
    await server.stop();
  }
}

export const fanout: Scenario = {
  id: 'fanout',
  title: '2. Fan-out',
  async run(ctx: Context): Promise<ScenarioResult> {
    const sizes = ctx.quick ? [500] : [1_000, 5_000];
    const rounds = ctx.quick ? 3 : 5;
    const rows: string[][] = [];
    const raw: Record<string, unknown> = {};
    const targets: Target[] = [];
    const largest = sizes.at(-1)!;
    for (const size of sizes) {
      let base = Number.NaN;
      for (const { peer: p, label, goal } of ROWS) {
        const id = p.id;
        const target = (value: string, met: boolean) => {
          if (goal && size === largest) {
            targets.push({
              issue: 13,
              name: `fan-out to ${int(size)} no worse than the \`ws\` loop (${goal}: time until all have it)`,
              value,
              met,
            });
          }
        };
        try {
          const m = await measure(p, size, rounds);
          if (p.session && m.sessions === 0) throw new Error('its links were not in session mode');
          const allMedian = median(m.all);
          if (id === 'ws') base = allMedian;
          target(`${ratio(allMedian / base)} (${ms(allMedian)} vs ${ms(base)})`, allMedian <= base);
          raw[`${id}@${size}`] = {
            p50: percentile(m.latencies, 50),
            p99: percentile(m.latencies, 99),
            allPerRound: m.all,
            syncPerRound: m.sync,
          };
          rows.push([
            int(size),
            label,
            ms(percentile(m.latencies, 50)),
            ms(percentile(m.latencies, 99)),
            ms(allMedian),
            ratio(allMedian / base),
            ms(median(m.sync)),
          ]);
          ctx.log(`  ${id} @${size}: all in ${ms(allMedian)}`);
        } catch (error) {
          rows.push([int(size), label, `failed: ${(error as Error).message}`, '', '', '', '']);
          raw[`${id}@${size}`] = { failed: (error as Error).message };
          target(`failed: ${(error as Error).message}`, false);
          ctx.log(`  ${id} @${size} failed: ${(error as Error).message}`);
        }
      }
    }
    return {
      id: 'fanout',
      title: this.title,
      method:
        'N clients in one process, the server in another, every client in one room. The server ' +
        'stamps each broadcast with CLOCK_MONOTONIC (shared by all processes of the machine); ' +
        `each client records its arrival. ${rounds} broadcasts, 300 ms apart; p50 and p99 over ` +
        'all arrivals, "all" = the median over the rounds of the time until the last client had ' +
        'it. The time includes the client process reading N sockets one after another. "Server ' +
        'call" is how long the broadcast call itself ran in the server (median over the rounds).',
      tables: [
        {
          columns: [
            'connections',
            'server: fan-out',
            'p50',
            'p99',
            'all',
            '× ws loop (all)',
            'server call (sync)',
          ],
          rows,
        },
      ],
      notes: [
        "Both Heartline rows use rooms (`client.join('all')`, `server.to('all').send(text)`); " +
          'the `ws` row is the usual `for (const c of wss.clients) c.send(text)`.',
      ],
      targets,
      raw: { sizes, rounds, variants: raw },
    };
  },
};
