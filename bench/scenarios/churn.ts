/**
 * 6. Loss under churn: issue 4's churn test for every library that claims to survive a drop.
 * The variants run at the same time, each in its own worker (they are light: 2 clients each).
 */
import { int } from '../harness/format.js';
import { type Message, runWorker, TSX } from '../harness/processes.js';
import type { Context, Scenario, ScenarioResult, Target } from '../harness/types.js';

interface Variant {
  readonly id: string;
  readonly variant: string;
  readonly label: string;
  readonly faults: 'reset+blackhole' | 'reset' | 'dead-link';
  readonly session?: boolean;
  /** Heartline bounds large enough for everything the run sends (SIZED below). */
  readonly sized?: boolean;
}

/**
 * The run sends 1,000 messages/s per client each way. The client's default outbox (4 MiB,
 * 100,000 messages) holds all of it; the server's replay log (10,000 messages shared by all
 * sessions) is 5 s of the run's two clients. Sized: room for all of it on the server too, to
 * test the protocol rather than the bounds.
 */
const SIZED = {
  client: {},
  server: { resume: { maxMessages: 100_000 } },
};

/**
 * Issue 13's burst: one link dead for the client's whole default heartbeat budget (10 s + 5 s:
 * steady traffic, then a blackhole, so the silence starts at the cut), at 1,000 msg/s of
 * 100-byte messages, with the default bounds and heartbeats on both ends. Server → client only
 * room broadcasts (100/s): the server's replay log is another bound than this one.
 */
const DEAD_LINK = {
  messages: 20_000,
  duration: 20_000,
  cutAt: 2_000,
  size: 100,
  heartbeat: null,
  direct: false,
} as const;

const VARIANTS: readonly Variant[] = [
  {
    id: 'heartline-session',
    variant: 'heartline-session',
    label: 'Heartline session mode, default bounds',
    faults: 'reset+blackhole',
    session: true,
  },
  {
    id: 'heartline-session-dead-link',
    variant: 'heartline-session',
    label: 'Heartline session mode, default bounds and heartbeat',
    faults: 'dead-link',
    session: true,
  },
  {
    id: 'heartline-session-sized',
    variant: 'heartline-session',
    label: 'Heartline session mode, bounds sized for the run',
    faults: 'reset+blackhole',
    session: true,
    sized: true,
  },
  {
    id: 'socketio',
    variant: 'socketio',
    label: 'socket.io, connection state recovery',
    faults: 'reset+blackhole',
  },
  { id: 'rws', variant: 'rws', label: 'reconnecting-websocket + `ws`', faults: 'reset+blackhole' },
  {
    id: 'heartline-plain',
    variant: 'heartline-plain',
    label: 'Heartline plain mode *(for comparison)*',
    faults: 'reset+blackhole',
  },
  {
    id: 'socketio-reset',
    variant: 'socketio',
    label: 'socket.io, connection state recovery',
    faults: 'reset',
  },
  { id: 'rws-reset', variant: 'rws', label: 'reconnecting-websocket + `ws`', faults: 'reset' },
];

interface StreamCount {
  sent: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
}

type Result = Message & {
  streams: Record<string, StreamCount>;
  reconnects: number;
  resumes: Record<string, number>;
  overflowed: number;
  sessions: number;
  elapsed: number;
};

function sum(streams: Record<string, StreamCount>, prefix: RegExp): StreamCount {
  const total = { sent: 0, lost: 0, duplicated: 0, outOfOrder: 0 };
  for (const [name, s] of Object.entries(streams)) {
    if (!prefix.test(name)) continue;
    total.sent += s.sent;
    total.lost += s.lost;
    total.duplicated += s.duplicated;
    total.outOfOrder += s.outOfOrder;
  }
  return total;
}

const cell = (s: StreamCount) => `${int(s.lost)} / ${int(s.duplicated)} of ${int(s.sent)}`;

