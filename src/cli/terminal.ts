/**
 * Diagnostics for people, on stderr: plain lines that work in pipes and logs, colour and a
 * status line redrawn in place only when stderr is a terminal. Data never goes here; it goes
 * to stdout.
 */

/** The part of a stream the terminal writes to; `process.stderr` fits. */
export interface OutputStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  hasColors?(): boolean;
}

type Paint = (text: string) => string;

export interface Palette {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly cyan: Paint;
}

const sgr =
  (open: number, close: number): Paint =>
  (text) =>
    `\x1b[${open}m${text}\x1b[${close}m`;

const COLOURS: Palette = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

const same: Paint = (text) => text;
const PLAIN: Palette = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };

/**
 * Colour only on a terminal that has colours, never when `NO_COLOR` is set and not empty
 * (https://no-color.org); `FORCE_COLOR` (not `0`) turns it on anywhere.
 */
export function useColour(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && (stream.hasColors?.() ?? false);
}

/**
 * Writes diagnostic lines, and on a TTY one status line at the bottom that is redrawn in
 * place (a countdown, a progress meter). Elsewhere the status line is not written at all:
 * callers log the few moments that matter as ordinary lines.
 */
export class Terminal {
  readonly paint: Palette;
  readonly live: boolean;
  readonly #stream: OutputStream;
  #status = '';
  readonly #quiet: boolean;

  /** @param options.live whether the status line is drawn; by default, on a TTY. */
  constructor(
    stream: OutputStream = process.stderr,
    options: { quiet?: boolean; live?: boolean } = {},
  ) {
    this.#stream = stream;
    this.paint = useColour(stream) ? COLOURS : PLAIN;
    this.live = options.live ?? stream.isTTY === true;
    this.#quiet = options.quiet ?? false;
  }

  /** An informational line; silent under `--quiet`. */
  info(text: string): void {
    if (!this.#quiet) this.#line(text);
  }

  /** A warning line, shown even under `--quiet`. */
  warn(text: string): void {
    this.#line(this.paint.yellow(text));
  }

  /** An error line, shown even under `--quiet`. */
  error(text: string): void {
    this.#line(this.paint.red(text));
  }

  /** Sets the in-place status line (TTY only; a no-op elsewhere). */
  status(text: string): void {
    if (!this.live || this.#quiet) return;
    this.#status = text;
    this.#stream.write(`\r\x1b[2K${text}`);
  }

  /** Removes the status line. */
  clearStatus(): void {
    if (!this.#status) return;
    this.#status = '';
    this.#stream.write('\r\x1b[2K');
  }

  #line(text: string): void {
    if (this.#status) this.#stream.write('\r\x1b[2K');
    this.#stream.write(`${text}\n`);
    if (this.#status) this.#stream.write(this.#status);
  }
}
