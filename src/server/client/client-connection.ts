import type { WebSocket } from 'ws';
import { CallbackError, ClientViolationError, EngineError } from '../../common/errors.js';
import { CloseCode, describeClose } from '../../protocol/close-codes.js';
import type { ReplayCursor } from '../engine/engine.js';
import { safeEmit } from '../safe-emit.js';
import type { ServerStats } from '../server-stats.js';
import type { RawFrame } from '../session/handshake.js';
import { ServerSession } from '../session/server-session.js';
import { keepsSession, type TerminationCause } from '../termination-cause.js';
import type { ClientHost } from './client-host.js';
import { ClientInbound } from './client-inbound.js';
import { ClientLink, type Ending } from './client-link.js';
import type { ClientLiveness, LivenessOwner } from './client-liveness.js';
import { type ClientState, canMove } from './client-state.js';
import type { WriterHost } from './link-writer.js';
import type { PreparedMessage } from './outgoing-message.js';
import type { ServerClient } from './server-client.js';
import type { SocketOwner } from './socket-events.js';

/**
 * The engine behind one `ServerClient`: it owns the client's current link (`ClientLink`: the
 * `ws` socket, whose events it receives, and the one bounded write every outbound frame goes
 * through), liveness, and the lifecycle as one state with one writer; what the client sends
 * goes to its `ClientInbound` (limits, text pings, session frames). In session mode it outlives
 * its links: `resume()` gives it the next one, and the replay of what the session missed
 * streams under the same high-water mark as live traffic.
 */
export class ClientConnection implements LivenessOwner, SocketOwner, WriterHost {
  readonly #client: ServerClient;
  readonly #host: ClientHost;
  /** Session mode's state; undefined for a plain client. */
  readonly session: ServerSession | undefined;
  readonly #inbound: ClientInbound;
  #state: ClientState = 'open';
  /** The current link; none while a session is detached. */
  #link: ClientLink | undefined;
  #remoteAddress: string | undefined;
  #ending: Ending | undefined;

  constructor(
    client: ServerClient,
    host: ClientHost,
    ws: WebSocket,
    remoteAddress: string | undefined,
    session?: { readonly token: string; readonly lastSeq: number },
  ) {
    this.#client = client;
    this.#host = host;
    this.#inbound = new ClientInbound(this, client, host);
    if (session) {
      const { token, lastSeq } = session;
      this.session = new ServerSession(client.id, token, lastSeq, this.#inbound, host.acks!);
    }
    this.#attach(ws, remoteAddress);
  }

  get state(): ClientState {
    return this.#state;
  }

  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }

  get rtt(): number | undefined {
    return this.#inbound.rtt;
  }

  /** The current link's heartbeat record. */
  get liveness(): ClientLiveness | undefined {
    return this.#link?.liveness;
  }

  get acceptsBatches(): boolean {
    return this.#link?.batched ?? false;
  }

  /** The current link's send buffer passed half `highWaterMark` and has not drained since. */
  get congested(): boolean {
    return this.#link?.writer.congested ?? false;
  }

  get bufferedAmount(): number {
    return this.#link?.writer.bufferedAmount ?? 0;
  }

