/**
 * The engine seam: where room memberships, fan-out, the replay log and the sessions live.
 * `HeartlineServer` owns one engine (option `engine`); the default, `memoryEngine()`, keeps all
 * four in this process. A shared engine (`heartline/redis`) keeps them where several server
 * processes see the same state, which is why the four sit behind one interface: a broadcast
 * must be logged and fanned out as one step, in one order, on every node.
 *
 * docs/server.md ("Writing an engine") describes the contract a third-party engine must keep;
 * `test/engine/contract.ts` is the shared suite every engine passes.
 */
import type { PreparedMessage } from '../client/outgoing-message.js';

/** A room name: any non-empty string the app chooses (`'room:42'`, `'user:7'`). */
export type Room = string;

/**
 * Who a message is for: one client (a session, for a direct send), the members of rooms, or
 * every client; `except` leaves ids out (typically the sender).
 */
export type Audience =
  | { readonly kind: 'client'; readonly id: string }
  | {
      readonly kind: 'rooms';
      readonly rooms: readonly Room[];
      readonly except?: ReadonlySet<string> | undefined;
    }
  | { readonly kind: 'all'; readonly except?: ReadonlySet<string> | undefined };

/** What the server lends its engine: the clients connected to this process. */
export interface EngineHost {
  /**
   * Writes a message to one local client, plain or session. `message.offset` is set when the
   * message was logged for sessions. Unknown ids are ignored.
   */
  deliver(id: string, message: PreparedMessage, volatile: boolean): void;
  /** The ids of every client of this process, attached or waiting for a resume. */
  clientIds(): Iterable<string>;
  /** Something failed that no caller can be told about (a lost connection to a store). */
  report(error: Error): void;
  /**
   * The log lost its history (a shared store restarted empty): no session of this process can
   * resume any more. The server closes their links with 4410 so that each starts afresh.
   */
  invalidate(reason: string): void;
  /**
   * Another process resumed session `id`: the server ends its client here and answers the last
   * client message number it handled (undefined when it has no such session), which the new
   * owner takes as its own, so that nothing is handled twice.
   */
  moved(id: string): number | undefined;
  /**
   * An answer to a request this process sent (`client.request()`) reached another process of
   * the cluster, where its client is now, and was carried here by `Engine.forward`.
   */
  forwarded(message: Buffer): void;
}

/** What a session starts with: its identity, and what only its owner may learn. */
export interface SessionInit {
  readonly id: string;
  /** The secret resume token; an engine that stores it outside the process stores a hash. */
  readonly token: string;
  /** The application sub-protocol agreed at the upgrade, restored with the session. */
  readonly protocol: string;
  /**
   * What the server's `authenticate` said of the client (JSON-serialisable), or `undefined`:
   * a resume by another identity is refused, on any process.
   */
  readonly identity?: unknown;
}

/** What a resuming client claims, from its `connect` frame (PROTOCOL.md). */
export interface ResumeRequest {
  readonly id: string;
  readonly token: string;
  readonly epoch: string;
  /** The offset of the last reliable message the client received. */
  readonly offset: number;
  /** The highest sequence number the client had sent, when it said (`connect.sent`). */
  readonly sent?: number | undefined;
}

/** Why a resume was refused; the client gets it as `hello.reason` (PROTOCOL.md). */
export type ResumeRefusal = 'unknown' | 'token' | 'expired' | 'epoch' | 'gap';

/**
 * One batch of a replay: the entries still owed, oldest first, each once; `[]` when the
 * session has caught up (from then on every entry reaches it live); `null` when an entry it
 * needs is no longer kept, so the replay cannot be completed (never a partial one).
 */
export type ReplayBatch = readonly PreparedMessage[] | null;

/**
 * The messages a resumed session missed, read in batches so that a replay streams under the
 * same high-water mark as live traffic and never copies the log. While a cursor is open the
 * server writes nothing live to that session: every entry it would have written comes from
 * the cursor, in offset order, until `next()` answers `[]`.
 */
export interface ReplayCursor {
  next(max: number): ReplayBatch | Promise<ReplayBatch>;
  /** The server is done with it (caught up, or the link ended first). */
  close(): void;
}

/** A resume the engine accepted. */
export interface Resumption {
  readonly ok: true;
  /** The last client sequence number handled (and persisted) for this session. */
  readonly lastSeq: number;
  readonly protocol: string;
  /** The identity the session started with (`SessionInit.identity`). */
  readonly identity?: unknown;
  /** The rooms the session is in, for a client object made on this process. */
  readonly rooms: readonly Room[];
  readonly replay: ReplayCursor;
  /**
   * False when the previous owner could not hand the session over (it crashed): client
   * messages numbered above `lastSeq` may have reached the app there already, and are passed
   * on marked `redelivered`.
   */
  readonly clean: boolean;
}

