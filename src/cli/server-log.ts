import diagnostics from 'node:diagnostics_channel';
import { channels, type DropMessage } from '../server/index.js';
import { formatDuration } from './duration.js';
import { CliError, ExitCode } from './exit-code.js';
import type { Terminal } from './terminal.js';

/**
 * The log of the commands that run a server (`serve`, `demo`): one timestamped line per event
 * on stderr, and the one-line reasons a server could not listen.
 */

/** A client id as the log shows it: its first 8 characters. */
export const short = (id: string): string => id.slice(0, 8);
/** The time of day, `12:31:15.755` (UTC, as the ISO string has it). */
export const clock = (): string => new Date().toISOString().slice(11, 23);
/** `1 client`, `2 clients`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why a server could not listen on `host:port`, in one line, as a usage-free failure (exit 1). */
export function listenFailure(error: unknown, host: string, port: number): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  const why =
    code === 'EADDRINUSE'
      ? `${where} is already in use (try another --port, or --port 0 for any free port)`
      : code === 'EACCES'
        ? `no permission to listen on ${where} (ports below 1024 need privileges)`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? `${host} is not an address of this machine`
          : `${where}: ${(error as Error).message}`;
  return new CliError(`could not listen: ${why}`, ExitCode.Failure, { cause: error });
}

/** A server's log on `term`: `line()` prefixes the time; the event loggers share its format. */
export class ServerLog {
  readonly #term: Terminal;

  constructor(term: Terminal) {
    this.#term = term;
  }

  /** One informational line with the time in front. */
  line(text: string): void {
    this.#term.info(`${this.#term.paint.dim(clock())} ${text}`);
  }

  /**
   * Logs, until the returned function is called, every link that ends and why: the drop
   * channel says what no event does (the cause and how long the link lived). It carries the
   * links of every server in the process; a command runs one. `count` adds what is left.
   *
   * @example const stop = log.drops(() => plural(server.stats().connections, 'client'));
   */
  drops(count?: () => string): () => void {
    const { paint } = this.#term;
    const onDrop = (message: unknown) => {
      const m = message as DropMessage;
      const reason = m.reason ? ` ${JSON.stringify(m.reason)}` : '';
      this.line(
        `${paint.red('-')} ${paint.dim(short(m.clientId))} link dropped: ${m.code}${reason} ${m.cause.replaceAll('_', ' ')} after ${formatDuration(m.duration)}${count ? ` (${count()})` : ''}`,
      );
    };
    diagnostics.subscribe(channels.drop.name, onDrop);
    return () => diagnostics.unsubscribe(channels.drop.name, onDrop);
  }

  /** Logs an error of one client (`! id what`), or of the server itself. */
  error(error: Error, client?: { readonly id: string }): void {
    const { paint } = this.#term;
    if (client) this.line(`${paint.yellow('!')} ${paint.dim(short(client.id))} ${error.message}`);
    else this.#term.error(`server error: ${error.message}`);
  }
}
