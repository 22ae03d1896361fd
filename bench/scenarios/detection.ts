/**
 * 4. Dead-link detection: blackhole trials through the fault proxy (research §A's method), every
 * trial of every variant concurrently in one worker, each with its own proxy.
 */
import { ms } from '../harness/format.js';
import { type ClientConfig, peer } from '../harness/peers.js';
import { type Message, runWorker, startServer, TSX } from '../harness/processes.js';
import { max, min, percentile } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

type ServerName = 'echo' | 'socketio' | 'socketio-1s' | 'heartline-session';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly client: ClientConfig;
  readonly server: ServerName;
  /** interval + timeout: the bound a heartbeat promises, or 0 for none. */
  readonly bound: number;
  /** The heartbeat cycle the cut is spread over. */
  readonly phase: number;
}

const ONE_SECOND = { interval: 1_000, timeout: 1_000 };
const PLAIN = peer('heartline-plain');

const SERVERS: Record<ServerName, object> = {
  echo: { kind: 'ws', pong: true },
  socketio: peer('socketio').server,
  'socketio-1s': { ...peer('socketio').server, sio: { pingInterval: 1_000, pingTimeout: 1_000 } },
  'heartline-session': peer('heartline-session').server,
};

const VARIANTS: readonly Variant[] = [
  {
    id: 'heartline',
    label: 'HeartlineSocket, defaults (10 s + 5 s)',
    client: PLAIN.client,
    server: 'echo',
    bound: 15_000,
    phase: 10_000,
  },
  {
    id: 'heartline-1s',
    label: 'HeartlineSocket, 1 s + 1 s',
    client: { ...PLAIN.client, options: { heartbeat: ONE_SECOND } },
    server: 'echo',
    bound: 2_000,
    phase: 1_000,
  },
  {
    id: 'heartline-session',
    label: 'HeartlineSocket session mode, defaults',
    client: peer('heartline-session').client,
    server: 'heartline-session',
    bound: 15_000,
    phase: 10_000,
  },
  {
    id: 'socketio',
    label: 'socket.io-client, defaults (pingInterval 25 s + pingTimeout 20 s)',
    client: peer('socketio').client,
    server: 'socketio',
    bound: 45_000,
    phase: 25_000,
  },
  {
    id: 'socketio-1s',
    label: 'socket.io-client, tuned (pingInterval 1 s + pingTimeout 1 s)',
    client: peer('socketio').client,
    server: 'socketio-1s',
    bound: 2_000,
    phase: 1_000,
  },
  {
    id: 'rws',
    label: 'reconnecting-websocket, defaults',
    client: peer('rws').client,
    server: 'echo',
    bound: 0,
    phase: 0,
  },
  {
    id: 'partysocket',
    label: 'partysocket, defaults',
    client: peer('partysocket').client,
    server: 'echo',
    bound: 0,
    phase: 0,
  },
];

type Outcome = { times: (number | null)[]; drops: string[] };

/** min, p50, max and how many were not detected, as table cells. */
function cells(times: (number | null)[], cap: number): string[] {
  const found = times.filter((t): t is number => t !== null);
  const missed = times.length - found.length;
  const never = found.length === 0;
  return [
    `${found.length}/${times.length}`,
    never ? `not detected within ${ms(cap)}` : ms(min(found)),
    never ? '–' : ms(percentile(found, 50)),
    never ? '–' : ms(max(found)),
    missed && !never ? `${missed} not detected within ${ms(cap)}` : '',
  ];
}

export const detection: Scenario = {
  id: 'detection',
  title: '4. Dead-link detection',
  async run(ctx: Context): Promise<ScenarioResult> {
    const trials = ctx.quick ? 10 : 30;
    const cap = ctx.quick ? 12_000 : 60_000;
    const servers = Object.fromEntries(
      await Promise.all(
        Object.entries(SERVERS).map(async ([name, config]) => [name, await startServer(config)]),
      ),
    ) as Record<ServerName, Awaited<ReturnType<typeof startServer>>>;
    let results: Record<string, Outcome>;
    try {
      const answer = await runWorker<Message & { results: Record<string, Outcome> }>(
        'detection.ts',
        {
          trials,
          cap,
          variants: VARIANTS.map((v) => ({
            id: v.id,
            ...v.client,
            phase: v.phase,
            port: servers[v.server].port,
          })),
        },
        cap + 60_000,
        TSX,
      );
      results = answer.results;
    } finally {
      for (const s of Object.values(servers)) await s.child.stop();
    }
    const rows: string[][] = [];
    const targets: Target[] = [];
    for (const v of VARIANTS) {
      const outcome = results[v.id];
      if (!outcome) {
        rows.push([v.label, 'failed: no result', '', '', '', '', '']);
        continue;
      }
      const [detected, first, p50, last, notes] = cells(outcome.times, cap);
      rows.push([v.label, detected!, first!, p50!, last!, v.bound ? ms(v.bound) : 'none', notes!]);
      if (v.client.kind === 'heartline' && v.bound) {
        const found = outcome.times.filter((t): t is number => t !== null);
        const missed = outcome.times.length - found.length;
        const limit = v.bound * 1.1;
        const worst = missed > 0 ? Number.POSITIVE_INFINITY : max(found);
        targets.push({
          issue: 6,
          name: `detection max ≤ interval + timeout + 10 % (${v.label}: ≤ ${ms(limit)})`,
          value: missed > 0 ? `${missed} of ${trials} not detected` : ms(worst),
          met: worst <= limit,
        });
      }
    }
    const round = (t: number | null) => (t === null ? null : Math.round(t));
    const raw = Object.fromEntries(
      Object.entries(results).map(([id, o]) => [id, { times: o.times.map(round), drops: o.drops }]),
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
