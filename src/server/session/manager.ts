import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { now } from '../../common/clock.js';
import { CallbackError, ClientViolationError, EngineError } from '../../common/errors.js';
import { CloseCode, formatRetryAfter } from '../../protocol/close-codes.js';
import {
  type ConnectFrame,
  encodeControl,
  FrameError,
  type HelloFrame,
  PROTOCOL_VERSION,
} from '../../protocol/frames.js';
import { createClientId } from '../client/client-id.js';
import { type ClientInit, kConnection, type ServerClient } from '../client/server-client.js';
import type { Engine, ResumeRefusal } from '../engine/engine.js';
import type { ResolvedServerOptions } from '../options.js';
import { safeEmit } from '../safe-emit.js';
import type { ServerStats } from '../server-stats.js';
import {
  causeOfReadError,
  describeReadError,
  type TerminationCause,
} from '../termination-cause.js';
import { sameIdentity } from '../upgrade/authenticate.js';
import { awaitConnect, type Connect, type HandshakeFailure, type RawFrame } from './handshake.js';
import { RefusalLimiter } from './refusal-limiter.js';
import { createToken, SessionStore } from './session-store.js';

/** What the server lends its session manager. */
export interface SessionHost {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly engine: Engine;
  running(): boolean;
  report(error: Error, client: ServerClient | undefined): void;
  /** The client object of session `id` on this process, if any. */
  local(id: string): ServerClient | undefined;
  /**
   * Makes and registers the client object of a session, lets `greet` write the hello on its
   * link, then announces it with `connection`.
   */
  admit(init: ClientInit, request: IncomingMessage, greet: (client: ServerClient) => void): void;
}

/** Frames a client may send between its `connect` and its session being ready. */
const HELD_FRAMES = 1_024;

/**
 * Session mode for one server (PROTOCOL.md): the `connect` handshake of every `heartline.v1`
 * link, new sessions and resumes through the engine, the hello, and the local sessions
 * waiting for their client. `HeartlineServer` owns one when `resume` is not `false`.
 */
export class SessionManager {
  readonly #host: SessionHost;
  readonly #store: SessionStore<{ readonly id: string; expire(): void }>;
  /** heartline.v1 links still in their handshake, counted against the connection cap. */
  readonly #handshakes = new Set<WebSocket>();
  /** Refused resumes per client address (`resume.maxRefusals`). */
  readonly #refusals: RefusalLimiter;

