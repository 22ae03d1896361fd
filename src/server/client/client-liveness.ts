import { kExpire, kPing } from '../client-symbols.js';
import { firstPingAt, type Liveness } from '../heartbeat-sweeper.js';

/**
 * What a liveness record pings and expires: the client, which knows how its link pings. The
 * record names itself, so a client ignores the record of a link it has already replaced.
 */
interface Owner {
  [kPing](record: ClientLiveness): void;
  [kExpire](record: ClientLiveness): void;
}

/**
 * One link's heartbeat record for the sweeper. Its methods live on the prototype, not in
 * closures, so an idle connection costs one small object here.
 *
 * @example
 * sweeper.add(new ClientLiveness(client, now(), 25_000));
 */
export class ClientLiveness implements Liveness {
  lastSeen: number;
  pingSentAt = 0;
  nextPingAt: number;
  readonly pingWhenBusy: boolean;
  readonly #owner: Owner;

  constructor(owner: Owner, now: number, interval: number, pingWhenBusy = false) {
    this.#owner = owner;
    this.pingWhenBusy = pingWhenBusy;
    this.lastSeen = now;
    this.nextPingAt = firstPingAt(now, interval);
  }

  ping(): void {
    this.#owner[kPing](this);
  }

  expire(): void {
    this.#owner[kExpire](this);
  }
}
