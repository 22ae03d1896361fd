import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { PreparedMessage } from '../client/outgoing-message.js';
import type {
  Audience,
  Engine,
  EngineHost,
  EngineSettings,
  ReplayBatch,
  ReplayCursor,
  ResumeRequest,
  ResumeResult,
  Room,
  SessionInit,
} from './engine.js';
import { LocalMembership } from './memory-rooms.js';
import { type LogEntry, MemoryReplayLog } from './replay-log.js';

/** Sessions that ended by expiry are remembered (ids only) this long, to say `expired`. */
const TOMBSTONES = 10_000;
/** Rooms a session left are remembered this many times, then older resumes get `gap`. */
const LEFT_ROOMS = 256;

interface LeftRoom {
  readonly room: Room;
  /** The session was a member for messages with offsets in (from, to]. */
  readonly from: number;
  readonly to: number;
}

/** What the engine keeps of one session, whether its link is up or not. */
interface SessionRecord {
  readonly token: Buffer;
  readonly protocol: string;
  readonly identity: unknown;
  lastSeq: number;
  /** The log offset when it started: broadcasts to everyone after it are for it. */
  readonly since: number;
  /** The offset of the last entry addressed to it, so a quiet session resumes after trimming. */
  lastAddressed: number;
  /** The rooms it is in, each with the offset at which it joined. */
  readonly joined: Map<Room, number>;
  /** Rooms it left, while the log may still hold messages sent to them during its membership. */
  left: LeftRoom[];
  /** A resume from below this offset cannot be served: the older `left` entries were dropped. */
  historySince: number;
}

function sameToken(a: Buffer, b: string): boolean {
  const y = Buffer.from(b);
  return a.length === y.length && timingSafeEqual(a, y);
}

/**
 * Whether a log entry was addressed to a session, by membership at the time it was sent:
 * to it; to a room it was in then (joined before the entry, and not yet left); or to
 * everyone after it started. `except` leaves it out.
 */
function isFor(entry: LogEntry, id: string, s: SessionRecord): boolean {
  const a = entry.audience;
  if (a.kind === 'client') return a.id === id;
  if (a.except?.has(id)) return false;
  const o = entry.offset;
  if (a.kind === 'all') return o > s.since;
  for (const room of a.rooms) {
    const joinedAt = s.joined.get(room);
    if (joinedAt !== undefined && o > joinedAt) return true;
  }
  return s.left.some((l) => o > l.from && o <= l.to && a.rooms.includes(l.room));
}

/** Entries scanned per read before a cursor yields, so a long replay never blocks the loop. */
const SCAN = 4_096;

class MemoryCursor implements ReplayCursor {
  #after: number;
  readonly #log: MemoryReplayLog;
  readonly #id: string;
  readonly #session: SessionRecord;

  constructor(log: MemoryReplayLog, id: string, session: SessionRecord, after: number) {
    this.#log = log;
    this.#id = id;
    this.#session = session;
    this.#after = after;
  }

