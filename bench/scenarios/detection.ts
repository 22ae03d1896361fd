/**
 * 4. Dead-link detection: blackhole trials through the fault proxy (research §A's method), every
 * trial of every variant concurrently in one worker, each with its own proxy. Client side: how
 * soon each library's client notices; server side: how soon the server drops a client whose
 * link died (a raw `ws` client, which answers pings as any client does).
 */
import { ms } from '../harness/format.js';
import { type ClientConfig, peer, type ServerConfig } from '../harness/peers.js';
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

/** A server dropping a dead client: its own process (server.mjs), its own heartbeat. */
interface ServerVariant {
  readonly id: string;
  readonly label: string;
  readonly server: ServerConfig & { readmeHeartbeat?: number };
  readonly bound: number;
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

const SERVER_VARIANTS: readonly ServerVariant[] = [
  {
    id: 'heartline-server',
    label: 'HeartlineServer, defaults (25 s + 10 s)',
    server: PLAIN.server,
    bound: 35_000,
    phase: 25_000,
  },
  {
    id: 'heartline-server-1s',
    label: 'HeartlineServer, 1 s + 1 s',
    server: { ...PLAIN.server, options: { heartbeat: ONE_SECOND } },
    bound: 2_000,
    phase: 1_000,
  },
  {
    id: 'ws-readme-1s',
    label: '`ws` README ping/terminate, 1 s',
    server: { kind: 'ws', readmeHeartbeat: 1_000 },
    bound: 2_000,
    phase: 1_000,
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
    const deadServers = await Promise.all(
      SERVER_VARIANTS.map((v) => startServer({ ...v.server, echo: false })),
    );
    // The server side cannot see the detection from the worker: it waits this long, then asks.
    const waitFor = (v: ServerVariant) => Math.min(cap, v.bound * 1.5 + 1_000);
    let results: Record<string, Outcome>;
    const serverTimes: Record<string, (number | null)[]> = {};
    try {
      const answer = await runWorker<
        Message & { results: Record<string, Outcome>; cuts: Record<string, number> }
      >(
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
          servers: SERVER_VARIANTS.map((v, i) => ({
            id: v.id,
            port: deadServers[i]!.port,
            phase: v.phase,
            wait: waitFor(v),
          })),
        },
        cap + 60_000,
        TSX,
      );
      results = answer.results;
      for (const [i, v] of SERVER_VARIANTS.entries()) {
        const server = deadServers[i]!.child;
        server.send({ type: 'closes' });
        const { times } = await server.next<Message & { times: Record<string, number> }>('closes');
        serverTimes[v.id] = Array.from({ length: trials }, (_, k) => {
          const tag = `${v.id}-${k}`;
          const cut = answer.cuts[tag];
          const closed = times[tag];
          if (cut === undefined || closed === undefined) return null;
          const t = closed - cut;
          return t >= 0 && t <= waitFor(v) ? t : null;
        });
      }
    } finally {
      for (const s of [...Object.values(servers), ...deadServers]) await s.child.stop();
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
    const serverRows = SERVER_VARIANTS.map((v) => {
      const [detected, first, p50, last, notes] = cells(serverTimes[v.id] ?? [], waitFor(v));
      return [v.label, detected!, first!, p50!, last!, ms(v.bound), notes!];
    });
    const round = (t: number | null) => (t === null ? null : Math.round(t));
    const raw = Object.fromEntries(
      Object.entries(results).map(([id, o]) => [id, { times: o.times.map(round), drops: o.drops }]),
    );
    const rawServer = Object.fromEntries(
      Object.entries(serverTimes).map(([id, times]) => [id, times.map(round)]),
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
        `pingInterval/pingTimeout shown). Cap: ${ms(cap)} after the cut. The server side (4b) ` +
        'runs in the same window: a raw `ws` client per trial, cut the same way; the time runs ' +
        'from the cut to the server closing that connection (its clock is the same ' +
        'CLOCK_MONOTONIC).',
      tables: [
        {
          columns: ['client', 'detected', 'min', 'p50', 'max', 'bound', 'notes'],
          rows,
        },
        {
          title: `4b. Server side: ${trials} dead \`ws\` clients per server`,
          columns: ['server', 'detected', 'min', 'p50', 'max', 'bound', 'notes'],
          rows: serverRows,
        },
      ],
      notes: [
        "socket.io's heartbeat is driven by the server (pingInterval/pingTimeout are server " +
          "options); the tuned row uses the same 1 s + 1 s budget as Heartline's.",
        "HeartlineServer's sweep checks at a tenth of the shorter of interval and timeout, so it " +
          'may add up to two such periods to the bound; the README recipe terminates on the ' +
          'first tick after a tick without a pong (between one and two intervals).',
        'reconnecting-websocket and partysocket have no heartbeat: they wait for a `close` that a ' +
          'blackholed link never delivers. Their trials ran in the same window as the others, so ' +
          `the ${ms(cap)} cap cost ${ms(cap)} once.`,
      ],
      targets,
      raw: { trials, cap, results: raw, server: rawServer },
    };
  },
};
