import type { Keys } from './keys.js';
import type { CommandPort, RedisArg } from './port.js';

/** What the parts of one node of the Redis engine share. */
export interface NodeContext {
  /** This node's name in the cluster: its liveness key, its control channel, its request ids. */
  readonly node: string;
  readonly commands: CommandPort;
  readonly keys: Keys;
  /** Sends a command without waiting: its failure can only be reported. */
  send(args: readonly RedisArg[]): void;
  /** Reports what failed where no caller can be told (the server's `error` event). */
  report(error: Error): void;
}
