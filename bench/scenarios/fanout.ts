/**
 * 2. Fan-out: one broadcast to every connection of a room; the time until each client has it,
 * measured with a clock every process of the machine shares. Clients in another process.
 */
import { int, ms, ratio } from '../harness/format.js';
import { Child, type Message, startServer } from '../harness/processes.js';
import { max, median, percentile } from '../harness/stats.js';
import { type Context, PENDING, type Scenario, type ScenarioResult } from '../harness/types.js';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly server: object;
  readonly client: { kind: string; mode?: 'plain' | 'session' };
  readonly session?: boolean;
  readonly extra?: boolean;
}

const VARIANTS: readonly Variant[] = [
  {
    id: 'ws',
    label: '`ws` loop over `wss.clients` (`ws` clients)',
    server: { kind: 'ws', echo: false },
    client: { kind: 'ws' },
  },
  {
    id: 'heartline-plain',
    label: 'Heartline `server.to(room).send()` (`ws` clients)',
    server: { kind: 'heartline', mode: 'plain', room: true, echo: false },
    client: { kind: 'ws' },
  },
  {
    id: 'heartline-plain-sockets',
    label: 'Heartline rooms, HeartlineSocket clients (plain)',
    server: { kind: 'heartline', mode: 'plain', room: true, echo: false },
    client: { kind: 'heartline', mode: 'plain' },
    extra: true,
  },
  {
    id: 'heartline-session',
    label: 'Heartline rooms, session mode (HeartlineSocket clients)',
    server: { kind: 'heartline', mode: 'session', room: true, echo: false },
    client: { kind: 'heartline', mode: 'session' },
    session: true,
  },
  {
    id: 'socketio',
    label: 'socket.io `io.to(room).emit()` (socket.io-client, websocket)',
    server: { kind: 'socketio', room: true, echo: false },
    client: { kind: 'socketio' },
  },
];

interface Measured {
  latencies: number[];
  /** Per round: the time until the last client had it. */
  all: number[];
  /** Per round: how long the server's broadcast call itself took (the synchronous part). */
  sync: number[];
  sessions: number;
}

async function measure(v: Variant, count: number, rounds: number): Promise<Measured> {
  const { child: server, port } = await startServer(v.server);
  const swarm = new Child('swarm.mjs', [
    JSON.stringify({ ...v.client, url: `ws://127.0.0.1:${port}`, count }),
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
    for (const size of sizes) {
      let base = Number.NaN;
      for (const v of VARIANTS) {
        const label = `${v.extra ? `${v.label} *(attribution)*` : v.label}`;
        if (v.session && !ctx.caps.sessionWorks) {
          rows.push([int(size), label, PENDING, '', '', '', '']);
          raw[`${v.id}@${size}`] = { pending: true };
          continue;
        }
        try {
          const m = await measure(v, size, rounds);
          if (v.session && m.sessions === 0) {
            rows.push([int(size), label, PENDING, '', '', '', '']);
            raw[`${v.id}@${size}`] = { pending: true };
            continue;
          }
          const allMedian = median(m.all);
          if (v.id === 'ws') base = allMedian;
          raw[`${v.id}@${size}`] = {
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
          ctx.log(`  ${v.id} @${size}: all in ${ms(allMedian)}`);
        } catch (error) {
          rows.push([int(size), label, `failed: ${(error as Error).message}`, '', '', '', '']);
          raw[`${v.id}@${size}`] = { failed: (error as Error).message };
          ctx.log(`  ${v.id} @${size} failed: ${(error as Error).message}`);
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
      targets: [],
      raw: { sizes, rounds, variants: raw },
    };
  },
};
