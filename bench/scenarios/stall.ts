/**
 * 4c. Heartbeat under a stalled server (research §3.3): healthy clients in another process, a
 * 1 s heartbeat, and one synchronous stall of the server's event loop inside an I/O callback,
 * right after a ping went out. The clients' pongs arrive during the stall and wait unread; a
 * heartbeat that decides inside its timer terminates the clients it has not read yet.
 */
import { int, ms } from '../harness/format.js';
import { peer, type ServerConfig } from '../harness/peers.js';
import { Child, type Message, startServer } from '../harness/processes.js';
import type { Context, Scenario, ScenarioResult } from '../harness/types.js';

const INTERVAL = 1_000;
const STALL = 1_500;

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly heartbeat: string;
  readonly server: ServerConfig & { readmeHeartbeat?: number };
}

const VARIANTS: readonly Variant[] = [
  {
    id: 'ws-readme',
    label: '`ws` + README ping/terminate',
    heartbeat: `every ${ms(INTERVAL)}, terminate if no pong since the last tick`,
    server: { ...peer('ws').server, readmeHeartbeat: INTERVAL },
  },
  {
    id: 'heartline',
    label: 'HeartlineServer (plain)',
    heartbeat: `interval ${ms(INTERVAL)} + timeout ${ms(INTERVAL)}`,
    server: {
      ...peer('heartline-plain').server,
      options: { heartbeat: { interval: INTERVAL, timeout: INTERVAL } },
    },
  },
];

interface Outcome {
  terminated: number;
  stalls: number;
  /** Closes the clients saw after the stall began. */
  drops: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(v: Variant, count: number): Promise<Outcome> {
  const { child: server, port } = await startServer({ ...v.server, echo: false, stall: STALL });
  const swarm = new Child('swarm.mjs', [
    JSON.stringify({ ...peer('ws').client, url: `ws://127.0.0.1:${port}`, count }),
  ]);
  try {
    const ready = await swarm.next<Message & { open: number }>('ready', 60_000);
    if (ready.open !== count) throw new Error(`only ${ready.open} of ${count} clients opened`);
    await sleep(INTERVAL * 1.2);
    swarm.send({ type: 'mark' });
    swarm.send({ type: 'send-on-ping', text: 'stall' });
    // The next ping, the stall, and time for every consequence of it.
    await sleep(INTERVAL + STALL + INTERVAL * 2.5);
    server.send({ type: 'stats' });
    const stats = await server.next<Message & { terminated: number; stalls: number }>('stats');
    swarm.send({ type: 'status' });
    const status = await swarm.next<Message & { drops: number }>('status');
    return { terminated: stats.terminated, stalls: stats.stalls, drops: status.drops };
  } finally {
    await swarm.stop(5_000);
    await server.stop();
  }
}

export const stall: Scenario = {
  id: 'stall',
  title: '4c. Heartbeat under a stalled server',
  async run(ctx: Context): Promise<ScenarioResult> {
    const count = ctx.quick ? 200 : 500;
    const raw: Record<string, unknown> = {};
    const rows: string[][] = [];
    for (const v of VARIANTS) {
      try {
        const o = await measure(v, count);
        raw[v.id] = o;
        ctx.log(`  ${v.id}: ${o.terminated} of ${count} healthy clients terminated`);
        rows.push([
          v.label,
          v.heartbeat,
          `${int(o.terminated)} of ${int(count)}`,
          int(o.drops),
          v.id === 'heartline' ? int(o.stalls) : '–',
        ]);
      } catch (error) {
        raw[v.id] = { failed: (error as Error).message };
        rows.push([v.label, v.heartbeat, `failed: ${(error as Error).message}`, '', '']);
        ctx.log(`  ${v.id} failed: ${(error as Error).message}`);
      }
    }
    return {
      id: 'stall',
      title: this.title,
      method:
        `${int(count)} healthy raw \`ws\` clients in one process (they answer every ping), the ` +
        `server in another, a heartbeat every ${ms(INTERVAL)}. Right after the first client ` +
        `answers a ping it sends "stall", and the server blocks its event loop for ${ms(STALL)} ` +
        "inside that message's I/O callback, so the other clients' pongs arrive during the " +
        `stall and wait unread. ${ms(INTERVAL + STALL + INTERVAL * 2.5)} later the server says ` +
        'how many clients its heartbeat terminated, and the clients how many closes they saw.',
      tables: [
        {
          columns: [
            'server',
            'heartbeat',
            'healthy clients terminated',
            'closes seen by the clients',
            'stalled sweeps skipped',
          ],
          rows,
        },
      ],
      notes: [
        'The README recipe decides inside its interval timer; after a stall libuv runs the ' +
          'timers phase before it reads the sockets, so every pong still unread counts as ' +
          'missing. HeartlineServer decides after the poll phase and skips a sweep that fired ' +
          'more than `timeout` late.',
      ],
      targets: [],
      raw: { count, interval: INTERVAL, stall: STALL, variants: raw },
    };
  },
};
