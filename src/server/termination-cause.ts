/**
 * Why a connection ended, as counted by `stats().terminations` and published on
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
 * - `shutdown`: closed with 1012 (or terminated at the deadline) by `HeartlineServer#close()`.
 *
 * @example
 * for (const cause of DROP_CAUSES) console.log(cause, server.stats().terminations[cause]);
 */
export const DROP_CAUSES = [
  'client_close',
  'connection_lost',
  'server_close',
  'heartbeat_timeout',
  'slow_consumer',
  'rate_limit',
  'message_too_big',
  'invalid_payload',
  'protocol_error',
  'shutdown',
] as const;

export type DropCause = (typeof DROP_CAUSES)[number];

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
  cause: DropCause;
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
