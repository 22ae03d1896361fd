/**
 * The contract every engine keeps (src/server/engine/engine.ts, docs/server.md "Writing an
 * engine"), as one suite that any engine passes: the in-memory engine here, the Redis engine
 * against a real redis-server. It drives the engine the way `HeartlineServer` does, through a
 * host that records what the engine delivers, so that a third-party engine can be checked
 * without a server around it.
 *
 * Deliveries may be asynchronous (a shared engine delivers when the entry comes back from its
 * store): every check waits for a barrier, a last message sent to a known audience, whose
 * arrival proves that everything published before it has arrived (the engine delivers in
 * offset order).
 *
 * @example
 * describeEngineContract('memoryEngine', () => memoryEngine());
 */
import { describe, expect, it } from 'vitest';
import {
  type PreparedMessage,
  prepareCall,
  prepareMessage,
} from '../../src/server/client/outgoing-message.js';
import type {
  Audience,
  Engine,
  EngineHost,
  EngineSettings,
  ReplayCursor,
} from '../../src/server/engine/engine.js';
import { waitFor } from './wait.js';

export interface Delivery {
  readonly id: string;
  readonly text: string;
  readonly offset: number | undefined;
  readonly volatile: boolean;
  readonly message: PreparedMessage;
}

/** A host that records deliveries to the local clients it is told about. */
export class RecordingHost implements EngineHost {
  readonly ids = new Set<string>();
  readonly deliveries: Delivery[] = [];
  readonly errors: Error[] = [];
  readonly moves: string[] = [];
  /** What `Engine.forward` of another engine carried here. */
  readonly forwards: Buffer[] = [];
  invalidated: string | undefined;

  deliver(id: string, message: PreparedMessage, volatile: boolean): void {
    if (!this.ids.has(id)) return;
    const text = message.data.toString();
    this.deliveries.push({ id, text, offset: message.offset, volatile, message });
  }
  clientIds(): Iterable<string> {
    return this.ids;
  }
  report(error: Error): void {
    this.errors.push(error);
  }
  invalidate(reason: string): void {
    this.invalidated = reason;
  }
  moved(id: string): number | undefined {
    this.moves.push(id);
    return undefined;
  }
  forwarded(message: Buffer): void {
    this.forwards.push(Buffer.from(message));
  }

  /** What `id` received, as text. */
  textsOf(id: string): string[] {
    return this.deliveries.filter((d) => d.id === id).map((d) => d.text);
  }
}

export const SETTINGS: EngineSettings = { window: 60_000, maxMessages: 100, maxBytes: 1 << 20 };

