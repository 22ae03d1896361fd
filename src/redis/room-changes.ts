/** What the room changes need to know of the node. */
export interface RoomChangesHost {
  /** Where this node's last publish lands, or undefined when nothing of it is on its way. */
  landing(): Promise<number> | undefined;
  /** The offset the feed has delivered up to. */
  position(): number;
  /** A change learned where its publish landed: delivery held for it may go on. */
  landed(): void;
}

/**
 * The room changes of one node, applied in its program order: each takes effect after the
 * offset of everything this node published before it, so that a client that joins after a
 * send does not get it, and one that leaves after a send does.
 */
export class RoomChanges {
  readonly #host: RoomChangesHost;
  /** Room changes waiting for the feed to reach the offset they follow, in order. */
  #changes: { at: number; readonly apply: (at: number) => void }[] = [];
  /** Who waits for every room change to be applied (and written). */
  #settling: (() => void)[] = [];

  constructor(host: RoomChangesHost) {
    this.#host = host;
  }

  /** Some change is still waiting. */
  get pending(): boolean {
    return this.#changes.length > 0;
  }

  /**
   * The first change waits to learn the offset its publish landed at: delivering past it could
   * deliver by the wrong membership.
   */
  get blocking(): boolean {
    return this.#changes[0]?.at === Number.POSITIVE_INFINITY;
  }

  /**
   * Applies a room change after everything this node published before it: at once when none
   * of it is on its way, else once the feed has delivered the last of it (at the position the
   * feed is at then, if it got there first).
   */
  schedule(apply: (at: number) => void): void {
    const landing = this.#host.landing();
    if (!landing && this.#changes.length === 0) {
      apply(this.#host.position());
      return;
    }
    // Changes apply strictly in order, from the head: one with nothing of its own on the way
    // waits only for those before it (-Infinity); one behind a publish, for its offset.
    const change = { at: landing ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, apply };
    this.#changes.push(change);
    void landing?.then((offset) => {
      change.at = offset;
      this.apply();
      this.#host.landed();
    });
    this.apply();
  }

  /** Applies, in order, the waiting changes whose offset the feed has reached. */
  apply(): void {
    const position = this.#host.position();
    while (this.#changes.length > 0 && this.#changes[0]!.at <= position) {
      this.#changes.shift()!.apply(position);
    }
    if (this.#changes.length === 0) for (const resolve of this.#settling.splice(0)) resolve();
  }

  /**
   * Resolves once every room change made so far is applied and its write issued: a resume
   * reads the session's rooms from Redis only after that, here or (on a hand-over) on the
   * node that had it.
   */
  settled(): Promise<void> {
    if (this.#changes.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settling.push(resolve));
  }

  /** Drops every waiting change (the engine closes). */
  clear(): void {
    this.#changes = [];
  }
}