export const churn: Scenario = {
  id: 'churn',
  title: '6. Loss under churn',
  async run(ctx: Context): Promise<ScenarioResult> {
    const messages = ctx.quick ? 2_000 : 10_000;
    const duration = ctx.quick ? 4_000 : 10_000;
    const heartbeat = 250;
    const grace = ctx.quick ? 5_000 : 20_000;
    const outcomes = await Promise.all(
      VARIANTS.map((v) =>
        runWorker<Result>(
          'churn.mjs',
          {
            variant: v.variant,
            faults: v.faults,
            messages,
            duration,
            heartbeat,
            grace,
            ...(v.sized ? { heartline: SIZED } : {}),
            ...(v.faults === 'dead-link' ? DEAD_LINK : {}),
          },
          (v.faults === 'dead-link' ? DEAD_LINK.duration : duration) + grace + 60_000,
          TSX,
        ).then(
          (r) => ({ v, r, error: undefined }),
          (error: Error) => ({ v, r: undefined, error }),
        ),
      ),
    );
    const byId = new Map(outcomes.map((o) => [o.v.id, o]));
    const rows: string[][] = [];
    const raw: Record<string, unknown> = {};
    const targets: Target[] = [];
    // Issue 13 asks for no loss at the default bounds; the sized row is issue 6's protocol check.
    const target = (v: Variant, value: string, met: boolean) => {
      if (!v.session) return;
      targets.push({
        issue: v.sized ? 6 : 13,
        name:
          v.faults === 'dead-link'
            ? `0 lost and 0 duplicated, one link dead for the whole default heartbeat budget (10 s + 5 s) at 1,000 msg/s of ${DEAD_LINK.size}-byte messages (${v.label})`
            : `0 lost and 0 duplicated under churn at the default load (${v.label})`,
        value,
        met,
      });
    };
    for (const v of VARIANTS) {
      const o = byId.get(v.id)!;
      const failed =
        o.error?.message ??
        (v.session && o.r?.sessions === 0 ? 'its links were not in session mode' : undefined);
      if (failed || !o.r) {
        rows.push([v.label, v.faults, `failed: ${failed}`, '', '', '', '']);
        raw[v.id] = { failed };
        target(v, `failed: ${failed}`, false);
        continue;
      }
      const up = sum(o.r.streams, /→server$/);
      const down = sum(o.r.streams, /^server→/);
      const room = sum(o.r.streams, /^broadcast→/);
      raw[v.id] = {
        faults: v.faults,
        streams: o.r.streams,
        reconnects: o.r.reconnects,
        resumes: o.r.resumes,
        overflowed: o.r.overflowed,
      };
      ctx.log(
        `  ${v.id}: lost ${up.lost}+${down.lost}+${room.lost}, dup ${up.duplicated + down.duplicated + room.duplicated}`,
      );
      rows.push([
        v.label,
        v.faults === 'dead-link' ? 'one blackhole, found by the heartbeat' : v.faults,
        cell(up),
        cell(down),
        cell(room),
        int(up.outOfOrder + down.outOfOrder + room.outOfOrder),
        int(o.r.reconnects),
      ]);
      const lost = up.lost + down.lost + room.lost;
      const dup = up.duplicated + down.duplicated + room.duplicated;
      target(
        v,
        `${int(lost)} lost (client → server ${int(up.lost)}), ${int(dup)} duplicated`,
        lost === 0 && dup === 0,
      );
    }
    return {
      id: 'churn',
      title: this.title,
      method:
        `Issue 4's churn test: 2 clients, ${int(messages)} messages each way per client over ` +
        `${duration / 1000} s (one tick every 10 ms), plus one room broadcast per tick; each client ` +
        'sits behind its own fault proxy, which every 50–300 ms (at random) resets the link or, ' +
        'in the "reset+blackhole" rows, blackholes it with probability ½. Then the faults stop and ' +
        `a grace period of up to ${grace / 1000} s lets each library deliver what it holds. ` +
        `Heartbeats where the library has one: ${heartbeat} ms + ${heartbeat} ms (Heartline ` +
        'client and server; socket.io pingInterval/pingTimeout). Cells: lost / duplicated of sent, ' +
        "summed over both clients. The server app sends with each library's own means: socket.io " +
        "emits to the client's room (what recovery replays), a plain server sends to the client's " +
        'current socket if it has one.',
      tables: [
        {
          columns: [
            'library',
            'faults',
            'client → server',
            'server → client',
            'room broadcast → client',
            'out of order',
            'reconnects',
          ],
          rows,
        },
      ],
      notes: [
        `"Bounds sized for the run": \`resume.maxMessages\` ${int(SIZED.server.resume.maxMessages)} ` +
          'on the server (its replay log; the default is 10,000); the clients keep their default ' +
          'outbox (4 MiB, 100,000 messages), which holds the whole run. The JSON also has, for the ' +
          'Heartline rows, how each resume ended and how many messages overflowed a bound.',
        `"Default bounds and heartbeat" (issue 13's burst): ${int(DEAD_LINK.messages)} messages of ` +
          `${DEAD_LINK.size} bytes per client over ${DEAD_LINK.duration / 1000} s, every library ` +
          `default on both ends; at ${DEAD_LINK.cutAt / 1000} s each link is blackholed once, so ` +
          'it stays dead for the whole client heartbeat budget (10 s + 5 s) before the client ' +
          'reconnects; server → client only the room broadcasts.',
        'socket.io recovers server → client messages only (connection state recovery replays ' +
          'packets emitted to the rooms of a recovered socket); client → server it relies on its ' +
          'send buffer, which keeps what is emitted while it *knows* it is disconnected.',
        'reconnecting-websocket has no heartbeat: a blackholed link stays "open" until the end ' +
          'of the run, and everything written to it is lost.',
      ],
      targets,
      raw: { messages, duration, heartbeat, grace, variants: raw },
    };
  },
};
