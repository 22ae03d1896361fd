/**
 * 7. Cluster over Redis: two server processes of one library share a real redis-server (started
 * here, no persistence, unix socket); 10 clients on each node, in a process of their own per
 * node. Node 0 broadcasts to everyone; the clients of node 1 count what crossed Redis.
 *
 *   (a) throughput: a burst of 50,000 broadcasts of 100 B, as fast as node 0 can send them
 *   (b) latency: 5,000 broadcasts/s for 3 s, p50/p99 from send to arrival on node 1
 *   (c) loss under a burst: (a) with the streams adapter at its default MAXLEN (10,000)
 *   (d) loss under churn: 200/s while node 1 restarts (SIGTERM, then up again on its port;
 *       its clients reconnect by themselves), and while Redis is SIGKILLed and restarted
 *       empty 1 s later
 *
 * Every server is a server factory (test/support/cluster.ts) under bench/workers/, started by
 * the test cluster harness, and takes `{ redisUrl, prefix }` plus its own options, so another
 * library is one more entry of VARIANTS. Heartline's (`cluster-heartline.mjs`, on
 * `heartline/redis`) is listed and reported as pending until that file exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type ClusterNode, startCluster } from '../../test/support/cluster.js';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { fixed, int, ms } from '../harness/format.js';
import { Child, type Message, runWorker, workerPath } from '../harness/processes.js';
import { median, percentile } from '../harness/stats.js';
import type { Context, Scenario, ScenarioResult, Table } from '../harness/types.js';

type Phase = 'throughput' | 'latency' | 'churn' | 'outage';

export interface ClusterVariant {
  readonly id: string;
  readonly label: string;
  /** A server factory module in bench/workers/ (see test/support/cluster.ts). */
  readonly factory: string;
  /** Factory options besides `{ redisUrl, prefix }`, which every variant gets. */
  readonly options: object;
  /** What the clients are (workers/clients.mjs `openClient` kinds). */
  readonly client: { kind: string; mode?: 'plain' | 'session' };
  readonly phases: readonly Phase[];
  /** What must exist before the row can run, named in its pending cells. */
  readonly pendingUntil?: string;
}

export const CLUSTER_VARIANTS: readonly ClusterVariant[] = [
  {
    id: 'socketio-pubsub',
    label: 'socket.io + `@socket.io/redis-adapter` (pub/sub)',
    factory: 'cluster-socketio.mjs',
    options: { adapter: 'pubsub' },
    client: { kind: 'socketio' },
    phases: ['throughput', 'latency', 'churn', 'outage'],
  },
  {
    id: 'socketio-streams',
    label:
      'socket.io + `@socket.io/redis-streams-adapter`, `maxLen` 100,000, connection state recovery',
    factory: 'cluster-socketio.mjs',
    options: { adapter: 'streams', maxLen: 100_000, recovery: true },
    client: { kind: 'socketio' },
    phases: ['throughput', 'latency', 'churn', 'outage'],
  },
  {
    id: 'socketio-streams-default',
    label: 'socket.io + `@socket.io/redis-streams-adapter`, default `maxLen` (10,000)',
    factory: 'cluster-socketio.mjs',
    options: { adapter: 'streams' },
    client: { kind: 'socketio' },
    phases: ['throughput'],
  },
  {
    id: 'heartline',
    label: 'Heartline session mode + `heartline/redis`',
    factory: 'cluster-heartline.mjs',
    // Bounds sized for the run, as the streams adapter's maxLen 100,000 row: a 50,000 burst.
    options: { maxPending: { messages: 100_000, bytes: 64 * 1024 * 1024 } },
    client: { kind: 'heartline', mode: 'session' },
    phases: ['throughput', 'latency', 'churn', 'outage'],
  },
];

export interface Settings {
  clientsPerNode: number;
  burst: number;
  latencyRate: number;
  latencyCount: number;
  /** Paced broadcasts per second during the churn and outage phases. */
  churnRate: number;
  churnCount: number;
  /** ms into the churn phase when node 1 restarts. */
  churnAt: number;
  outageCount: number;
  /** ms into the outage phase when Redis is killed; it stays down `outageFor` ms. */
  outageAt: number;
  outageFor: number;
  /** A phase ends when every client has everything, or nothing arrived for this long. */
  quietMs: number;
  /**
   * The same after a fault (churn, outage): long enough for the clients' and the Redis
   * clients' reconnect backoff, so that what is counted lost never came, not came late.
   */
  settleMs: number;
}

