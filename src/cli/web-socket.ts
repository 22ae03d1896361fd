import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';

/** How long a refused handshake's body may take to arrive before it is cut short. */
const BODY_TIMEOUT = 1_000;
const BODY_LIMIT = 200;

/**
 * Turns a refused upgrade into an error that says what the server answered: the status, its
 * text and the start of the body (`HTTP 403 Forbidden: Origin not allowed`), where `ws` alone
 * says only `Unexpected server response: 403`. The error reaches the socket's `error` event.
 */
export function explainRefusals(ws: WebSocket): void {
  ws.on('unexpected-response', (request: ClientRequest, response: IncomingMessage) => {
    let body = '';
    const fail = () => {
      clearTimeout(timer);
      const text = body.trim().replace(/\s+/g, ' ').slice(0, BODY_LIMIT);
      const status = `HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trim();
      response.destroy();
      request.destroy(
        new Error(`the server refused the upgrade: ${status}${text ? `: ${text}` : ''}`),
      );
    };
    const timer = setTimeout(fail, BODY_TIMEOUT);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < BODY_LIMIT) body += chunk;
    });
    response.once('end', fail);
    response.once('error', fail);
  });
}

export interface CliWebSocketOptions {
  /** An `Origin` header to send. */
  readonly origin?: string;
  /** ms the opening handshake may take (`ws`'s `handshakeTimeout`). */
  readonly handshakeTimeout?: number;
}

/**
 * `ws`'s WebSocket as the CLI uses it: an optional `Origin`, no compression (nothing is
 * negotiated that could change the timing of a probe), and refusals explained.
 */
export function cliWebSocket(
  options: CliWebSocketOptions = {},
): new (
  url: string,
  protocols?: string | string[],
) => WebSocket {
  return class CliWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, {
        perMessageDeflate: false,
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(options.handshakeTimeout === undefined
          ? {}
          : { handshakeTimeout: options.handshakeTimeout }),
      });
      explainRefusals(this);
    }
  };
}
