import { EngineError } from '../common/errors.js';
import { type MessageData, prepareMessage } from '../server/client/outgoing-message.js';
import type { Audience, Room } from '../server/engine/engine.js';
import { toRooms } from '../server/room-target.js';
import { AppendQueue } from './append-queue.js';
import { Keys } from './keys.js';
import { type RedisEngineOptions, resolveRedisOptions } from './options.js';
import { portsOf } from './port.js';

/** The log bounds an emitter trims to: those of the servers it feeds (their `resume`). */
export interface EmitterOptions extends RedisEngineOptions {
  /**
   * The servers' `resume.maxMessages` and `resume.maxBytes`: an emitter's appends trim the
   * shared log as the servers' do.
   */
  readonly log?: { readonly maxMessages?: number; readonly maxBytes?: number };
}

/**
 * Publishes to a Heartline cluster from a process that holds no sockets (a worker, a cron
 * job): its messages go into the same log as the servers', so they reach every member on
 * every node, in one order, and sessions that were away get them on resume.
 *
 * @example
 * const emitter = new HeartlineEmitter({ client: redis, prefix: 'chat' });
 * await emitter.to('room:42').send(JSON.stringify({ type: 'notice', text: 'Deploy at 5' }));
 * await emitter.close();
 */
export class HeartlineEmitter {
  readonly #queue: AppendQueue;
  #error: EngineError | undefined;

  constructor(options: EmitterOptions) {
    const { log, ...rest } = options;
    const o = resolveRedisOptions(rest);
    this.#queue = new AppendQueue(
      portsOf(o.client).commands,
      new Keys(o.prefix),
      {
        epoch: () => '', // whatever the log's epoch is: an emitter has no sessions to lose
        seen: () => 0,
        epochChanged: () => {},
        failing: (error) => {
          this.#error = error;
        },
        recovered: () => {
          this.#error = undefined;
        },
        // #publish() throws to the caller on every refusal; there is no one else to tell.
        full: () => {},
      },
      o.maxPending,
      {
        maxMessages: log?.maxMessages ?? 10_000,
        maxBytes: log?.maxBytes ?? 16 * 1024 * 1024,
        ttl: 10 * 60_000,
      },
    );
  }

  /**
   * The members of a room (or of any of several), cluster-wide.
   * @example await emitter.to(['a', 'b']).send('to members of a or b, once each');
   */
  to(room: Room | readonly Room[]): { send(data: MessageData): Promise<void> } {
    const rooms = toRooms(room);
    return { send: (data) => this.#publish(data, { kind: 'rooms', rooms }) };
  }

  /**
   * Every client of every server of the cluster.
   * @example await emitter.broadcast('maintenance in 5 minutes');
   */
  broadcast(data: MessageData): Promise<void> {
    return this.#publish(data, { kind: 'all' });
  }

  /** Waits until everything sent is in Redis, then stops. */
  async close(): Promise<void> {
    await this.#queue.drained();
    this.#queue.close();
  }

  async #publish(data: MessageData, audience: Audience): Promise<void> {
    const message = prepareMessage(data);
    if (!this.#queue.push(audience, message)) {
      throw (
        this.#error ??
        new EngineError('The emitter holds as much as it may while Redis is slow or away')
      );
    }
    await this.#queue.drained();
  }
}
