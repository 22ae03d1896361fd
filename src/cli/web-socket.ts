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
  /** More request headers (`-H`, `--auth`), sent with every attempt. */
  readonly headers?: Readonly<Record<string, string>>;
  /** ms the opening handshake may take (`ws`'s `handshakeTimeout`). */
  readonly handshakeTimeout?: number;
  /** `false` accepts any TLS certificate (`--no-check`). @default true */
  readonly rejectUnauthorized?: boolean;
  /** Certificate authorities to trust instead of Node's (`--ca`, PEM). */
  readonly ca?: string | Buffer;
  /** Called on each link's `open` with the sub-protocol the server chose. */
  readonly onOpen?: (protocol: string) => void;
  /** Called for each protocol-level ping and pong the server sends (`-P`). */
  readonly onPing?: (data: Buffer) => void;
  readonly onPong?: (data: Buffer) => void;
}

/**
 * `ws`'s WebSocket as the CLI uses it: optional `Origin` and other headers, TLS options, no
 * compression (nothing is negotiated that could change the timing of a probe), and refusals
 * explained. The hooks see the underlying socket, which `HeartlineSocket` does not expose.
 */
export function cliWebSocket(
  options: CliWebSocketOptions = {},
): new (
  url: string,
  protocols?: string | string[],
) => WebSocket {
  const { onOpen, onPing, onPong } = options;
  return class CliWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, {
        perMessageDeflate: false,
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
        ...(options.handshakeTimeout === undefined
          ? {}
          : { handshakeTimeout: options.handshakeTimeout }),
        ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      });
      explainRefusals(this);
      if (onOpen) this.on('open', () => onOpen(this.protocol));
      if (onPing) this.on('ping', onPing);
      if (onPong) this.on('pong', onPong);
    }
  };
}