  /** Whether a resume may take this session over: it is not ending for good. */
  get resumable(): boolean {
    const e = this.#ending;
    return (
      this.#state === 'detached' ||
      (this.#state === 'open' && !e) ||
      (this.#state === 'closing' && e !== undefined && keepsSession(e.cause, e.code, false))
    );
  }

  // ── outbound ───────────────────────────────────────────────────────────────────────────────

  /**
   * A message for this client, from a direct send or a fan-out. Returns whether it was written
   * or, in session mode, kept in the log for the next link.
   */
  deliver(message: PreparedMessage, volatile: boolean): boolean {
    if (this.#state === 'open' && this.#link) return this.#link.writer.deliver(message, volatile);
    return this.#state === 'detached' && message.offset !== undefined;
  }

  /** A control frame (hello, ack, ping, pong), through the same bounded write. */
  write(frame: string): boolean {
    return this.#state === 'open' && this.#link !== undefined && this.#link.writer.control(frame);
  }

  /** Answers an RFC 6455 ping on the current link. */
  pong(data: Buffer): void {
    this.#link?.writer.pong(data);
  }

  /**
   * Session mode: the hello just written negotiated batches (PROTOCOL.md "Batches"), of at most
   * `limit` bytes to the client; the client may send them too, within `maxPayload`.
   */
  batched(limit: number): void {
    const link = this.#link;
    if (!link) return;
    link.batched = true;
    link.writer.batch(limit);
  }

  /**
   * Streams the replay of a resumed session on the current link. One the log can no longer
   * complete ends the link with 4410: the client will be told `resumed: false` next time.
   */
  async replay(cursor: ReplayCursor): Promise<void> {
    const link = this.#link;
    if (!link) return cursor.close();
    if ((await link.writer.replay(cursor)) === 'gap' && link === this.#link) {
      this.end(CloseCode.ResumeRejected, 'Replay no longer possible', 'server_close', false);
    }
  }

  // WriterHost: what the link's writer needs.
  drained(): void {
    this.emit('drain', []);
  }

  get stats(): ServerStats {
    return this.#host.stats;
  }

  get highWaterMark(): number {
    return this.#host.options.highWaterMark;
  }

  /** The writer's report of a reader too slow for the high-water mark. */
  slow(buffered: number): void {
    const { highWaterMark } = this.#host.options;
    this.breach(
      CloseCode.SlowConsumer,
      'Slow consumer',
      'slow_consumer',
      `reads too slowly: ${buffered} bytes wait in its send buffer (highWaterMark ${highWaterMark})`,
    );
  }

  // ── inbound (ClientInbound) ────────────────────────────────────────────────────────────────

  onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws === this.#link?.ws) this.#inbound.message(data, isBinary);
  }

  /** Frames a session's client sent right after its `connect`, held by the handshake. */
  receiveHeld(frames: readonly RawFrame[]): void {
    const ws = this.#link?.ws;
    if (ws) for (const [data, isBinary] of frames) this.onMessage(ws, data, isBinary);
  }

  onPong(ws: WebSocket): void {
    if (ws === this.#link?.ws) this.#inbound.pong();
  }

  onPing(ws: WebSocket, data: Buffer): void {
    if (ws === this.#link?.ws) this.#inbound.ping(data);
  }

  onError(ws: WebSocket, error: Error & { code?: string }): void {
    if (ws === this.#link?.ws) this.#inbound.error(error);
  }

  onClose(ws: WebSocket, code: number, reasonBytes: Buffer): void {
    if (ws !== this.#link?.ws) return; // a replaced link was already counted
    const ending: Ending = this.#ending ?? {
      code,
      reason: reasonBytes.toString(),
      cause: code === CloseCode.AbnormalClosure ? 'connection_lost' : 'client_close',
    };
    this.#unlink(ending);
    const session = this.session;
    const { engine } = this.#host;
    if (!session || !keepsSession(ending.cause, ending.code, engine.durable)) {
      this.#finish(ending.code, ending.reason, 'closed');
      return;
    }
    if (ending.cause === 'shutdown') {
      this.#handOver(ending.code, ending.reason);
      return;
    }
    session.lastDrop = { code: ending.code, reason: ending.reason };
    this.#setState('detached');
    this.#host.engine.detach(this.#client.id);
    this.#host.detached(this.#client);
    this.emit('drop', [ending.code, ending.reason]);
  }

  // ── liveness (LivenessOwner) ───────────────────────────────────────────────────────────────

  ping(record: ClientLiveness): void {
    const ws = this.#link?.ws;
    if (!ws || record !== this.#link?.liveness) return;
    if (this.session) this.session.ping();
    else ws.ping();
  }

  expire(record: ClientLiveness): void {
    if (record !== this.#link?.liveness || !this.#link) return;
    this.end(CloseCode.HeartbeatTimeout, 'Heartbeat timeout', 'heartbeat_timeout', true);
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  /**
   * Ends the link with a closing handshake (or at once with `terminate`), and the client with
   * it unless the session outlives the link; a detached session ends at once.
   */
  end(code: number, reason: string, cause: TerminationCause, terminate: boolean): void {
    if (this.#state === 'closed') return;
    const link = this.#link;
    if (!link) {
      // A detached session at shutdown, with an engine that outlives this process, waits on.
      if (cause === 'shutdown' && this.session && this.#host.engine.durable) {
        this.#handOver(code, reason);
      } else this.#finish(code, reason, 'closed');
      return;
    }
    if (terminate && this.#ending) {
      link.ws.terminate(); // a close under way that must not wait any longer (shutdown deadline)
      return;
    }
    this.#ending ??= { code, reason, cause };
    this.#setState('closing');
    link.dropLiveness();
    if (terminate) link.ws.terminate();
    else {
      link.writer.flush(); // what this turn wrote goes before the close frame
      link.ws.close(code, reason);
    }
  }

  /** Session mode: the resume window passed without the client. */
  expireSession(): void {
    const last = this.session?.lastDrop ?? { code: CloseCode.AbnormalClosure, reason: '' };
    this.#finish(last.code, last.reason, 'expired');
  }

  /**
   * Session mode: the session resumed on another server process. A link still open here is
   * half-open (the client already left it): it is terminated, and the client object ends with
   * 4000 Reconnecting, the code that says its session continues elsewhere.
   */
  moved(): number | undefined {
    const ws = this.#link?.ws;
    if (ws) {
      this.#unlink({ code: CloseCode.AbnormalClosure, reason: '', cause: 'replaced' });
      ws.terminate();
    }
    this.#finish(CloseCode.Reconnecting, 'Session resumed on another server', 'moved');
    return this.session?.lastSeq;
  }

  /**
   * Session mode: the client is back on `ws`. A link that still looks open (half-open) is
   * terminated and counted as replaced. The caller sends the hello, then the replay.
   */
  resume(ws: WebSocket, remoteAddress: string | undefined): void {
    const old = this.#link?.ws;
    if (old) {
      this.#unlink(
        this.#ending ?? {
          code: CloseCode.AbnormalClosure,
          reason: 'replaced by a resumed link',
          cause: 'replaced',
        },
      );
      old.terminate();
      this.#setState('detached');
    }
    this.#setState('open');
    this.session!.attached();
    this.#attach(ws, remoteAddress);
  }

  /**
   * Shutdown with an engine that outlives this process: the session is released to the
   * shared store with the last message it handled, for a resume on another process, and the
   * client object here ends.
   */
  #handOver(code: number, reason: string): void {
    const { engine } = this.#host;
    const result = engine.release(this.#client.id, this.session!.lastSeq);
    result?.catch((error: unknown) =>
      this.#host.report(
        new EngineError(`Session ${this.#client.id} could not be handed over`, error),
        this.#client,
      ),
    );
    this.#finish(code, reason, 'moved');
  }

  /** The one writer of the state, checked against the table. */
  #setState(to: ClientState): void {
    const from = this.#state;
    if (from === to) return;
    if (!canMove(from, to))
      throw new Error(`Heartline bug: illegal client state move ${from} → ${to}`);
    this.#state = to;
  }

  #attach(ws: WebSocket, remoteAddress: string | undefined): void {
    this.#remoteAddress = remoteAddress;
    this.#link = new ClientLink(ws, this, this.#host, this.session !== undefined);
  }

  /** The current link is gone: counted, and forgotten. */
  #unlink(ending: Ending): void {
    const link = this.#link!;
    this.#link = undefined;
    this.#ending = undefined;
    link.close(ending, this.#client);
  }

  /** The client ends for good: it leaves the server, then `close` fires once. */
  #finish(code: number, reason: string, why: 'closed' | 'expired' | 'moved'): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    if (this.session && why !== 'moved') this.#host.engine.end(this.#client.id, why);
    this.#host.ended(this.#client, why === 'moved');
    this.emit('close', [code, reason]);
  }

  /** Ends the link for what the client did, once; `what` says it in the error the server reports. */
  breach(
    code: number,
    reason: string,
    cause: TerminationCause,
    what: string,
    wsError?: Error,
  ): void {
    const link = this.#link;
    if (this.#ending || !link) return;
    this.#ending = { code, reason, cause };
    this.#setState('closing');
    const client = this.#client;
    const message = `Client ${client.id} (${this.#remoteAddress ?? 'unknown address'}) ${what}; closed with ${code} ${describeClose(code).name}`;
    this.#host.report(new ClientViolationError(message, client.id, code, wsError), client);
    // Closing (not terminating) lets the client read why; `closeTimeout` bounds the wait.
    if (!wsError) {
      link.writer.flush();
      link.ws.close(code, reason);
    }
  }

  emit(event: 'message' | 'close' | 'drop' | 'drain', args: readonly unknown[]): void {
    const client = this.#client;
    safeEmit(client, event, args, (error) =>
      this.#host.report(
        new CallbackError(`A '${event}' listener of client ${client.id} threw`, error),
        client,
      ),
    );
  }
}
