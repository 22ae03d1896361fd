import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CallbackError, ClientViolationError } from '../../common/errors.js';
import { type ConnectFrame, FrameError } from '../../protocol/frames.js';
import { type PreparedMessage, sessionFrame } from '../client/outgoing-message.js';
import type { ServerClient } from '../client/server-client.js';
import { kFlushAck, kResume, kSession } from '../client-symbols.js';
import type { Room } from '../engine/engine.js';
import { type Audience, MemoryReplayLog, type ReplayLog } from '../engine/replay-log.js';
import type { ResolvedServerOptions, ResumeSettings } from '../options.js';
import { safeEmit } from '../safe-emit.js';
import type { ServerStats } from '../server-stats.js';
import { awaitConnect, sendHello } from './handshake.js';
import { SessionLink } from './server-session.js';
import { createToken, type ResumeRefusal, SessionStore } from './session-store.js';

/** What the server lends its session manager. */
export interface SessionHost {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  roomsOf(id: string): ReadonlySet<Room>;
  running(): boolean;
  report(error: Error, client: ServerClient | undefined): void;
  /** Accepts a new session (the hello is the manager's, through `hello()`). */
  accept(
    ws: WebSocket,
    request: IncomingMessage,
    appProtocol: string,
    session: SessionLink,
    refusal: ResumeRefusal | undefined,
  ): void;
}

/**
 * Session mode for one server (PROTOCOL.md): the replay log, the sessions, the `connect`
 * handshake of every `heartline.v1` link, resumes, and the acks batched once per event-loop
 * turn. `HeartlineServer` owns one when `resume` is not `false`.
 */
export class SessionManager {
  readonly log: ReplayLog;
  readonly #store: SessionStore;
  readonly #host: SessionHost;
  readonly #settings: ResumeSettings;
  /** heartline.v1 links still waiting for their connect frame. */
  readonly #handshakes = new Set<WebSocket>();
  /** Sessions owed a cumulative ack, sent once per event-loop turn. */
  readonly #acks = new Set<ServerClient>();
  #ackFlush: ReturnType<typeof setImmediate> | undefined;

  constructor(settings: ResumeSettings, host: SessionHost) {
    this.#settings = settings;
    this.#host = host;
    this.log = new MemoryReplayLog({ ...settings, maxAge: settings.window });
    this.#store = new SessionStore(settings.window);
  }

  /** Sessions alive, attached or waiting for their client. */
  get size(): number {
    return this.#store.size;
  }

  /** Links in their handshake, counted against the connection cap. */
  get pending(): number {
    return this.#handshakes.size;
  }

  append(audience: Audience, message: PreparedMessage): number {
    return this.log.append(audience, message.data, message.binary);
  }

  /** A heartline.v1 link: wait for its connect frame, then start or resume a session. */
  async handshake(ws: WebSocket, request: IncomingMessage, appProtocol: string): Promise<void> {
    this.#handshakes.add(ws);
    const { heartbeat, shutdown } = this.#host.options;
    const frame = await awaitConnect(ws, heartbeat ? heartbeat.timeout : 10_000);
    this.#handshakes.delete(ws);
    if (frame === null || ws.readyState !== ws.OPEN) return;
    if (!this.#host.running()) {
      ws.close(shutdown.code, shutdown.reason);
      return;
    }
    if (frame instanceof FrameError) {
      const who = request.socket.remoteAddress ?? 'unknown address';
      const message = `A heartline.v1 client (${who}) ${frame.message}; closed with ${frame.code}`;
      this.#host.report(new ClientViolationError(message, '', frame.code), undefined);
      this.#host.stats.reject(400);
      ws.close(frame.code, 'Protocol error');
      return;
    }
    const refusal = frame.sid === undefined ? undefined : this.#resume(ws, request, frame);
    if (refusal === null) return; // resumed
    this.#host.accept(ws, request, appProtocol, new SessionLink(createToken()), refusal);
  }

  /** A new session was accepted: register it and greet it. */
  started(ws: WebSocket, client: ServerClient, refusal: ResumeRefusal | undefined): void {
    this.#store.add(client);
    this.#hello(ws, client, { resumed: false, offset: this.log.last, reason: refusal });
  }

  detached(client: ServerClient): void {
    this.#store.detached(client);
  }

  ended(client: ServerClient): void {
    this.#store.delete(client);
    this.#acks.delete(client);
  }

  ackLater(client: ServerClient): void {
    this.#acks.add(client);
    this.#ackFlush ??= setImmediate(() => {
      this.#ackFlush = undefined;
      for (const c of this.#acks) c[kFlushAck]();
      this.#acks.clear();
    });
  }

  /** Shutdown: links still in their handshake are closed, and every timer stops. */
  close(code: number, reason: string): void {
    this.#store.close();
    for (const ws of this.#handshakes) ws.close(code, reason);
    if (this.#ackFlush) clearImmediate(this.#ackFlush);
    this.#ackFlush = undefined;
    this.#acks.clear();
  }

  /** Resumes the session `frame` names and returns null, or returns why it cannot. */
  #resume(ws: WebSocket, request: IncomingMessage, frame: ConnectFrame): ResumeRefusal | null {
    const verdict = this.#store.check(frame, this.log, (id) => this.#host.roomsOf(id));
    if (!verdict.ok) return verdict.reason;
    const { client, replay } = verdict;
    this.#store.attached(client);
    client[kResume](ws, request.socket.remoteAddress);
    const stats = this.#host.stats;
    stats.connections++;
    stats.accepted++;
    client[kSession]!.resumed();
    this.#hello(ws, client, { resumed: true, offset: frame.offset! });
    // Replayed before any live message: the link only now belongs to the session.
    for (const entry of replay) {
      ws.send(sessionFrame({ data: entry.data, binary: entry.binary, offset: entry.offset }), {
        binary: entry.binary,
      });
    }
    safeEmit(client, 'resume', [], (error) =>
      this.#host.report(
        new CallbackError(`A 'resume' listener of client ${client.id} threw`, error),
        client,
      ),
    );
    return null;
  }

  #hello(
    ws: WebSocket,
    client: ServerClient,
    fields: { resumed: boolean; offset: number; reason?: ResumeRefusal | undefined },
  ): void {
    const hb = this.#host.options.heartbeat || { interval: 0, timeout: 0 };
    const session = client[kSession]!;
    sendHello(ws, {
      sid: client.id,
      token: session.token,
      epoch: this.log.epoch,
      offset: fields.offset,
      resumed: fields.resumed,
      ...(fields.reason ? { reason: fields.reason } : {}),
      ack: session.lastSeq,
      protocol: client.protocol,
      heartbeat: { interval: hb.interval, timeout: hb.timeout },
      window: this.#settings.window,
    });
  }
}