export type ResumeResult = Resumption | { readonly ok: false; readonly reason: ResumeRefusal };

/**
 * Where reliable messages, sessions and room memberships live. The server calls every method
 * from its own event loop; none may throw for a reason the client caused.
 *
 * Ordering: `publish()` assigns offsets in call order within a process, and delivers to local
 * clients (through `EngineHost.deliver`) in offset order. The in-memory engine does both
 * synchronously inside `publish()`; a shared engine delivers when the entry comes back from
 * the shared log, so that every node sees one order.
 *
 * Membership: a room message is for the sessions that are members when it is published.
 * A replay resolves its audience the same way: a session never receives a room's messages from
 * before it joined, and never misses those sent while it was a member, even if it left since.
 */
export interface Engine {
  /**
   * Called once by the server that owns the engine, before anything else, with the server's
   * session settings (a shared engine needs the window for the lifetime of what it stores). An
   * engine serves one server: a second `attach()` throws.
   */
  attach(host: EngineHost, settings: EngineSettings): void;
  /** Resolves when the engine can serve sessions (a shared store connected). */
  ready(): Promise<void>;
  /** Names the log; a client holding another epoch cannot resume from it. */
  readonly epoch: string;
  /** The offset of the last entry delivered on this process: where a new session starts. */
  readonly position: number;
  /**
   * Whether sessions outlive this process (a shared store): at shutdown they are handed over,
   * to resume on another process, instead of ended.
   */
  readonly durable: boolean;
  /**
   * This process's name in its cluster, unique among the live ones (the memory engine: a
   * random one). The ids of the requests it sends start with it, so that an answer arriving on
   * another process can be forwarded here.
   */
  readonly node: string;
  /**
   * Carries `message` (opaque bytes) to process `node` of the cluster, whose host then gets
   * `forwarded(message)`. Returns false when there is no way there (the memory engine has no
   * other process); a process that is gone just never hears it.
   */
  forward(node: string, message: Buffer): boolean;

  join(id: string, room: Room): void;
  leave(id: string, room: Room): void;
  /** The client ended for good here: it leaves every room (its session, if any, is `end()`ed). */
  forget(id: string): void;
  /** Members of `room` on this process; an empty set for a room that does not exist. */
  members(room: Room): ReadonlySet<string>;
  /** The rooms a client of this process is in. */
  roomsOf(id: string): ReadonlySet<Room>;
  /** The names of the rooms with members on this process. */
  rooms(): Iterable<Room>;
  readonly roomCount: number;

  /**
   * Sends `message` to its audience. A reliable message that may reach a session is logged
   * first and gets `message.offset`; a volatile one is never logged. Returns `false` when the
   * message was not accepted (a shared store unreachable and its queue full): nothing is then
   * delivered, and nothing is dropped silently.
   */
  publish(message: PreparedMessage, audience: Audience, volatile: boolean): boolean;

  /** A new session starts on this process. */
  createSession(init: SessionInit): void;
  /** Checks a resume and, when it can be served in full, opens its replay. */
  resume(request: ResumeRequest): Promise<ResumeResult>;
  /**
   * Records the last client message handled by each session. The server acknowledges those
   * messages only once this settles, so that an acknowledged message is never handled twice.
   */
  persist(
    batch: ReadonlyArray<{ readonly id: string; readonly seq: number }>,
  ): void | Promise<void>;
  /** The session's link dropped on this process; it waits for a resume. */
  detach(id: string): void;
  /**
   * A durable engine only: this process shuts down and lets go of the session, whose last
   * handled client number is `lastSeq`; another process resumes it without asking this one.
   */
  release(id: string, lastSeq: number): void | Promise<void>;
  /** The session ended for good: closed, or `expired` (its resume window passed). */
  end(id: string, reason: 'closed' | 'expired'): void;
  /** Releases what the engine holds; the server calls it once, after its last client ended. */
  close(): Promise<void>;
}

/** The server's session settings, handed to its engine by `attach()`. */
export interface EngineSettings {
  /** ms a session outlives its dropped link (`resume.window`). */
  readonly window: number;
  /** Reliable messages the log keeps at most (`resume.maxMessages`). */
  readonly maxMessages: number;
  /** Payload bytes the log keeps at most (`resume.maxBytes`). */
  readonly maxBytes: number;
}
