import { readFileSync } from 'node:fs';
import { CliError, ExitCode } from './exit-code.js';

/** What `heartline connect` is told on its command line, and the small readings of it. */

export interface ConnectOptions {
  readonly protocol?: string[];
  /** Heartbeat interval in ms, or `false` for none; the client's default when absent. */
  readonly heartbeat?: number | false;
  readonly ping?: string;
  readonly pong?: string;
  readonly origin?: string;
  /** Request headers (`-H`), by name. */
  readonly header?: Readonly<Record<string, string>>;
  /** An `Authorization` value (`--auth user:pass` makes it Basic). */
  readonly auth?: string;
  /** Messages to send once connected instead of reading stdin (`-x`). */
  readonly execute?: string[];
  /** With `execute`: ms to keep printing replies, then close (`-w`). */
  readonly wait?: number;
  /** Print the server's protocol-level pings and pongs (`-P`). */
  readonly showPingPong?: boolean;
  /** `false`: accept any TLS certificate (`--no-check`). */
  readonly check?: boolean;
  /** A PEM file of certificate authorities to trust (`--ca`). */
  readonly ca?: string;
  readonly reconnect: boolean;
  readonly session: boolean;
  readonly connectTimeout?: number;
  /** ms to keep printing after stdin ended and everything was sent; `Infinity` = stay. */
  readonly linger: number;
  readonly binary: 'hex' | 'base64';
  readonly quiet: boolean;
}

/** Why a fresh session started instead of a resume (PROTOCOL.md, `hello.reason`), in words. */
export const FRESH_REASONS: Readonly<Record<string, string>> = {
  unknown: 'the server no longer knew the old one',
  expired: 'the old one expired while the link was down',
  token: 'the server refused the resume token',
  epoch: 'the server restarted',
  gap: 'too much was missed to replay',
};

/** One received message as one line: text as it is, binary as hex or base64. */
export function formatMessage(data: unknown, binary: 'hex' | 'base64'): string {
  if (typeof data === 'string') return data;
  let bytes: Buffer;
  if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
  else if (ArrayBuffer.isView(data))
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else bytes = Buffer.from(String(data));
  return bytes.toString(binary);
}

/** The request headers of `-H`, `--auth` (an `Authorization` of its own wins over `-H`'s). */
export function requestHeaders(o: ConnectOptions): Record<string, string> | undefined {
  if (!o.header && !o.auth) return undefined;
  return { ...o.header, ...(o.auth ? { Authorization: o.auth } : {}) };
}

/** The PEM file of `--ca`; a file that cannot be read is a usage error. */
export function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read --ca ${file}: ${(error as Error).message}`, ExitCode.Usage, {
      cause: error,
    });
  }
}
