/**
 * 3. Idle connections: N connections with the heartbeat on, at the default interval and at an
 * aggressive 1 s. Server RSS per connection (after full GCs, the server fresh, the clients in
 * another process: research §D's method) and server CPU per second over a window.
 */
import { fixed, int, kib, ratio } from '../harness/format.js';
import { type ClientConfig, peer, type ServerConfig } from '../harness/peers.js';
import { Child, type Message, startServer } from '../harness/processes.js';
import type { Context, Scenario, ScenarioResult } from '../harness/types.js';

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly heartbeat: string;
  readonly server: ServerConfig & { readmeHeartbeat?: number };
  readonly client: ClientConfig;
  /** ms of CPU window in a full run: one whole heartbeat interval for the defaults. */
  readonly window: number;
  readonly session?: boolean;
}

const ONE_SECOND = { interval: 1_000, timeout: 1_000 };
const WS = peer('ws');
const PLAIN = peer('heartline-plain');
const SESSION = peer('heartline-session');
const SOCKETIO = peer('socketio');

const VARIANTS: readonly Variant[] = [
  {
    id: 'ws',
    label: '`ws` + README ping/terminate',
    heartbeat: 'default: 30 s',
    server: { ...WS.server, readmeHeartbeat: 30_000 },
    client: WS.client,
    window: 30_000,
  },
  {
    id: 'ws-1s',
    label: '`ws` + README ping/terminate',
    heartbeat: '1 s',
    server: { ...WS.server, readmeHeartbeat: 1_000 },
    client: WS.client,
    window: 5_000,
  },
  {
    id: 'heartline-plain',
    label: 'Heartline plain',
    heartbeat: 'default: server 25 s + 10 s, client 10 s + 5 s',
    server: PLAIN.server,
    client: PLAIN.client,
    window: 25_000,
  },
  {
    id: 'heartline-plain-1s',
    label: 'Heartline plain',
    heartbeat: '1 s: server 1 s + 1 s, client 1 s + 1 s',
    server: { ...PLAIN.server, options: { heartbeat: ONE_SECOND } },
    client: { ...PLAIN.client, options: { heartbeat: ONE_SECOND } },
    window: 5_000,
  },
  {
    id: 'heartline-session',
    label: 'Heartline session',
    heartbeat: 'default',
    server: SESSION.server,
    client: SESSION.client,
    window: 25_000,
    session: true,
  },
  {
    id: 'heartline-session-1s',
    label: 'Heartline session',
    heartbeat: '1 s',
    server: { ...SESSION.server, options: { heartbeat: ONE_SECOND } },
    client: { ...SESSION.client, options: { heartbeat: ONE_SECOND } },
    window: 5_000,
    session: true,
  },
  {
    id: 'socketio',
    label: 'socket.io (websocket transport)',
    heartbeat: 'default: pingInterval 25 s, pingTimeout 20 s',
    server: SOCKETIO.server,
    client: SOCKETIO.client,
    window: 25_000,
  },
  {
    id: 'socketio-1s',
    label: 'socket.io (websocket transport)',
    heartbeat: '1 s: pingInterval 1 s, pingTimeout 1 s',
    server: { ...SOCKETIO.server, sio: { pingInterval: 1_000, pingTimeout: 1_000 } },
    client: SOCKETIO.client,
    window: 5_000,
  },
];

interface Measured {
  rssPerConn: number;
  heapPerConn: number;
  cpuPerSecond: number;
  openSeconds: number;
  cpuWindow: number;
  connectionsAfter: number;
  sessions: number;
}

type Measure = Message & { rss: number; heap: number; connections: number };

