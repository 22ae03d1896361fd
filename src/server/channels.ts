import diagnostics from 'node:diagnostics_channel';
import type { TerminationCause } from './termination-cause.js';

/** Published on `heartline:server:connection` when a client is accepted. */
export interface ConnectionMessage {
  readonly clientId: string;
  readonly protocol: string;
  readonly remoteAddress: string | undefined;
}

/** Published on `heartline:server:drop` when a client's connection ends, whatever the cause. */
export interface DropMessage {
  readonly clientId: string;
  readonly code: number;
  readonly reason: string;
  readonly cause: TerminationCause;
  /** How long the connection lasted, in ms. */
  readonly duration: number;
}

/** Published on `heartline:server:resume` when a session resumes on this server. */
export interface ResumeMessage {
  readonly clientId: string;
  /** Whether the session came from another server process (a new client object here). */
  readonly moved: boolean;
  readonly remoteAddress: string | undefined;
}

/** Published on `heartline:server:close` when a server has closed. */
export interface CloseMessage {
  /** Clients that were still connected when the shutdown began. */
  readonly drained: number;
  /** How many of them had to be terminated at the deadline. */
  readonly terminated: number;
}

/**
 * The server's `node:diagnostics_channel` channels. Publishers check `hasSubscribers` first,
 * so that an unobserved server builds no message objects at all (undici's pattern).
 *
 * @example
 * import diagnostics from 'node:diagnostics_channel';
 * diagnostics.subscribe('heartline:server:drop', (m) => log.info('drop', m));
 */
export const channels = {
  connection: diagnostics.channel('heartline:server:connection'),
  drop: diagnostics.channel('heartline:server:drop'),
  resume: diagnostics.channel('heartline:server:resume'),
  close: diagnostics.channel('heartline:server:close'),
} as const;
