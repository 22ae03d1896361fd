import type { Engine } from '../engine/engine.js';
import type { HeartbeatSweeper } from '../heartbeat-sweeper.js';
import type { ResolvedServerOptions } from '../options.js';
import type { ServerRequests } from '../requests.js';
import type { ServerStats } from '../server-stats.js';
import type { AckBatcher } from '../session/acks.js';
import type { ServerClient } from './server-client.js';

/** What the server lends every client's connection: shared services, and two notifications. */
export interface ClientHost {
  readonly options: ResolvedServerOptions;
  readonly stats: ServerStats;
  readonly engine: Engine;
  readonly sweeper: HeartbeatSweeper | undefined;
  /** Session mode's ack batcher; undefined with `resume: false`. */
  readonly acks: AckBatcher | undefined;
  /** Requests both ways (session mode). */
  readonly requests: ServerRequests;
  report(error: Error, client: ServerClient): void;
  /**
   * The client ended on this process: the server forgets it. `moved`: its session lives on,
   * on another process (what the server asked it may still be answered there).
   */
  ended(client: ServerClient, moved: boolean): void;
  /** Session mode: its link dropped and its resume window starts. */
  detached(client: ServerClient): void;
}
