import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Timers } from '../../common/timers.js';
import type { ConnectFrame } from '../../protocol/frames.js';
import type { ServerClient } from '../client/server-client.js';
import { kExpireSession, kSession } from '../client-symbols.js';
import type { Room } from '../engine/engine.js';
import type { LogEntry, ReplayLog } from '../engine/replay-log.js';

/** Why a resume was refused; the client gets it as `hello.reason` (PROTOCOL.md). */
export type ResumeRefusal = 'unknown' | 'token' | 'expired' | 'epoch' | 'gap';

export type ResumeVerdict =
  | { readonly ok: true; readonly client: ServerClient; readonly replay: LogEntry[] }
  | { readonly ok: false; readonly reason: ResumeRefusal };

/** Sessions that ended by expiry are remembered (ids only) this long, to say `expired`. */
const TOMBSTONES = 10_000;

/** A new resume token: 128 random bits. */
export function createToken(): string {
  return randomBytes(16).toString('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether a log entry was addressed to a session: to it, to a room it is in (membership at
 * replay time: it survives the drop), or to everyone; `except` leaves the sender out.
 */
function isFor(entry: LogEntry, id: string, rooms: ReadonlySet<Room>): boolean {
  const a = entry.audience;
  if (a.kind === 'session') return a.id === id;
  if (a.except?.includes(id)) return false;
  return a.kind === 'all' || a.rooms.some((room) => rooms.has(room));
}

/**
 * The sessions of one server process: every session-mode client by id, attached or waiting
 * for its client, and the one timer that ends those whose resume window passed. Detached
 * sessions expire in the order they were detached (the window is the same for all), so the
 * timer only ever looks at the oldest.
 */
export class SessionStore {
  readonly #sessions = new Map<string, ServerClient>();
  /** Detached sessions by id → when they expire; insertion order is expiry order. */
  readonly #detached = new Map<string, number>();
  readonly #tombstones = new Set<string>();
  readonly #timers = new Timers<'expire'>({ unref: true });
  readonly #window: number;

  constructor(window: number) {
    this.#window = window;
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(client: ServerClient): void {
    this.#sessions.set(client.id, client);
  }

  /** The session ended (closed, or expired): forget it. */
  delete(client: ServerClient): void {
    this.#sessions.delete(client.id);
    this.#detached.delete(client.id);
  }

  /** Its link dropped: the resume window starts. */
  detached(client: ServerClient): void {
    this.#detached.delete(client.id); // re-insert at the end: it expires last
    this.#detached.set(client.id, Date.now() + this.#window);
    if (!this.#timers.has('expire')) this.#timers.set('expire', this.#window, () => this.#sweep());
  }

  /**
   * Checks a resuming `connect` frame: the epoch, the session, its token, and whether every
   * message it missed is still in the log. All or nothing: a refusal never touches the real
   * session (a wrong token must not disturb it).
   */
  check(
    frame: ConnectFrame,
    log: ReplayLog,
    roomsOf: (id: string) => ReadonlySet<Room>,
  ): ResumeVerdict {
    if (frame.epoch !== log.epoch) return { ok: false, reason: 'epoch' };
    const client = this.#sessions.get(frame.sid!);
    if (!client)
      return { ok: false, reason: this.#tombstones.has(frame.sid!) ? 'expired' : 'unknown' };
    const session = client[kSession]!;
    if (!sameToken(frame.token!, session.token)) return { ok: false, reason: 'token' };
    const offset = frame.offset!;
    if (offset > log.last) return { ok: false, reason: 'unknown' };
    // A session that was sent nothing after its position resumes even when the log was trimmed.
    if (session.lastAddressed <= offset) return { ok: true, client, replay: [] };
    const entries = log.since(frame.epoch, offset);
    if (entries === null) return { ok: false, reason: 'gap' };
    const rooms = roomsOf(client.id);
    return { ok: true, client, replay: entries.filter((e) => isFor(e, client.id, rooms)) };
  }

  /** The client came back in time. */
  attached(client: ServerClient): void {
    this.#detached.delete(client.id);
  }

  close(): void {
    this.#timers.clearAll();
    this.#detached.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, expiresAt] of this.#detached) {
      if (expiresAt > now) {
        this.#timers.set('expire', expiresAt - now, () => this.#sweep());
        return;
      }
      this.#detached.delete(id);
      const client = this.#sessions.get(id);
      this.#tombstone(id);
      client?.[kExpireSession]();
    }
  }

  #tombstone(id: string): void {
    this.#tombstones.add(id);
    if (this.#tombstones.size > TOMBSTONES) {
      const oldest = this.#tombstones.values().next().value;
      if (oldest !== undefined) this.#tombstones.delete(oldest);
    }
  }
}
