import type { NodeContext } from './node-context.js';
import { text } from './scripts.js';

/** The head of a forwarded answer on a node's control channel. */
const FORWARD = Buffer.from('A ', 'latin1');

/** What the control channel needs of its node. */
export interface ControlHost {
  /** An answer to a request of this node, carried here by the node its client is on now. */
  forwarded(message: Buffer): void;
  /** Another node took session `id` over: it ends here; the last client number it handled. */
  moved(id: string): number | undefined;
  /** Resolves once every room change made so far is applied and written. */
  settled(): Promise<void>;
  /** The session is the new owner's: this node forgets it. */
  handedOver(id: string): void;
  /** A probe of this node's subscriber came back. */
  echoed(probe: string | undefined): void;
}

/**
 * A node's control channel, the hand-over between nodes: `T <id> <node>` asks a session's
 * previous owner to let go, `R <id> <seq>` answers with the last client number it handled,
 * `A <bytes>` carries an answer to a request of the node, and `P <probe>` is its subscriber's
 * own probe.
 */
export class ControlChannel {
  readonly #ctx: NodeContext;
  readonly #handoffTimeout: number;
  readonly #host: ControlHost;
  readonly #handoffs = new Map<string, (seq: number | undefined) => void>();
  /**
   * Resumes under way here, after their claim: what each learns of the last client number
   * handled (undefined when it cannot know), for a node that claims the session meanwhile.
   */
  readonly #resuming = new Map<string, Promise<number | undefined>>();

  constructor(ctx: NodeContext, handoffTimeout: number, host: ControlHost) {
    this.#ctx = ctx;
    this.#handoffTimeout = handoffTimeout;
    this.#host = host;
  }

  /**
   * Takes session `id` over from node `previous` for a resume that claimed it with `lastSeq`:
   * resolves with the number the previous owner handled last, or undefined when it is gone
   * (`alive` false) or cannot say.
   */
  async takeOver(
    id: string,
    previous: string,
    alive: boolean,
    lastSeq: number,
  ): Promise<number | undefined> {
    const handing = alive ? this.#handOff(id, previous) : Promise.resolve(undefined);
    const learned = handing.then(
      (handed) => (handed === undefined ? undefined : Math.max(lastSeq, handed)),
      () => undefined,
    );
    this.#resuming.set(id, learned);
    try {
      return await handing;
    } finally {
      if (this.#resuming.get(id) === learned) this.#resuming.delete(id);
    }
  }

  /**
   * Asks the previous owner to let go; resolves with its last handled number, or undefined
   * when it does not answer in time or cannot say.
   */
  async #handOff(id: string, previous: string): Promise<number | undefined> {
    const k = this.#ctx.keys;
    const answered = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#handoffs.delete(id);
        resolve(undefined);
      }, this.#handoffTimeout);
      timer.unref();
      this.#handoffs.set(id, (seq) => {
        clearTimeout(timer);
        this.#handoffs.delete(id);
        resolve(seq);
      });
    });
    await this.#ctx.commands.call(['SPUBLISH', k.control(previous), `T ${id} ${this.#ctx.node}`]);
    return answered;
  }

  /** Carries an answer to a request of node `node` over its control channel (`A <bytes>`). */
  forward(node: string, message: Buffer): void {
    this.#ctx.send(['SPUBLISH', this.#ctx.keys.control(node), Buffer.concat([FORWARD, message])]);
  }

  onMessage(bytes: Buffer): void {
    if (bytes.subarray(0, FORWARD.length).equals(FORWARD)) {
      this.#host.forwarded(bytes.subarray(FORWARD.length));
      return;
    }
    const [kind, id, arg] = text(bytes).split(' ');
    if (kind === 'T' && id && arg) {
      // Another node took this session over: end it here, let its room changes reach Redis,
      // and tell the new owner the last client number handled. A session this node was still
      // resuming passes on what that resume learns; one it does not have is `-`: the new owner
      // cannot know what was handled, and marks the client's resent messages redelivered.
      const local = this.#host.moved(id);
      const resuming = this.#resuming.get(id);
      const seq =
        local !== undefined ? Promise.resolve(local) : (resuming ?? Promise.resolve(undefined));
      void Promise.all([seq, this.#host.settled()]).then(([n]) => {
        this.#host.handedOver(id);
        this.#ctx.send(['SPUBLISH', this.#ctx.keys.control(arg), `R ${id} ${n ?? '-'}`]);
      });
    } else if (kind === 'R' && id) {
      const n = Number(arg);
      this.#handoffs.get(id)?.(arg === '-' || !Number.isSafeInteger(n) ? undefined : n);
    } else if (kind === 'P') {
      this.#host.echoed(id);
    }
  }
}