async function measure(v: Variant, count: number, window: number): Promise<Measured> {
  const { child: server, port } = await startServer({ ...v.server, echo: false });
  let swarm: Child | undefined;
  try {
    server.send({ type: 'measure' });
    const before = await server.next<Measure>('measure');
    swarm = new Child('swarm.mjs', [
      JSON.stringify({ ...v.client, url: `ws://127.0.0.1:${port}`, count, batch: 500 }),
    ]);
    const ready = await swarm.next<Message & { open: number; ms: number; sessions: number }>(
      'ready',
      180_000,
    );
    if (ready.open !== count) throw new Error(`only ${ready.open} of ${count} clients opened`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    server.send({ type: 'measure' });
    const after = await server.next<Measure>('measure');
    if (after.connections !== count) {
      throw new Error(
        `2 s after all ${count} opened, the server held ${after.connections}: the clients' process could not keep up with the heartbeat`,
      );
    }
    server.send({ type: 'cpu', ms: window });
    const cpu = await server.next<Message & { perSecond: number; connections: number }>(
      'cpu',
      window + 30_000,
    );
    return {
      rssPerConn: (after.rss - before.rss) / count,
      heapPerConn: (after.heap - before.heap) / count,
      cpuPerSecond: cpu.perSecond,
      openSeconds: ready.ms / 1000,
      cpuWindow: window,
      connectionsAfter: cpu.connections,
      sessions: ready.sessions,
    };
  } finally {
    await swarm?.stop(10_000);
    await server.stop();
  }
}

export const idle: Scenario = {
  id: 'idle',
  title: '3. Idle connections',
  async run(ctx: Context): Promise<ScenarioResult> {
    const count = ctx.quick ? 500 : 10_000;
    const raw: Record<string, unknown> = {};
    const results = new Map<string, Measured>();
    const notRun = new Map<string, string>();
    const one = async (v: Variant) => {
      const window = ctx.quick ? Math.min(v.window, 2_000) : v.window;
      try {
        const m = await measure(v, count, window);
        if (v.session && m.sessions === 0) throw new Error('its links were not in session mode');
        results.set(v.id, m);
        raw[v.id] = m;
        ctx.log(
          `  ${v.id}: ${kib(m.rssPerConn)}/conn, ${fixed(m.cpuPerSecond)} ms CPU/s, open in ${fixed(m.openSeconds)} s`,
        );
      } catch (error) {
        notRun.set(v.id, `failed: ${(error as Error).message}`);
        raw[v.id] = { failed: (error as Error).message };
        ctx.log(`  ${v.id} failed: ${(error as Error).message}`);
      }
    };
    // The default-interval rows wait out whole 25–30 s windows: they run side by side (each
    // server and swarm in its own processes; `cpuUsage()` counts a process's own CPU only). The
    // busy 1 s rows run one after another.
    await Promise.all(VARIANTS.filter((v) => v.window > 5_000).map(one));
    for (const v of VARIANTS.filter((v) => v.window <= 5_000)) await one(v);
    const wsRss = results.get('ws')?.rssPerConn ?? Number.NaN;
    const rows = VARIANTS.map((v) => {
      const m = results.get(v.id);
      if (!m) return [v.label, v.heartbeat, notRun.get(v.id) ?? '', '', '', '', ''];
      return [
        v.label,
        v.heartbeat,
        kib(m.rssPerConn),
        ratio(m.rssPerConn / wsRss),
        kib(m.heapPerConn),
        `${fixed(m.cpuPerSecond)} ms (${fixed(m.cpuWindow / 1000, 0)} s window)`,
        fixed(m.openSeconds),
      ];
    });
    const plain = (results.get('heartline-plain')?.rssPerConn ?? Number.NaN) / wsRss;
    const session = (results.get('heartline-session')?.rssPerConn ?? Number.NaN) / wsRss;
    return {
      id: 'idle',
      title: this.title,
      method:
        `${int(count)} idle connections from one client process to a fresh server process. RSS ` +
        'and heap are read in the server after three full GCs, before the clients connect and 2 s ' +
        'after the last one opened; the difference is divided by the connection count. CPU is the ' +
        "server's `process.cpuUsage()` (user + system) over the window, per wall second; for the " +
        'default intervals the window is one whole interval, so that every connection is pinged ' +
        'once whether the pings are spread (Heartline, socket.io) or in one burst (the README ' +
        'recipe). The default-interval rows run side by side (their windows are idle), the 1 s rows ' +
        'one after another. Heartline rows pair HeartlineServer with HeartlineSocket clients, whose own ' +
        'heartbeat (a text "ping" after `interval` ms of inbound silence) the server answers.',
      tables: [
        {
          columns: [
            'server',
            'heartbeat',
            'RSS / conn',
            '× ws RSS',
            'heap / conn',
            'server CPU / s',
            'open all (s)',
          ],
          rows,
        },
      ],
      notes: [
        'The `ws` rows follow the README\'s "How to detect and close broken connections?" recipe ' +
          "(ping every interval, terminate if no pong since the last tick); 30 s is the README's " +
          'interval.',
        "socket.io clients use `transports: ['websocket']` (the research measured 26.7 KiB that " +
          'way, 31.8 KiB with the default polling → websocket upgrade).',
      ],
      targets: [
        {
          issue: 6,
          name: 'RSS per idle connection ≤ 1.25× raw ws (plain, default heartbeat)',
          value: Number.isFinite(plain) ? ratio(plain) : (notRun.get('heartline-plain') ?? '–'),
          met: plain <= 1.25,
        },
        {
          issue: 6,
          name: 'RSS per idle connection ≤ 1.5× raw ws (session)',
          value: Number.isFinite(session)
            ? ratio(session)
            : (notRun.get('heartline-session') ?? '–'),
          met: session <= 1.5,
        },
      ],
      raw: { count, variants: raw },
    };
  },
};
