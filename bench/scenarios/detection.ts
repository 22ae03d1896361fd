/**
 * 4. Dead-link detection: blackhole trials through the fault proxy (research §A's method), every
 * trial of every variant concurrently in one worker, each with its own proxy.
 */
import { ms } from '../harness/format.js';
import { type Message, runWorker, startServer, TSX } from '../harness/processes.js';
import { max, min, percentile } from '../harness/stats.js';
import { type Context, PENDING, type Scenario, type ScenarioResult } from '../harness/types.js';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly kind: string;
  readonly server: 'echo' | 'socketio' | 'socketio-1s' | 'heartline-session';
  readonly mode?: 'plain' | 'session';
  readonly options?: object;
  /** interval + timeout: the bound a heartbeat promises, or 0 for none. */
  readonly bound: number;
  /** The heartbeat cycle the cut is spread over. */
  readonly phase: number;
  readonly session?: boolean;
}

const ONE_SECOND = { interval: 1_000, timeout: 1_000 };

const VARIANTS: readonly Variant[] = [
  {
    id: 'heartline',
    label: 'HeartlineSocket, defaults (10 s + 5 s)',
    kind: 'heartline',
    server: 'echo',
    mode: 'plain',
    bound: 15_000,
    phase: 10_000,
  },
  {
    id: 'heartline-1s',
    label: 'HeartlineSocket, 1 s + 1 s',
    kind: 'heartline',
    server: 'echo',
    mode: 'plain',
    options: { heartbeat: ONE_SECOND },
    bound: 2_000,
    phase: 1_000,
  },
  {
    id: 'heartline-session',
    label: 'HeartlineSocket session mode, defaults',
    kind: 'heartline',
    server: 'heartline-session',
    mode: 'session',
    bound: 15_000,
    phase: 10_000,
    session: true,
  },
  {
    id: 'socketio',
    label: 'socket.io-client, defaults (pingInterval 25 s + pingTimeout 20 s)',
    kind: 'socketio',
    server: 'socketio',
    bound: 45_000,
    phase: 25_000,
  },
  {
    id: 'socketio-1s',
    label: 'socket.io-client, tuned (pingInterval 1 s + pingTimeout 1 s)',
    kind: 'socketio',
    server: 'socketio-1s',
    bound: 2_000,
    phase: 1_000,
  },
  {
    id: 'rws',
    label: 'reconnecting-websocket, defaults',
    kind: 'rws',
    server: 'echo',
    bound: 0,
    phase: 0,
  },
  {
    id: 'partysocket',
    label: 'partysocket, defaults',
    kind: 'partysocket',
    server: 'echo',
    bound: 0,
    phase: 0,
  },
];

type Outcome = { times: (number | null)[]; drops: string[] };

export const detection: Scenario = {
  id: 'detection',
  title: '4. Dead-link detection',
  async run(ctx: Context): Promise<ScenarioResult> {
    const trials = ctx.quick ? 10 : 30;
    const cap = ctx.quick ? 12_000 : 60_000;
    const servers = {
      echo: await startServer({ kind: 'ws', pong: true }),
      socketio: await startServer({ kind: 'socketio' }),
      'socketio-1s': await startServer({
        kind: 'socketio',
        sio: { pingInterval: 1_000, pingTimeout: 1_000 },
      }),
      'heartline-session': ctx.caps.sessionWorks
        ? await startServer({ kind: 'heartline', mode: 'session' })
        : undefined,
    };
    const runnable = VARIANTS.filter((v) => !v.session || ctx.caps.sessionWorks);
    let results: Record<string, Outcome>;
    try {
      const answer = await runWorker<Message & { results: Record<string, Outcome> }>(
        'detection.ts',
        {
          trials,
          cap,
          variants: runnable.map((v) => ({
            id: v.id,
            kind: v.kind,
            mode: v.mode,
            options: v.options,
            phase: v.phase,
            port: servers[v.server]!.port,
          })),
        },
        cap + 60_000,
        TSX,
      );
      results = answer.results;
    } finally {
      for (const s of Object.values(servers)) await s?.child.stop();
    }
    const rows: string[][] = [];
    const targets = [];
    for (const v of VARIANTS) {
      const outcome = results[v.id];
      if (!outcome) {
        rows.push([v.label, PENDING, '', '', '', '', '']);
        continue;
      }
      const found = outcome.times.filter((t): t is number => t !== null);
      const missed = outcome.times.length - found.length;
      const never = found.length === 0;
      const capText = `not detected within ${ms(cap)}`;
      rows.push([
        v.label,
        `${found.length}/${outcome.times.length}`,
        never ? capText : ms(min(found)),
        never ? '–' : ms(percentile(found, 50)),
        never ? '–' : ms(max(found)),
        v.bound ? ms(v.bound) : 'none',
        missed && !never ? `${missed} not detected within ${ms(cap)}` : '',
      ]);
      if (v.kind === 'heartline' && v.bound) {
        const limit = v.bound * 1.1;
        const worst = missed > 0 ? Number.POSITIVE_INFINITY : max(found);
        targets.push({
          name: `detection max ≤ interval + timeout + 10 % (${v.label}: ≤ ${ms(limit)})`,
          value: missed > 0 ? `${missed} of ${trials} not detected` : ms(worst),
          met: worst <= limit,
        });
      }
    }
    if (!results['heartline-session']) {
      targets.push({
        name: 'detection max ≤ interval + timeout + 10 % (session mode)',
        value: PENDING,
        met: null,
      });
    }
    const raw = Object.fromEntries(
      Object.entries(results).map(([id, o]) => [
        id,
        { times: o.times.map((t) => (t === null ? null : Math.round(t))), drops: o.drops },
      ]),
    );
    return {
      id: 'detection',
      title: this.title,
      method:
        `${trials} trials per client, client → fault proxy → server, every trial with its own proxy ` +
        'and all of them at once (a quiet machine: the clients are idle). At 1 s after open plus ' +
        'a random phase of the heartbeat cycle (uniform over the interval, at most 10 s), the proxy ' +
        'blackholes the link: both TCP sockets stay open, bytes are read and discarded both ways, ' +
        'no FIN and no RST. The time runs from the cut to the library\'s own "link lost" event: ' +
        'HeartlineSocket `drop`, socket.io `disconnect`, `close` for the wrappers. The server is a ' +
        '`ws` echo server answering "ping" with "pong" (socket.io: a socket.io server with the ' +
        `pingInterval/pingTimeout shown). Cap: ${ms(cap)} after the cut.`,
      tables: [
        {
          columns: ['client', 'detected', 'min', 'p50', 'max', 'bound', 'notes'],
          rows,
        },
      ],
      notes: [
        "socket.io's heartbeat is driven by the server (pingInterval/pingTimeout are server " +
          "options); the tuned row uses the same 1 s + 1 s budget as Heartline's.",
        'reconnecting-websocket and partysocket have no heartbeat: they wait for a `close` that a ' +
          'blackholed link never delivers. Their trials ran in the same window as the others, so ' +
          `the ${ms(cap)} cap cost ${ms(cap)} once.`,
      ],
      targets,
      raw: { trials, cap, results: raw },
    };
  },
};
