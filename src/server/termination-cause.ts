import { CloseCode } from '../protocol/close-codes.js';

/**
 * Why a link ended, as counted by `stats().terminations` and published on
 * `heartline:server:drop`:
 * - `client_close`: the client sent a close frame;
 * - `connection_lost`: the TCP connection ended without a close frame (reset, crash);
 * - `server_close`: the app called `client.close()` or `client.terminate()`;
 * - `heartbeat_timeout`: silent for `heartbeat.timeout` after a ping; terminated;
 * - `slow_consumer`: its send buffer passed `highWaterMark`; closed with 4507;
 * - `rate_limit`: it sent more than `rateLimit` allows; closed with 1008;
 * - `message_too_big`: a message over `maxPayload`; closed with 1009;
 * - `invalid_payload`: a text message that was not valid UTF-8; closed with 1007;
 * - `protocol_error`: a malformed frame (a bad control frame, a bad opcode…); closed with 1002;
 * - `replaced`: session mode, the client resumed on a new link while this one looked open;
 * - `shutdown`: closed with 1012 (or terminated at the deadline) by `HeartlineServer#close()`.
 *
 * @example
 * for (const cause of TERMINATION_CAUSES) console.log(cause, server.stats().terminations[cause]);
 */
export const TERMINATION_CAUSES = [
  'client_close',
  'connection_lost',
  'server_close',
  'heartbeat_timeout',
  'slow_consumer',
  'rate_limit',
  'message_too_big',
  'invalid_payload',
  'protocol_error',
  'replaced',
  'shutdown',
] as const;

export type TerminationCause = (typeof TERMINATION_CAUSES)[number];

/**
 * Whether a session outlives the link that ended: yes when the link failed (lost, silent, a
 * slow reader) or the client closed it only to replace it (4000) or because its own heartbeat
 * found it dead (4408); no when anyone ended it on purpose (a close frame with 1000, 1001 or an
 * app code, `client.close()`, a violation). At shutdown, only an engine that outlives this
 * process (`durable`) keeps it, for a resume on another node.
 *
 * @example
 * keepsSession('connection_lost', 1006, false) // true
 * keepsSession('client_close', 1000, false) // false
 */
export function keepsSession(cause: TerminationCause, code: number, durable: boolean): boolean {
  switch (cause) {
    case 'connection_lost':
    case 'heartbeat_timeout':
    case 'slow_consumer':
      return true;
    case 'client_close':
      return code === CloseCode.Reconnecting || code === CloseCode.HeartbeatTimeout;
    case 'shutdown':
      return durable;
    default:
      return false;
  }
}

/**
 * The close code and cause for an error `ws` raised while reading a client's frames (RFC 6455
 * §7.4.1: 1009 too big, 1007 not UTF-8, 1002 anything else malformed). `ws` has already
 * closed the connection with the same code.
 *
 * @example
 * causeOfReadError({ code: 'WS_ERR_INVALID_UTF8' }) // { closeCode: 1007, cause: 'invalid_payload' }
 */
export function causeOfReadError(error: { code?: unknown }): {
  closeCode: number;
  cause: TerminationCause;
} {
  switch (error.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return { closeCode: 1009, cause: 'message_too_big' };
    case 'WS_ERR_INVALID_UTF8':
      return { closeCode: 1007, cause: 'invalid_payload' };
    default:
      return { closeCode: 1002, cause: 'protocol_error' };
  }
}

/**
 * What the client did, in words, for an error `ws` raised while reading its frames.
 *
 * @example
 * describeReadError({ code: 'WS_ERR_INVALID_UTF8', message: '…' }, 1024) // 'sent a text message that is not valid UTF-8 [WS_ERR_INVALID_UTF8]'
 */
export function describeReadError(
  error: { code?: string; message: string },
  maxPayload: number,
): string {
  const { cause } = causeOfReadError(error);
  const what =
    cause === 'message_too_big'
      ? `sent a message over maxPayload (${maxPayload} bytes)`
      : cause === 'invalid_payload'
        ? 'sent a text message that is not valid UTF-8'
        : `sent a malformed frame: ${error.message}`;
  return `${what} [${error.code}]`;
}