let sequence = 0;
/** An id that no other test (or run, for a shared store) uses. */
export function freshId(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${++sequence}`;
}

/** Everything a contract test needs: an attached engine and its host. */
export interface EngineUnderTest {
  readonly engine: Engine;
  readonly host: RecordingHost;
  /** Publishes a text message (reliable unless `volatile`). */
  send(text: string, audience: Audience, volatile?: boolean): PreparedMessage;
  /** Waits until everything published so far has been delivered to the local client `id`. */
  settle(id: string): Promise<void>;
  /** Reads a whole replay, batch by batch; `null` when the engine answered a gap. */
  drain(cursor: ReplayCursor): Promise<string[] | null>;
}

export type EngineFactory = () => Engine | Promise<Engine>;

async function setUp(factory: EngineFactory, settings = SETTINGS): Promise<EngineUnderTest> {
  const engine = await factory();
  const host = new RecordingHost();
  engine.attach(host, settings);
  await engine.ready();
  const send = (text: string, audience: Audience, volatile = false) => {
    const message = prepareMessage(text);
    expect(engine.publish(message, audience, volatile)).toBe(true);
    return message;
  };
  return {
    engine,
    host,
    send,
    settle: async (id) => {
      const barrier = `barrier:${++sequence}`;
      send(barrier, { kind: 'client', id });
      await waitFor(() => host.textsOf(id).includes(barrier), {
        message: `the barrier for ${id}`,
      });
      // The barrier is not part of what the test looks at.
      host.deliveries.splice(
        host.deliveries.findIndex((d) => d.text === barrier),
        1,
      );
    },
    drain: async (cursor) => {
      const texts: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        const batch = await cursor.next(3);
        if (batch === null) return null;
        if (batch.length === 0) return texts;
        texts.push(...batch.map((m) => m.data.toString()).filter((t) => !t.startsWith('barrier:')));
      }
      throw new Error('The replay did not end within 10,000 batches');
    },
  };
}

/** A session on the engine, known to its host as a local client. */
function session(t: EngineUnderTest, label: string) {
  const id = freshId(label);
  const token = `token-${id}`;
  t.engine.createSession({
    id,
    token,
    protocol: 'chat.v1',
    identity: { user: label, roles: ['a'] },
  });
  t.host.ids.add(id);
  return { id, token, since: t.engine.position };
}

/** Asks to resume `s` from `offset` (its start by default), with its own token. */
function resumeOf(
  t: EngineUnderTest,
  s: { id: string; token: string; since: number },
  offset = s.since,
) {
  return t.engine.resume({ id: s.id, token: s.token, epoch: t.engine.epoch, offset });
}

/**
 * The shared suite. `factory` makes a new, unattached engine for each test; `close` runs after
 * each (the engine's own `close()` is always called).
 */
export function describeEngineContract(name: string, factory: EngineFactory): void {
  describe(`${name} keeps the engine contract`, () => {
    const withEngine =
      (fn: (t: EngineUnderTest) => Promise<void>, settings?: EngineSettings) => async () => {
        const t = await setUp(factory, settings);
        try {
          await fn(t);
        } finally {
          await t.engine.close();
        }
      };

    it(
      'refuses a second attach: one engine serves one server',
      withEngine(async ({ engine }) => {
        expect(() => engine.attach(new RecordingHost(), SETTINGS)).toThrow(/already attached/);
      }),
    );

    it(
      'delivers a broadcast to every local client but the excepted, once, sharing one message',
      withEngine(async (t) => {
        const [a, b, c] = [freshId('a'), freshId('b'), freshId('c')];
        for (const id of [a, b, c]) t.host.ids.add(id);
        const message = t.send('hello', { kind: 'all', except: new Set([c]) });
        await t.settle(a);
        await t.settle(b);
        expect(t.host.textsOf(a)).toEqual(['hello']);
        expect(t.host.textsOf(b)).toEqual(['hello']);
        expect(t.host.textsOf(c)).toEqual([]);
        const copies = t.host.deliveries.filter((d) => d.text === 'hello');
        expect(new Set(copies.map((d) => d.message.data)).size).toBe(1);
        expect(message.data.toString()).toBe('hello');
      }),
    );

    it(
      'keeps rooms as two indexes: members, rooms of a client, counts, empty rooms deleted',
      withEngine(async ({ engine }) => {
        const [a, b] = [freshId('a'), freshId('b')];
        engine.join(a, 'r1');
        engine.join(a, 'r2');
        engine.join(b, 'r1');
        expect([...engine.members('r1')].sort()).toEqual([a, b].sort());
        expect([...engine.roomsOf(a)].sort()).toEqual(['r1', 'r2']);
        expect(engine.roomCount).toBe(2);
        engine.leave(a, 'r2');
        expect([...engine.rooms()]).toEqual(['r1']);
        engine.forget(a);
        engine.forget(b);
        expect(engine.roomCount).toBe(0);
        expect(engine.members('r1').size).toBe(0);
      }),
    );

    it(
      'delivers to members of any of several rooms once each, and passes the volatile flag',
      withEngine(async (t) => {
        const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(freshId);
        for (const id of [a!, b!, c!, d!]) t.host.ids.add(id);
        t.engine.join(a!, 'r1');
        t.engine.join(b!, 'r1');
        t.engine.join(b!, 'r2');
        t.engine.join(c!, 'r2');
        t.send('both', { kind: 'rooms', rooms: ['r1', 'r2'], except: new Set([c!]) });
        t.send('fleeting', { kind: 'rooms', rooms: ['r2'] }, true);
        for (const id of [a!, b!, c!, d!]) await t.settle(id);
        // A volatile message skips the log: in a shared engine it may overtake reliable ones.
        expect(t.host.textsOf(a!)).toEqual(['both']);
        expect(t.host.textsOf(b!).sort()).toEqual(['both', 'fleeting']);
        expect(t.host.textsOf(c!)).toEqual(['fleeting']);
        expect(t.host.textsOf(d!)).toEqual([]);
        const volatile = t.host.deliveries.filter((x) => x.text === 'fleeting');
        expect(volatile.every((x) => x.volatile && x.offset === undefined)).toBe(true);
      }),
    );

    it(
      'logs reliable messages for sessions with increasing offsets, delivered in offset order',
      withEngine(async (t) => {
        const s = session(t, 's');
        t.engine.join(s.id, 'room');
        for (let i = 0; i < 20; i++) {
          t.send(
            `m${i}`,
            i % 2 ? { kind: 'client', id: s.id } : { kind: 'rooms', rooms: ['room'] },
          );
        }
        await t.settle(s.id);
        const got = t.host.deliveries.filter((d) => d.id === s.id);
        expect(got.map((d) => d.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
        const offsets = got.map((d) => d.offset!);
        expect(offsets.every((o, i) => o > s.since && (i === 0 || o > offsets[i - 1]!))).toBe(true);
        expect(t.engine.position).toBeGreaterThanOrEqual(offsets.at(-1)!);
      }),
    );

    it(
      'refuses a resume with the reason: unknown session, wrong token, other epoch, ended',
      withEngine(async (t) => {
        const s = session(t, 's');
        const ask = (over: Partial<{ id: string; token: string; epoch: string; offset: number }>) =>
          t.engine.resume({
            id: s.id,
            token: s.token,
            epoch: t.engine.epoch,
            offset: s.since,
            ...over,
          });
        expect(await ask({ id: freshId('nobody') })).toEqual({ ok: false, reason: 'unknown' });
        expect(await ask({ token: 'not-the-token' })).toEqual({ ok: false, reason: 'token' });
        expect(await ask({ epoch: 'another-epoch' })).toEqual({ ok: false, reason: 'epoch' });
        const good = await ask({});
        expect(good.ok).toBe(true);
        if (good.ok) good.replay.close();
        t.engine.end(s.id, 'expired');
        expect(await ask({})).toEqual({ ok: false, reason: 'expired' });
        const other = session(t, 'closed');
        t.engine.end(other.id, 'closed');
        const closed = await resumeOf(t, other);
        expect(closed).toEqual({ ok: false, reason: 'unknown' });
      }),
    );

    it(
      'resumes with the last persisted client number, the session protocol and its identity',
      withEngine(async (t) => {
        const s = session(t, 's');
        await t.engine.persist([{ id: s.id, seq: 7 }]);
        await t.engine.persist([{ id: s.id, seq: 9 }]);
        t.engine.detach(s.id);
        const r = await resumeOf(t, s);
        expect(r.ok && { lastSeq: r.lastSeq, protocol: r.protocol, identity: r.identity }).toEqual({
          lastSeq: 9,
          protocol: 'chat.v1',
          identity: { user: 's', roles: ['a'] }, // what authenticate said, for the resume's check
        });
        if (r.ok) r.replay.close();
      }),
    );

    it(
      'replays what a session missed, in order, by membership at the time each was sent',
      withEngine(async (t) => {
        const s = session(t, 's');
        const other = session(t, 'other');
        t.engine.join(s.id, 'early');
        t.send('before the position', { kind: 'rooms', rooms: ['early'] });
        await t.settle(s.id);
        const position = t.host.deliveries.filter((d) => d.id === s.id).at(-1)!.offset!;
        t.engine.detach(s.id);
        t.send('to it', { kind: 'client', id: s.id });
        t.send('to the other', { kind: 'client', id: other.id });
        t.send('to early', { kind: 'rooms', rooms: ['early'] });
        t.send('to late, before it joined', { kind: 'rooms', rooms: ['late'] });
        t.engine.join(s.id, 'late');
        t.send('to late, after it joined', { kind: 'rooms', rooms: ['late'] });
        t.send('to everyone but it', { kind: 'all', except: new Set([s.id]) });
        t.send('to everyone', { kind: 'all' });
        t.send('volatile', { kind: 'client', id: s.id }, true);
        t.send('to early, just before it left', { kind: 'rooms', rooms: ['early'] });
        t.engine.leave(s.id, 'early');
        t.send('to early, after it left', { kind: 'rooms', rooms: ['early'] });
        await t.settle(other.id);
        const r = await resumeOf(t, s, position);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(await t.drain(r.replay)).toEqual([
          'to it',
          'to early',
          'to late, after it joined',
          'to everyone',
          'to early, just before it left',
        ]);
        r.replay.close();
      }),
    );

    it(
      'keeps what a request, reply or failure is, live and in a replay, text and binary',
      withEngine(async (t) => {
        const s = session(t, 's');
        const position = t.engine.position;
        const calls = [
          prepareCall('q', 'n1.1', 'question'),
          prepareCall('r', '7', Buffer.from([0, 1, 2])),
          prepareCall('f', '8', '{"message":"no"}'),
          prepareMessage('plain'),
        ];
        for (const m of calls)
          expect(t.engine.publish(m, { kind: 'client', id: s.id }, false)).toBe(true);
        await t.settle(s.id);
        const form = (m: PreparedMessage) => [m.kind ?? 'm', m.binary, m.data.toString('latin1')];
        const expected = [
          ['q', false, 'n1.1:question'],
          ['r', true, '7:\x00\x01\x02'],
          ['f', false, '8:{"message":"no"}'],
          ['m', false, 'plain'],
        ];
        expect(t.host.deliveries.filter((d) => d.id === s.id).map((d) => form(d.message))).toEqual(
          expected,
        );
        expect(t.engine.node).toMatch(/^[\w-]{1,64}$/);
        t.engine.detach(s.id);
        const r = await resumeOf(t, s, position);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const replayed: PreparedMessage[] = [];
        for (let i = 0; i < 100; i++) {
          const batch = await r.replay.next(10);
          if (!batch || batch.length === 0) break;
          replayed.push(...batch);
        }
        r.replay.close();
        expect(replayed.filter((m) => !m.data.toString().startsWith('barrier:')).map(form)).toEqual(
          expected,
        );
      }),
    );

    it(
      'never replays partially: a session that needs a trimmed message resumes with gap',
      withEngine(
        async (t) => {
          const s = session(t, 's');
          t.engine.detach(s.id);
          for (let i = 0; i < 12; i++) t.send(`m${i}`, { kind: 'client', id: s.id });
          const r = await resumeOf(t, s);
          const refused = !r.ok ? r.reason : await t.drain(r.replay);
          expect(refused === 'gap' || refused === null).toBe(true);
          if (r.ok) r.replay.close();
        },
        { ...SETTINGS, maxMessages: 5 },
      ),
    );

    it(
      'lets a quiet session resume after the messages of others were trimmed',
      withEngine(
        async (t) => {
          const s = session(t, 's');
          const other = session(t, 'other');
          t.engine.detach(s.id);
          for (let i = 0; i < 12; i++) t.send(`m${i}`, { kind: 'client', id: other.id });
          await t.settle(other.id);
          const r = await resumeOf(t, s);
          expect(r.ok).toBe(true);
          if (r.ok) {
            expect(await t.drain(r.replay)).toEqual([]);
            r.replay.close();
          }
        },
        { ...SETTINGS, maxMessages: 5 },
      ),
    );

    it(
      'starts a new session at the current position: nothing from before reaches it',
      withEngine(async (t) => {
        const first = session(t, 'first');
        t.send('old', { kind: 'all' });
        await t.settle(first.id);
        const s = session(t, 'late');
        expect(s.since).toBeGreaterThanOrEqual(
          t.host.deliveries.find((d) => d.text === 'old')!.offset!,
        );
        t.engine.detach(s.id);
        const r = await resumeOf(t, s);
        expect(r.ok && (await t.drain(r.replay))).toEqual([]);
        if (r.ok) r.replay.close();
      }),
    );
  });
}
