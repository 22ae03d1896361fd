import { kExpire } from './client-symbols.js';
import { firstPingAt, type Liveness } from './heartbeat-sweeper.js';

/** What a liveness record pings and expires: a `ws` socket and its client. */
interface Pingable {
  ping(): void;
}
interface Expirable {
  [kExpire](): void;
}

/**
 * One client's heartbeat record for the sweeper. Its methods live on the prototype, not in
 * closures, so an idle connection costs one small object here.
 *
 * @example
 * sweeper.add(new ClientLiveness(ws, client, now(), 25_000));
 */
export class ClientLiveness implements Liveness {
  lastSeen: number;
  pingSentAt = 0;
  nextPingAt: number;
  readonly #socket: Pingable;
  readonly #owner: Expirable;

  constructor(socket: Pingable, owner: Expirable, now: number, interval: number) {
    this.#socket = socket;
    this.#owner = owner;
    this.lastSeen = now;
    this.nextPingAt = firstPingAt(now, interval);
  }

  ping(): void {
    this.#socket.ping();
  }

  expire(): void {
    this.#owner[kExpire]();
  }
}