export const FULL: Settings = {
  clientsPerNode: 10,
  burst: 50_000,
  latencyRate: 5_000,
  latencyCount: 15_000,
  churnRate: 200,
  churnCount: 800,
  churnAt: 1_000,
  outageCount: 600,
  outageAt: 1_000,
  outageFor: 1_000,
  quietMs: 1_000,
  settleMs: 3_000,
};

/** For development: the same phases, shorter, with 5 clients per node. */
export const QUICK: Settings = {
  ...FULL,
  clientsPerNode: 5,
  // Still more than the streams adapter's default maxLen (10,000).
  burst: 12_000,
  latencyCount: 2_500,
  churnCount: 300,
  churnAt: 300,
  outageCount: 300,
  outageAt: 300,
  quietMs: 500,
  settleMs: 2_000,
};

const SIZE = 100;
const PACKAGES = ['@socket.io/redis-adapter', '@socket.io/redis-streams-adapter', 'redis'];

/** The installed versions of the packages the rows use (their package.json is not exported). */
function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  return Object.fromEntries(
    PACKAGES.map((name) => {
      try {
        let dir = require.resolve(name);
        for (let i = 0; i < 6; i++) {
          dir = dir.slice(0, dir.lastIndexOf('/'));
          const path = `${dir}/package.json`;
          if (!existsSync(path)) continue;
          const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version: string };
          if (pkg.name === name) return [name, pkg.version];
        }
      } catch {}
      return [name, 'unknown'];
    }),
  );
}
const PHASE_TIMEOUT = 30_000;

export interface ClientReport {
  delivered: number;
  duplicates: number;
  gaps: number;
  lastAt: number;
  opens: number;
  recovered: number;
  /** Heartline: sessions that started afresh with a reason (`resume` with `resumed: false`). */
  restarted?: number;
}

export interface Report extends Message {
  complete: boolean;
  stale: number;
  latency: { count: number; p50: number | null; p99: number | null; max: number | null } | null;
  clients: ClientReport[];
}

export interface Sent {
  startedAt: number;
  endedAt: number;
  sent: number;
}

export interface PhaseResult {
  expected: number;
  sent: Sent;
  report: Report;
  /** Publishes node 0's Redis client rejected during the phase, by error name (if it counts). */
  rejected: Record<string, number> | null;
}

export interface VariantResult {
  throughput?: PhaseResult;
  latency?: PhaseResult;
  churn?: PhaseResult;
  outage?: PhaseResult;
  /** Phases that could not finish, and why (a node that crashed, a timeout). */
  failed?: Partial<Record<Phase, string>>;
}

const PHASES: readonly Phase[] = ['throughput', 'latency', 'churn', 'outage'];

