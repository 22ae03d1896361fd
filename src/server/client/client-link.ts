import type { WebSocket } from 'ws';
import { channels } from '../channels.js';
import type { TerminationCause } from '../termination-cause.js';
import type { ClientHost } from './client-host.js';
import type { ClientLiveness, LivenessOwner } from './client-liveness.js';
import { LinkWriter, type WriterHost } from './link-writer.js';
import type { ServerClient } from './server-client.js';
import { listenTo, type SocketOwner } from './socket-events.js';

/** How a link is ending, decided by whoever ended it first. */
export interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly cause: TerminationCause;
}

/**
 * One link of a client: its `ws` socket, whose events go to the connection, the one bounded
 * write in front of it, its heartbeat record, and its count in the server's stats.
 */
export class ClientLink {
  readonly ws: WebSocket;
  /** What goes out on the link. */
  readonly writer: LinkWriter;
  /** The link's hello negotiated batches: the client may send them too. */
  batched = false;
  #liveness: ClientLiveness | undefined;
  readonly #host: ClientHost;

  constructor(
    ws: WebSocket,
    owner: LivenessOwner & SocketOwner & WriterHost,
    host: ClientHost,
    session: boolean,
  ) {
    this.ws = ws;
    this.#host = host;
    this.writer = new LinkWriter(ws, owner, session);
    this.#liveness = host.sweeper?.track(owner, session);
    const stats = host.stats;
    stats.connections++;
    stats.accepted++;
    listenTo(ws, owner);
  }

  /** The link's heartbeat record; undefined without a heartbeat, or once the link is closing. */
  get liveness(): ClientLiveness | undefined {
    return this.#liveness;
  }

  /** Stops the heartbeat of the link. */
  dropLiveness(): void {
    if (this.#liveness) this.#host.sweeper?.delete(this.#liveness);
    this.#liveness = undefined;
  }

  /** The link is gone: counted, and published on `heartline:server:drop`. */
  close(ending: Ending, client: ServerClient): void {
    this.dropLiveness();
    this.writer.close();
    const stats = this.#host.stats;
    stats.connections--;
    stats.terminations[ending.cause]++;
    if (channels.drop.hasSubscribers) {
      channels.drop.publish({
        clientId: client.id,
        code: ending.code,
        reason: ending.reason,
        cause: ending.cause,
        duration: Date.now() - client.connectedAt,
      });
    }
  }
}