  constructor(host: SessionHost) {
    this.#host = host;
    const resume = host.options.resume;
    if (!resume) throw new Error('Heartline bug: a SessionManager without resume settings');
    this.#store = new SessionStore(resume.window, resume.maxSessions, () => host.stats.evicted++);
    this.#refusals = new RefusalLimiter({
      refusals: resume.maxRefusals,
      interval: resume.refusalInterval,
    });
  }

  /** Links in their handshake, counted against the connection cap. */
  get pending(): number {
    return this.#handshakes.size;
  }

  /** Sessions waiting for their client. */
  get waiting(): number {
    return this.#store.size;
  }

  /**
   * A heartline.v1 link: wait for its connect frame, then start or resume a session.
   * `identity` is what `authenticate` said of the link (undefined without it).
   */
  async handshake(
    ws: WebSocket,
    request: IncomingMessage,
    appProtocol: string,
    identity: unknown,
  ): Promise<void> {
    const host = this.#host;
    this.#handshakes.add(ws);
    try {
      const resume = host.options.resume as { handshakeTimeout: number };
      const connect = await awaitConnect(ws, {
        timeout: resume.handshakeTimeout,
        maxFrames: HELD_FRAMES,
        maxBytes: host.options.highWaterMark,
        overflow: (what) => this.#violation(request, 1008, 'rate_limit', what),
        readError: (error) => this.#readViolation(request, error),
      });
      if (!connect || !('frame' in connect)) return this.#failed(ws, request, connect);
      await host.engine.ready();
      if (ws.readyState !== ws.OPEN) return;
      if (!host.running()) {
        const { code, reason } = host.options.shutdown;
        ws.close(code, reason);
        return;
      }
      const frame = connect.frame;
      const refusal =
        frame.sid === undefined
          ? undefined
          : await this.#resume(ws, request, frame, connect, identity);
      if (refusal === null || ws.readyState !== ws.OPEN) return; // resumed, or gone meanwhile
      this.#start(ws, request, { protocol: appProtocol, identity }, connect, refusal);
    } finally {
      this.#handshakes.delete(ws);
    }
  }

  /** The link of a session dropped: its resume window starts. */
  detached(client: ServerClient): void {
    this.#store.detached({ id: client.id, expire: () => client[kConnection].expireSession() });
  }

  /** The session ended for good here. */
  ended(client: ServerClient): void {
    this.#store.delete(client.id);
  }

  /** Shutdown: links still in their handshake are closed, and every timer stops. */
  close(code: number, reason: string): void {
    this.#store.close();
    for (const ws of this.#handshakes) ws.close(code, reason);
  }

  #failed(ws: WebSocket, request: IncomingMessage, failure: HandshakeFailure): void {
    if (failure === null) return;
    if (failure instanceof FrameError) {
      this.#violation(request, failure.code, 'protocol_error', failure.message);
      if (ws.readyState === ws.OPEN) ws.close(failure.code, 'Protocol error');
      return;
    }
    this.#readViolation(request, failure.readError);
  }

  /** `ws` failed to read the link's frames and closed the socket itself, with the matching code. */
  #readViolation(request: IncomingMessage, error: Error & { code?: string }): void {
    const { closeCode, cause } = causeOfReadError(error);
    const what = describeReadError(error, this.#host.options.maxPayload);
    this.#violation(request, closeCode, cause, `${what} before its session started`, error);
  }

  /** A link that is not a client yet broke a rule: reported and counted like a client's. */
  #violation(
    request: IncomingMessage,
    code: number,
    cause: TerminationCause,
    what: string,
    wsError?: Error,
  ): void {
    const who = request.socket.remoteAddress ?? 'unknown address';
    const message = `A heartline.v1 client (${who}) ${what}; closed with ${code}`;
    this.#host.report(new ClientViolationError(message, '', code, wsError), undefined);
    this.#host.stats.terminations[cause]++;
  }

  /** A fresh session, asked for or after a refused resume (`refusal` says why). */
  #start(
    ws: WebSocket,
    request: IncomingMessage,
    { protocol, identity }: { protocol: string; identity: unknown },
    connect: Connect,
    refusal: ResumeRefusal | undefined,
  ): void {
    const host = this.#host;
    const id = createClientId();
    const token = createToken();
    host.engine.createSession({ id, token, protocol, identity });
    const init: ClientInit = {
      id,
      ws,
      protocol,
      identity,
      remoteAddress: request.socket.remoteAddress,
      session: { token, lastSeq: 0 },
    };
    host.admit(init, request, (client) =>
      this.#hello(client, {
        resumed: false,
        offset: host.engine.position,
        reason: refusal,
        batch: connect.frame.batch,
      }),
    );
    this.#held(id, connect.take());
  }

  /** Resumes the session `frame` names and returns null, or returns why it cannot. */
  async #resume(
    ws: WebSocket,
    request: IncomingMessage,
    frame: ConnectFrame,
    connect: Connect,
    identity: unknown,
  ): Promise<ResumeRefusal | null> {
    const host = this.#host;
    const id = frame.sid!;
    const address = request.socket.remoteAddress ?? '';
    const wait = this.#refusals.wait(address, now());
    if (wait > 0) {
      // Not looked up: the session stays as it is, and its real owner can resume it later.
      const resume = host.options.resume as { maxRefusals: number; refusalInterval: number };
      this.#violation(
        request,
        CloseCode.TryAgainLater,
        'rate_limit',
        `had more than ${resume.maxRefusals} resumes refused in ${resume.refusalInterval} ms`,
      );
      ws.close(CloseCode.TryAgainLater, formatRetryAfter('Too many refused resumes', wait));
      return null;
    }
    const result = await host.engine.resume({
      id,
      token: frame.token!,
      epoch: frame.epoch!,
      offset: frame.offset!,
      sent: frame.sent,
    });
    if (!result.ok) {
      // Only a wrong token is a guess. 'epoch', 'unknown', 'expired' and 'gap' are what every
      // honest client hears after a restart or a long absence; counted, they would shut the
      // clients behind one proxy or NAT out of a restarted server for minutes.
      if (result.reason === 'token') this.#refusals.refused(address, now());
      return result.reason;
    }
    if (!sameIdentity(identity, result.identity)) {
      // The right token from someone `authenticate` says is another: refused, and no session
      // starts for it (a fresh one would hand the link a session under the wrong name).
      result.replay.close();
      this.#refusals.refused(address, now());
      host.stats.reject(403);
      ws.close(CloseCode.Forbidden, 'Not the identity this session belongs to');
      return null;
    }
    const local = host.local(id);
    if (ws.readyState !== ws.OPEN || (local && !local[kConnection].resumable)) {
      // Gone meanwhile, or the app is ending this session for good at this very moment.
      result.replay.close();
      // Claimed from another process for a link that is gone: let go of it again, with what
      // the claim learned, so that the next process resumes it without asking this one.
      if (!local && host.engine.durable) this.#release(id, result.lastSeq);
      return ws.readyState === ws.OPEN ? 'unknown' : null;
    }
    const offset = frame.offset!;
    const remoteAddress = request.socket.remoteAddress;
    const redeliverUpTo = result.clean ? 0 : (frame.sent ?? 0);
    if (local) {
      this.#store.delete(id);
      local[kConnection].session!.redeliverUpTo = redeliverUpTo;
      local[kConnection].session!.skipTo(frame.from);
      local[kConnection].resume(ws, remoteAddress);
      this.#hello(local, { resumed: true, offset, batch: frame.batch });
      // The replay starts before any listener runs: what the app sends on 'resume' is logged,
      // and reaches the client after the messages it missed, never before them.
      void local[kConnection].replay(result.replay);
      safeEmit(local, 'resume', [], (error) =>
        host.report(new CallbackError(`A 'resume' listener of client ${id} threw`, error), local),
      );
    } else {
      // Resumed here from another process: a new object, announced as `connection`.
      const init: ClientInit = {
        id,
        ws,
        protocol: result.protocol,
        identity: result.identity,
        remoteAddress,
        session: { token: frame.token!, lastSeq: result.lastSeq },
        resumed: true,
      };
      host.admit(init, request, (c) => {
        c[kConnection].session!.redeliverUpTo = redeliverUpTo;
        c[kConnection].session!.skipTo(frame.from);
        this.#hello(c, { resumed: true, offset, batch: frame.batch });
        void c[kConnection].replay(result.replay); // before 'connection', as above
      });
    }
    this.#held(id, connect.take());
    return null;
  }

  #release(id: string, lastSeq: number): void {
    const released = this.#host.engine.release(id, lastSeq);
    released?.catch((error: unknown) =>
      this.#host.report(new EngineError(`Session ${id} could not be let go of`, error), undefined),
    );
  }

  /** Hands the frames held since `connect` to the session's connection. */
  #held(id: string, frames: RawFrame[]): void {
    if (frames.length > 0) this.#host.local(id)?.[kConnection].receiveHeld(frames);
  }

  /**
   * Writes the hello. `batch` is what the client's connect said it takes: batches are then on
   * for the link, both ways (PROTOCOL.md "Batches"), and the hello says what the server takes.
   */
  #hello(
    client: ServerClient,
    fields: {
      resumed: boolean;
      offset: number;
      reason?: ResumeRefusal | undefined;
      batch: number | undefined;
    },
  ): void {
    const { heartbeat, resume, maxPayload } = this.#host.options;
    const connection = client[kConnection];
    const hello: HelloFrame = {
      t: 'hello',
      v: PROTOCOL_VERSION,
      sid: client.id,
      token: connection.session!.token,
      epoch: this.#host.engine.epoch,
      offset: fields.offset,
      resumed: fields.resumed,
      ...(fields.reason ? { reason: fields.reason } : {}),
      ack: connection.session!.persistedSeq,
      protocol: client.protocol,
      heartbeat: heartbeat
        ? { interval: heartbeat.interval, timeout: heartbeat.timeout }
        : { interval: 0, timeout: 0 },
      window: resume ? resume.window : 0,
      ...(fields.batch ? { batch: maxPayload } : {}),
    };
    // The hello itself is never in a batch: the client learns from it that batches are on.
    connection.write(encodeControl(hello));
    if (fields.batch) connection.batched(fields.batch);
  }
}