/** "node-0 crashed: Error: read ECONNRESET (an unhandled rejection)", from its last output. */
function crashReport(node: ClusterNode): string | undefined {
  if (node.running) return undefined;
  const log = node.log;
  let start = -1;
  for (let i = log.length - 1; i >= 0 && start < 0; i--) {
    if (log[i]!.includes('triggerUncaughtException')) start = i;
  }
  const error = log.slice(Math.max(0, start)).find((line) => /^\s*\w*Error\b/.test(line));
  const unhandled =
    start >= 0 && log[start]!.includes('fromPromise') ? ' (an unhandled rejection)' : '';
  return `${node.name} crashed${error ? `: ${error.trim()}${unhandled}` : ''}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one variant's phases on a running Redis (exported to run one row by hand). */
export async function measureVariant(
  v: ClusterVariant,
  redis: TestRedis,
  s: Settings,
  ctx: Context,
): Promise<VariantResult> {
  await redis.command('FLUSHALL');
  const cluster = await startCluster({
    nodes: 2,
    factory: workerPath(v.factory),
    options: { ...v.options, redisUrl: redis.url, prefix: `bench-${v.id}` },
    timeout: 30_000,
  });
  const swarms = cluster.nodes.map(
    (node) =>
      new Child('cluster-clients.mjs', [
        JSON.stringify({ ...v.client, url: node.url, count: s.clientsPerNode }),
      ]),
  );
  const [sender, receiverNode] = cluster.nodes as [
    (typeof cluster.nodes)[0],
    (typeof cluster.nodes)[0],
  ];
  const receiver = swarms[1]!;
  const result: VariantResult = {};
  const started = performance.now();
  try {
    for (const swarm of swarms) {
      const ready = await swarm.next<Message & { open: number }>('ready', 40_000);
      if (ready.open !== s.clientsPerNode) {
        throw new Error(`only ${ready.open} of ${s.clientsPerNode} clients connected`);
      }
    }
    ctx.log(
      `  ${v.id}: 2 nodes and ${2 * s.clientsPerNode} clients up in ${ms(performance.now() - started)}`,
    );

    /** One phase: arm the receivers, drive node 0, wait for the broadcasts to settle. */
    async function phase(
      name: Phase,
      expected: number,
      drive: () => Promise<Sent>,
    ): Promise<PhaseResult> {
      const t0 = performance.now();
      await drain();
      receiver.send({ type: 'phase', phase: name, expected, latency: name === 'latency' });
      await receiver.next('phase', 10_000);
      const before = await rejections();
      const sent = await drive();
      const quietMs = name === 'churn' || name === 'outage' ? s.settleMs : s.quietMs;
      receiver.send({ type: 'wait', quietMs, timeout: PHASE_TIMEOUT });
      const report = await receiver.next<Report>('report', PHASE_TIMEOUT + 10_000);
      const after = await rejections();
      const rejected =
        before && after
          ? Object.fromEntries(
              Object.entries(after)
                .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
                .filter(([, n]) => n > 0),
            )
          : null;
      ctx.log(
        `  ${v.id} ${name} (${ms(performance.now() - t0)}): ${summary({ expected, sent, report, rejected })}`,
      );
      return { expected, sent, report, rejected };
    }
    /**
     * Waits until node 0's Redis client has nothing queued from the phase before, so that a
     * backlog left by an overloaded phase does not slow the next one down (bounded: a factory
     * without `drain` answers at once, and a lagging Redis gets 6 tries of 5 s).
     */
    async function drain(): Promise<void> {
      for (let attempt = 0; attempt < 6; attempt++) {
        try {
          await sender.command({ type: 'drain' }, { timeout: 10_000 });
          return;
        } catch (error) {
          if (/unknown command/.test((error as Error).message)) return;
        }
      }
    }
    /** Node 0's count of rejected publishes, if its factory keeps one. */
    async function rejections(): Promise<Record<string, number> | null> {
      try {
        return await sender.command<Record<string, number>>({ type: 'failures' });
      } catch {
        return null;
      }
    }
    const command = (body: object) => sender.command<Sent>(body, { timeout: 120_000 });
    const paced = (name: Phase, count: number, rate: number) => {
      const run = command({ type: 'paced', phase: name, count, rate, size: SIZE });
      // Awaited after the fault is injected; a rejection meanwhile must not go unhandled.
      run.catch(() => {});
      return run;
    };
    const drives: Record<Phase, [expected: number, drive: () => Promise<Sent>]> = {
      throughput: [
        s.burst,
        () => command({ type: 'burst', phase: 'throughput', count: s.burst, size: SIZE }),
      ],
      latency: [s.latencyCount, () => paced('latency', s.latencyCount, s.latencyRate)],
      churn: [
        s.churnCount,
        async () => {
          const run = paced('churn', s.churnCount, s.churnRate);
          await sleep(s.churnAt);
          await receiverNode.restart('SIGTERM');
          return run;
        },
      ],
      outage: [
        s.outageCount,
        async () => {
          const run = paced('outage', s.outageCount, s.churnRate);
          await sleep(s.outageAt);
          await redis.kill('SIGKILL');
          await sleep(s.outageFor); // the outage is the scenario
          await redis.restart();
          return run;
        },
      ],
    };
    // The phases that break things come last.
    for (const name of PHASES) {
      if (!v.phases.includes(name)) continue;
      try {
        result[name] = await phase(name, ...drives[name]);
      } catch (error) {
        // A node that crashed is the phase's outcome; say why, and bring it back for the next.
        const why =
          crashReport(sender) ??
          crashReport(receiverNode) ??
          (error as Error).message.split('\n')[0]!;
        result.failed = { ...result.failed, [name]: why };
        ctx.log(`  ${v.id} ${name}: ${why}`);
        if (!redis.running) await redis.restart();
        for (const node of cluster.nodes) if (!node.running) await node.restart();
      }
    }
    return result;
  } finally {
    if (!redis.running) await redis.restart();
    await Promise.all(swarms.map((swarm) => swarm.stop(5_000)));
    await cluster.close();
  }
}

const delivered = (r: PhaseResult) => r.report.clients.reduce((sum, c) => sum + c.delivered, 0);
const expectedAll = (r: PhaseResult) => r.expected * r.report.clients.length;
const lostPerClient = (r: PhaseResult) => r.report.clients.map((c) => r.expected - c.delivered);
const duplicates = (r: PhaseResult) => r.report.clients.reduce((sum, c) => sum + c.duplicates, 0);

/** Broadcasts per second as node 1's clients saw them: their mean count over send→last arrival. */
function rate(r: PhaseResult): number {
  const last = Math.max(...r.report.clients.map((c) => c.lastAt));
  const mean = delivered(r) / r.report.clients.length;
  return (mean / (last - r.sent.startedAt)) * 1_000;
}

function percent(r: PhaseResult): string {
  return `${fixed((delivered(r) / expectedAll(r)) * 100, 1)} %`;
}

function lostSpread(r: PhaseResult): string {
  const lost = lostPerClient(r);
  return `${int(Math.min(...lost))} / ${int(median(lost))} / ${int(Math.max(...lost))}`;
}

function rejectedText(r: PhaseResult): string {
  if (!r.rejected) return '–';
  const entries = Object.entries(r.rejected);
  return entries.length === 0 ? '0' : entries.map(([k, n]) => `${int(n)} ${k}`).join(', ');
}

function summary(r: PhaseResult): string {
  const lat = r.report.latency;
  return (
    `${int(delivered(r))} of ${int(expectedAll(r))} delivered (${percent(r)})` +
    (lat ? `, p50 ${ms(lat.p50 ?? Number.NaN)}, p99 ${ms(lat.p99 ?? Number.NaN)}` : '') +
    (r.report.clients.some((c) => c.opens > 1) ? `, reconnects ${reconnected(r)}` : '') +
    (r.rejected && Object.keys(r.rejected).length > 0 ? `, rejected ${rejectedText(r)}` : '')
  );
}

function reconnected(r: PhaseResult): string {
  const back = r.report.clients.filter((c) => c.opens > 1).length;
  const recovered = r.report.clients.filter((c) => c.recovered > 0).length;
  return `${back} back, ${recovered} recovered`;
}

export const cluster: Scenario = {
  id: 'cluster',
  title: '7. Cluster over Redis',
  async run(ctx: Context): Promise<ScenarioResult> {
    const s = ctx.quick ? QUICK : FULL;
    const redis = await startRedis();
    const version = String(await redis.command('INFO', 'server')).match(/redis_version:(\S+)/)?.[1];
    const installed = versions();
    const results = new Map<string, VariantResult>();
    const failures = new Map<string, string>();
    let resumeTimes: number[] | undefined;
    let resumeFailure: string | undefined;
    try {
      // (e) a resume on another node, with 100 messages missed meanwhile
      try {
        const trials = ctx.quick ? 10 : 50;
        const r = await runWorker<Message & { times: number[] }>(
          'cluster-resume.mjs',
          { redisUrl: redis.unixUrl, prefix: `bench-resume-${process.pid}`, trials, missed: 100 },
          120_000,
        );
        resumeTimes = [...r.times].sort((x, y) => x - y);
      } catch (error) {
        resumeFailure = (error as Error).message;
        ctx.log(`  resume latency failed: ${resumeFailure}`);
      }
      for (const v of CLUSTER_VARIANTS) {
        if (!existsSync(workerPath(v.factory))) continue;
        try {
          results.set(v.id, await measureVariant(v, redis, s, ctx));
        } catch (error) {
          failures.set(v.id, (error as Error).message);
          ctx.log(`  ${v.id} failed: ${(error as Error).message}`);
        }
      }
    } finally {
      await redis.close();
    }

    /** Rows of one table: each variant with that phase gives `cells`, pending or failed ones say so. */
    function rows(phaseName: Phase, cells: (r: PhaseResult) => string[], width: number) {
      return CLUSTER_VARIANTS.filter((v) => v.phases.includes(phaseName)).map((v) => {
        const pad = (text: string) => [v.label, text, ...Array(width - 1).fill('')];
        if (!existsSync(workerPath(v.factory))) {
          return pad(`pending (${v.pendingUntil ?? v.factory} not yet built)`);
        }
        const failed = results.get(v.id)?.failed?.[phaseName] ?? failures.get(v.id);
        const r = results.get(v.id)?.[phaseName];
        if (!r) return pad(`failed: ${failed ?? 'no result'}`);
        return [v.label, ...cells(r)];
      });
    }

    const resumeTable: Table = {
      title:
        '(e) a session resumed on the other node with 100 messages missed: `connect` frame → last replayed message (Heartline; a raw heartline.v1 client, both nodes in one process)',
      columns: ['trials', 'p50', 'p90', 'p99', 'max'],
      rows: resumeTimes
        ? [
            [
              int(resumeTimes.length),
              ms(percentile(resumeTimes, 50)),
              ms(percentile(resumeTimes, 90)),
              ms(percentile(resumeTimes, 99)),
              ms(resumeTimes.at(-1)!),
            ],
          ]
        : [[`failed: ${resumeFailure}`, '', '', '', '']],
    };
    const tables: Table[] = [
      {
        title: `(a) throughput and (c) loss under a burst: ${int(s.burst)} broadcasts of ${SIZE} B from node 0`,
        columns: [
          'servers',
          'broadcasts/s reaching node 1',
          'delivered / expected on node 1',
          'holes per client',
          'duplicates',
          'publishes rejected on node 0',
        ],
        rows: rows(
          'throughput',
          (r) => [
            `**${int(rate(r))}**`,
            `${int(delivered(r))} / ${int(expectedAll(r))} (${percent(r)})`,
            fixed(median(r.report.clients.map((c) => c.gaps)), 0),
            int(duplicates(r)),
            rejectedText(r),
          ],
          5,
        ),
      },
      {
        title: `(b) latency at ${int(s.latencyRate)} broadcasts/s (${int(s.latencyCount)} broadcasts), send on node 0 → arrival on node 1`,
        columns: ['servers', 'p50', 'p99', 'max', 'delivered / expected'],
        rows: rows(
          'latency',
          (r) => [
            ms(r.report.latency?.p50 ?? Number.NaN),
            ms(r.report.latency?.p99 ?? Number.NaN),
            ms(r.report.latency?.max ?? Number.NaN),
            percent(r),
          ],
          4,
        ),
      },
      {
        title: `(d) node 1 restarted (SIGTERM, up again on its port) ${ms(s.churnAt)} into ${int(s.churnCount)} broadcasts at ${s.churnRate}/s`,
        columns: [
          'servers',
          `lost per client of ${int(s.churnCount)} (min / median / max)`,
          'delivered / expected',
          'duplicates',
          'clients back / recovered',
        ],
        rows: rows(
          'churn',
          (r) => [lostSpread(r), percent(r), int(duplicates(r)), reconnected(r)],
          4,
        ),
      },
      {
        title: `(d) Redis SIGKILLed ${ms(s.outageAt)} into ${int(s.outageCount)} broadcasts at ${s.churnRate}/s, restarted empty ${ms(s.outageFor)} later`,
        columns: [
          'servers',
          `lost per client of ${int(s.outageCount)} (min / median / max)`,
          'delivered / expected',
          'duplicates',
          'publishes rejected on node 0',
          'clients told they started afresh',
        ],
        rows: rows(
          'outage',
          (r) => [
            lostSpread(r),
            percent(r),
            int(duplicates(r)),
            rejectedText(r),
            r.report.clients.some((c) => c.restarted !== undefined)
              ? `${r.report.clients.filter((c) => (c.restarted ?? 0) > 0).length} of ${r.report.clients.length}`
              : 'no (not told)',
          ],
          5,
        ),
      },
      resumeTable,
    ];

    const pubsub = results.get('socketio-pubsub')?.throughput;
    const heartline = results.get('heartline')?.throughput;
    const raw = Object.fromEntries(
      CLUSTER_VARIANTS.map((v) => {
        const r = results.get(v.id);
        if (!r) return [v.id, { failed: failures.get(v.id) ?? null, pending: !failures.has(v.id) }];
        const phases = PHASES.flatMap((name) => {
          const p = r[name];
          return p ? [[name, p] as const] : [];
        });
        return [
          v.id,
          Object.fromEntries([
            ['failed', r.failed ?? {}],
            ...phases.map(([name, p]) => [
              name,
              {
                expected: p.expected,
                sent: p.sent.sent,
                sendMs: p.sent.endedAt - p.sent.startedAt,
                ratePerSecond: name === 'throughput' ? Math.round(rate(p)) : undefined,
                latency: p.report.latency,
                stale: p.report.stale,
                rejected: p.rejected,
                clients: p.report.clients.map(({ lastAt: _, ...c }) => c),
              },
            ]),
          ]),
        ];
      }),
    );
    return {
      id: 'cluster',
      title: this.title,
      method:
        `Two server processes of each library share one redis-server ${version ?? ''} (started by ` +
        'the bench: no persistence, unix socket, emptied between rows); ' +
        `${s.clientsPerNode} clients on each node, in one process per node. Node 0 broadcasts to ` +
        'every client of the cluster; only the clients of node 1, which get each broadcast through ' +
        `Redis, are counted. Each broadcast is ${SIZE} B of text carrying its phase, a sequence ` +
        'number and the send time (CLOCK_MONOTONIC, shared by the processes), so every client ' +
        'counts holes and duplicates itself. Versions: ' +
        `${Object.entries(installed)
          .map(([name, version]) => `${name} ${version}`)
          .join(', ')}. A phase ends when every client has everything, or ` +
        `nothing arrived for ${ms(s.quietMs)} (${ms(s.settleMs)} after a fault, to outlast ` +
        'reconnect backoffs), so what is counted lost never came. socket.io uses the websocket ' +
        'transport and node-redis clients with their defaults.',
      tables,
      notes: [
        'The pub/sub adapter promises at most once: "the packets will only be sent to the clients ' +
          'that are connected to the current server" while Redis is unreachable, and it cannot ' +
          'support connection state recovery. The streams adapter can; its row enables it.',
        'The streams adapter trims its stream to `maxLen` (approximately) on every XADD; a reader ' +
          'that falls further behind silently skips what was trimmed: the default-`maxLen` row.',
        'node-redis 5 and 6 reject a command left unanswered for 5 s (`commandOptions.timeout` ' +
          'defaults to 5,000 ms), and reject the commands in flight when the connection dies. ' +
          'The streams adapter catches a rejected XADD and only logs it at debug level: that ' +
          'broadcast is lost with no error to the app. "Publishes rejected" counts these on node 0 ' +
          '(by wrapping the client it gives the adapter, without handling anything the adapter ' +
          'does not); the setups are as the READMEs show them.',
        'A node that crashes is the outcome of its phase. `@socket.io/redis-adapter` 8.3.0 calls ' +
          '`pubClient.publish()` without handling its rejection (dist/index.js, `broadcast`), so a ' +
          'PUBLISH that times out behind a burst, or is in flight when Redis dies (EPIPE, ' +
          'ECONNRESET), is an unhandled rejection, which ends a Node.js process by default; ' +
          'whether one happens is a matter of timing and load.',
        'Noisy on a shared machine: Redis, both nodes and both client processes share the CPUs.',
      ],
      targets: [
        {
          issue: 10,
          name: 'Heartline cross-node broadcast ≥ 1.5× socket.io + redis-adapter, 0 lost, 0 duplicated',
          value:
            heartline && pubsub
              ? `${fixed(rate(heartline) / rate(pubsub), 2)}×, ${int(expectedAll(heartline) - delivered(heartline))} lost, ${int(duplicates(heartline))} duplicated`
              : 'pending (heartline/redis not yet built)',
          met:
            heartline && pubsub
              ? rate(heartline) >= 1.5 * rate(pubsub) &&
                delivered(heartline) === expectedAll(heartline) &&
                duplicates(heartline) === 0
              : false,
        },
        {
          issue: 10,
          name: 'Heartline resume on another node with 100 missed: p50 ≤ 5 ms, p99 ≤ 25 ms',
          value: resumeTimes
            ? `p50 ${ms(percentile(resumeTimes, 50))}, p99 ${ms(percentile(resumeTimes, 99))}`
            : `failed: ${resumeFailure}`,
          met:
            resumeTimes !== undefined &&
            percentile(resumeTimes, 50) <= 5 &&
            percentile(resumeTimes, 99) <= 25,
        },
        {
          issue: 10,
          name: 'Heartline 0 lost, 0 duplicated where the others lose: node restart, burst',
          value: ['churn', 'throughput']
            .map((phaseName) => {
              const r = results.get('heartline')?.[phaseName as Phase];
              return r
                ? `${phaseName === 'churn' ? 'node restart' : 'burst'}: ${int(expectedAll(r) - delivered(r))} lost, ${int(duplicates(r))} duplicated`
                : `${phaseName}: no result`;
            })
            .join('; '),
          met: (['churn', 'throughput'] as const).every((phaseName) => {
            const r = results.get('heartline')?.[phaseName];
            return r !== undefined && delivered(r) === expectedAll(r) && duplicates(r) === 0;
          }),
        },
      ],
      raw: {
        settings: s,
        redis: version,
        versions: installed,
        variants: raw,
        resume: resumeTimes ?? { failed: resumeFailure },
      },
    };
  },
};
