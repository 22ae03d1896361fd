import { TERMINATION_CAUSES, type TerminationCause } from './termination-cause.js';

/** A snapshot of what the server has done since it started; see `HeartlineServer#stats()`. */
export interface ServerStatsSnapshot {
  /** Clients connected now. */
  readonly connections: number;
  /** Clients accepted since start. */
  readonly accepted: number;
  /** Upgrades refused with an HTTP status, by status (`{ 403: 2, 503: 10 }`). */
  readonly rejected: Readonly<Record<number, number>>;
  /** Rooms with at least one member now. */
  readonly rooms: number;
  /** Payload bytes of the messages received (frame headers and control frames excluded). */
  readonly bytesIn: number;
  /** Payload bytes of the messages written to sockets. */
  readonly bytesOut: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Volatile messages dropped because a client's send buffer was filling up. */
  readonly volatileDropped: number;
  /** Heartbeat sweeps that found the event loop stalled and so terminated no one. */
  readonly stalls: number;
  /** Session mode: sessions waiting for a resume now (their link dropped). */
  readonly detached: number;
  /**
   * Session mode: waiting sessions ended before their window passed, because
   * `resume.maxSessions` were waiting (the one detached longest ago goes first).
   */
  readonly evicted: number;
  /** Ended connections by cause. */
  readonly terminations: Readonly<Record<TerminationCause, number>>;
  /**
   * `client.request()`s waiting for their answer now, and answers that came for no waiting
   * request (after its timeout), dropped.
   */
  readonly requests: { readonly pending: number; readonly late: number };
}

/** The mutable counters behind `stats()`: plain additions, nothing allocated per message. */
export class ServerStats {
  connections = 0;
  accepted = 0;
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  volatileDropped = 0;
  evicted = 0;
  readonly rejected = new Map<number, number>();
  readonly terminations = Object.fromEntries(TERMINATION_CAUSES.map((c) => [c, 0])) as Record<
    TerminationCause,
    number
  >;

  reject(status: number): void {
    this.rejected.set(status, (this.rejected.get(status) ?? 0) + 1);
  }

  snapshot(
    rooms: number,
    stalls: number,
    detached: number,
    requests: ServerStatsSnapshot['requests'],
  ): ServerStatsSnapshot {
    return Object.freeze({
      connections: this.connections,
      accepted: this.accepted,
      rejected: Object.freeze(Object.fromEntries(this.rejected)),
      rooms,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      volatileDropped: this.volatileDropped,
      stalls,
      detached,
      evicted: this.evicted,
      terminations: Object.freeze({ ...this.terminations }),
      requests: Object.freeze({ ...requests }),
    });
  }
}
