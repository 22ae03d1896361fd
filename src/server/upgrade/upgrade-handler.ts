import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CallbackError } from '../../common/errors.js';
import type { ResolvedServerOptions } from '../options.js';
import type { ServerStats } from '../server-stats.js';
import { authenticateUpgrade } from './authenticate.js';
import {
  checkCapacity,
  checkUpgrade,
  rejectUpgrade,
  type UpgradeAcceptance,
  type UpgradeRejection,
} from './upgrade-gate.js';

/** Bytes a client may send before its upgrade is accepted (while `authenticate` decides). */
const EARLY_BYTES = 64 * 1024;

/** What the upgrade handler asks of its server. */
export interface UpgradeHost {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  running(): boolean;
  /** The retry hint, in ms, of a draining server. */
  drainRetryAfter(): number;
  /** Links open now, and links in their session handshake or still sending their request. */
  connections(): number;
  pending(): number;
  report(error: Error): void;
  /** Every check passed: accept the WebSocket, as `identity` when `authenticate` said so. */
  accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    acceptance: UpgradeAcceptance,
    identity: unknown,
  ): void;
}

/**
 * An upgrade request from arrival to accept or refusal: the checks on the request (path,
 * origin, sub-protocol), the server's capacity, then `authenticate`, each refusal an HTTP
 * status before anything is accepted. Requests waiting for `authenticate` count against the
 * connection cap and wait at most `upgradeTimeout` ms (then 503).
 */
export class UpgradeHandler {
  readonly #host: UpgradeHost;
  /** Upgrades waiting for `authenticate`. */
  readonly #waiting = new Set<Duplex>();

  constructor(host: UpgradeHost) {
    this.#host = host;
  }

  /** Requests waiting for `authenticate`, counted against the connection cap. */
  get pending(): number {
    return this.#waiting.size;
  }

  handle(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const host = this.#host;
    let verdict: UpgradeAcceptance | UpgradeRejection;
    try {
      verdict = checkUpgrade(request, host.options);
    } catch (error) {
      host.report(new CallbackError('The `origins` or `protocols` function threw', error));
      verdict = { ok: false, status: 500, message: 'Internal Server Error' };
    }
    if (verdict.ok) verdict = this.#capacity() ?? verdict;
    if (!verdict.ok) this.#refuse(socket, verdict);
    else if (!host.options.authenticate) host.accept(request, socket, head, verdict, undefined);
    else void this.#authenticate(request, socket, head, verdict);
  }

  async #authenticate(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    acceptance: UpgradeAcceptance,
  ): Promise<void> {
    const host = this.#host;
    // Until ws takes the socket over, a reset must not become an uncaught error.
    const ignore = () => {};
    socket.on('error', ignore);
    // Read meanwhile, to see a client that leaves (its place is freed at once); whatever it
    // sent early is handed to ws with `head`, and more than EARLY_BYTES of it is an abuse.
    const early: Buffer[] = [];
    let earlyBytes = 0;
    const onData = (chunk: Buffer) => {
      earlyBytes += chunk.length;
      if (earlyBytes > EARLY_BYTES) socket.destroy();
      else early.push(chunk);
    };
    const onEnd = () => socket.destroy();
    socket.on('data', onData);
    socket.on('end', onEnd);
    this.#waiting.add(socket);
    const { upgradeTimeout } = host.options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<UpgradeRejection>((resolve) => {
      timer = setTimeout(() => {
        host.report(
          new Error(`\`authenticate\` did not decide within upgradeTimeout (${upgradeTimeout} ms)`),
        );
        resolve({
          ok: false,
          status: 503,
          message: 'Authentication timed out',
          headers: { 'Retry-After': '1' },
        });
      }, upgradeTimeout);
    });
    try {
      const verdict = await Promise.race([
        authenticateUpgrade(host.options.authenticate!, request, host.report),
        late,
      ]);
      if (socket.destroyed) return; // the client gave up meanwhile
      if (!verdict.ok) return this.#refuse(socket, verdict);
      // The server may have begun to drain while the app decided.
      const refusal = this.#capacity(1);
      if (refusal) return this.#refuse(socket, refusal);
      // ws listens for 'data' within this call, before the stream can emit more.
      socket.off('data', onData);
      socket.off('end', onEnd);
      const all = early.length > 0 ? Buffer.concat([head, ...early]) : head;
      host.accept(request, socket, all, acceptance, verdict.identity);
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(socket);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', ignore);
    }
  }

  /** 503 while draining or at the cap; `self` counts this request when it is among the pending. */
  #capacity(self = 0): UpgradeRejection | undefined {
    const host = this.#host;
    const { limit, retryAfter } = host.options.maxConnections;
    return checkCapacity({
      running: host.running(),
      drainRetryAfter: host.drainRetryAfter(),
      connections: host.connections(),
      pending: host.pending() + this.#waiting.size - self,
      limit,
      retryAfter,
    });
  }

  #refuse(socket: Duplex, rejection: UpgradeRejection): void {
    this.#host.stats.reject(rejection.status);
    rejectUpgrade(socket, rejection);
  }
}
