import { firstPingAt, type Liveness } from '../heartbeat-sweeper.js';

/**
 * What a liveness record pings and expires: the client's connection, which knows how its link
 * pings. The record names itself, so a connection ignores the record of a link it replaced.
 */
export interface LivenessOwner {
  ping(record: ClientLiveness): void;
  expire(record: ClientLiveness): void;
}

/**
 * One link's heartbeat record, made by `HeartbeatSweeper#track()`. The sweeper writes the ping
 * times; the connection reports what it hears through `heard()` and `ponged()`, so every field
 * has one writer. Its methods live on the prototype, not in closures, so an idle connection
 * costs one small object here.
 */
export class ClientLiveness implements Liveness {
  lastSeen: number;
  pingSentAt = 0;
  nextPingAt: number;
  readonly pingWhenBusy: boolean;
  readonly #owner: LivenessOwner;

  constructor(owner: LivenessOwner, now: number, interval: number, pingWhenBusy: boolean) {
    this.#owner = owner;
    this.pingWhenBusy = pingWhenBusy;
    this.lastSeen = now;
    this.nextPingAt = firstPingAt(now, interval);
  }

  /** A frame of any kind arrived: proof of life. */
  heard(now: number): void {
    this.lastSeen = now;
  }

  /** The answer to the outstanding ping arrived; returns the round-trip time, if one was out. */
  ponged(now: number): number | undefined {
    this.lastSeen = now;
    if (this.pingSentAt === 0) return undefined;
    const rtt = now - this.pingSentAt;
    this.pingSentAt = 0;
    return rtt;
  }

  ping(): void {
    this.#owner.ping(this);
  }

  expire(): void {
    this.#owner.expire(this);
  }
}