  next(max: number): ReplayBatch {
    const wanted = (entry: LogEntry) => isFor(entry, this.#id, this.#session);
    for (;;) {
      const read = this.#log.read(this.#after, max, wanted, SCAN);
      // Trimmed past the cursor: a hole only if something was addressed to it after `after`.
      if (read === null) return this.#session.lastAddressed > this.#after ? null : [];
      this.#after = read.scanned;
      if (read.entries.length > 0 || read.scanned >= this.#log.last) return read.entries;
    }
  }

  close(): void {}
}

/**
 * The default engine: rooms, fan-out, the replay log and the sessions of one server process,
 * in its memory. `publish()` logs and delivers synchronously, so the hot path costs no
 * promise, and a restart starts a new epoch: old sessions are told `resumed: false` with
 * reason `epoch`.
 *
 * @example
 * new HeartlineServer({ port: 8080, engine: memoryEngine() }) // the same as the default
 */
export class MemoryEngine extends LocalMembership implements Engine {
  #host: EngineHost | undefined;
  #log: MemoryReplayLog | undefined;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #tombstones = new Set<string>();
  readonly durable = false;
  readonly node = randomBytes(6).toString('base64url');

  attach(host: EngineHost, settings: EngineSettings): void {
    if (this.#host) throw new Error('This engine is already attached to a HeartlineServer');
    this.#host = host;
    this.#log = new MemoryReplayLog({
      maxMessages: settings.maxMessages,
      maxBytes: settings.maxBytes,
      maxAge: settings.window,
    });
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  get epoch(): string {
    return this.#logOf().epoch;
  }

  get position(): number {
    return this.#logOf().last;
  }

  join(id: string, room: Room): void {
    if (!this.localRooms.join(id, room)) return;
    this.#sessions.get(id)?.joined.set(room, this.#logOf().last);
  }

  leave(id: string, room: Room): void {
    if (!this.localRooms.leave(id, room)) return;
    const session = this.#sessions.get(id);
    const from = session?.joined.get(room);
    if (!session || from === undefined) return;
    session.joined.delete(room);
    const log = this.#logOf();
    if (log.last > from) session.left.push({ room, from, to: log.last });
    // Keep only what the log may still hold; past the bound, refuse older resumes instead.
    session.left = session.left.filter((l) => l.to >= log.first);
    if (session.left.length > LEFT_ROOMS) {
      session.historySince = session.left.shift()!.to;
    }
  }

  forget(id: string): void {
    this.localRooms.leaveAll(id);
  }

  /** One process, no other node to carry an answer to. */
  forward(): boolean {
    return false;
  }

  publish(message: PreparedMessage, audience: Audience, volatile: boolean): boolean {
    const host = this.#host!;
    const sessions = this.#sessions;
    // Logged only when a session may be in the audience: plain clients have nothing to resume.
    const logged =
      !volatile && sessions.size > 0 && (audience.kind !== 'client' || sessions.has(audience.id));
    const offset = logged ? this.#logOf().append(audience, message) : 0;
    if (audience.kind === 'client') {
      // The hot path of every `client.send()`: no closure, one lookup.
      if (logged) sessions.get(audience.id)!.lastAddressed = offset;
      host.deliver(audience.id, message, volatile);
      return true;
    }
    const deliver = (id: string) => {
      if (logged) {
        const session = sessions.get(id);
        if (session) session.lastAddressed = offset;
      }
      host.deliver(id, message, volatile);
    };
    if (audience.kind === 'rooms') {
      this.localRooms.forEachMember(audience.rooms, audience.except, deliver);
    } else {
      for (const id of host.clientIds()) if (!audience.except?.has(id)) deliver(id);
    }
    return true;
  }

  createSession(init: SessionInit): void {
    const since = this.#logOf().last;
    this.#sessions.set(init.id, {
      token: Buffer.from(init.token),
      protocol: init.protocol,
      identity: init.identity,
      lastSeq: 0,
      since,
      lastAddressed: since,
      joined: new Map(),
      left: [],
      historySince: 0,
    });
  }

  resume(request: ResumeRequest): Promise<ResumeResult> {
    return Promise.resolve(this.#resume(request));
  }

  #resume(request: ResumeRequest): ResumeResult {
    const log = this.#logOf();
    if (request.epoch !== log.epoch) return { ok: false, reason: 'epoch' };
    const session = this.#sessions.get(request.id);
    if (!session) {
      return { ok: false, reason: this.#tombstones.has(request.id) ? 'expired' : 'unknown' };
    }
    if (!sameToken(session.token, request.token)) return { ok: false, reason: 'token' };
    const { offset } = request;
    if (offset > log.last || offset < session.since) return { ok: false, reason: 'unknown' };
    // All or nothing: a session that was sent something no longer kept cannot resume.
    const trimmed = offset + 1 < log.first && session.lastAddressed > offset;
    if (trimmed || offset < session.historySince) return { ok: false, reason: 'gap' };
    return {
      ok: true,
      lastSeq: session.lastSeq,
      protocol: session.protocol,
      identity: session.identity,
      rooms: [...session.joined.keys()],
      replay: new MemoryCursor(log, request.id, session, offset),
      clean: true,
    };
  }

  persist(batch: ReadonlyArray<{ readonly id: string; readonly seq: number }>): void {
    for (const { id, seq } of batch) {
      const session = this.#sessions.get(id);
      if (session && seq > session.lastSeq) session.lastSeq = seq;
    }
  }

  detach(_id: string): void {
    // Nothing to do: the session stays in this process's memory, rooms and all.
  }

  release(_id: string, _lastSeq: number): void {
    // Never called: sessions in memory end with their process (`durable` is false).
  }

  end(id: string, reason: 'closed' | 'expired'): void {
    if (!this.#sessions.delete(id) || reason !== 'expired') return;
    this.#tombstones.add(id);
    if (this.#tombstones.size > TOMBSTONES) {
      this.#tombstones.delete(this.#tombstones.values().next().value!);
    }
  }

  close(): Promise<void> {
    this.localRooms.clear();
    this.#sessions.clear();
    this.#tombstones.clear();
    return Promise.resolve();
  }

  #logOf(): MemoryReplayLog {
    if (!this.#log) throw new Error('The engine is not attached to a HeartlineServer yet');
    return this.#log;
  }
}

/**
 * The default engine: everything in this process's memory (see `MemoryEngine`).
 *
 * @example
 * new HeartlineServer({ port: 8080, engine: memoryEngine() })
 */
export function memoryEngine(): Engine {
  return new MemoryEngine();
}
