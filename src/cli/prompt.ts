import readline from 'node:readline';
import type { Palette } from './terminal.js';
import { Terminal } from './terminal.js';

/**
 * Where `connect` reads lines and writes what happens: a pipe (`LineStream`) or a person at a
 * terminal (`Prompt`). Received messages are data (stdout); the rest is diagnostics (stderr).
 */
export interface Console {
  readonly paint: Palette;
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** One live line, redrawn in place where that is possible; a no-op elsewhere. */
  status(text: string): void;
  clearStatus(): void;
  /** Whether `status()` shows anything. */
  readonly live: boolean;
  /** A received message, one line. */
  received(text: string): void;
  /** Each line of input, without its line break. */
  onLine(listener: (line: string) => void): void;
  /** The end of input (a pipe's end, Ctrl-D). */
  onEnd(listener: () => void): void;
  /** Ctrl-C typed at a prompt, which a terminal in raw mode does not turn into SIGINT. */
  onInterrupt(listener: () => void): void;
  /** Stops reading input. Idempotent. */
  close(): void;
}

/**
 * Lines in from stdin, messages out on stdout as they are: the console of a pipe or a file.
 * Diagnostics go to a `Terminal` on stderr, whose live line is off when a person types on
 * the same terminal (stdin is a TTY but stdout is not): their echo would land on it.
 */
export class LineStream implements Console {
  readonly #term: Terminal;
  readonly #input: readline.Interface;

  constructor(options: { quiet: boolean }) {
    this.#term = new Terminal(process.stderr, {
      quiet: options.quiet,
      live: process.stderr.isTTY === true && process.stdin.isTTY !== true,
    });
    this.#input = readline.createInterface({
      input: process.stdin,
      terminal: false,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
  }

  get paint(): Palette {
    return this.#term.paint;
  }
  get live(): boolean {
    return this.#term.live;
  }
  info(text: string): void {
    this.#term.info(text);
  }
  warn(text: string): void {
    this.#term.warn(text);
  }
  error(text: string): void {
    this.#term.error(text);
  }
  status(text: string): void {
    this.#term.status(text);
  }
  clearStatus(): void {
    this.#term.clearStatus();
  }
  received(text: string): void {
    process.stdout.write(`${text}\n`);
  }
  onLine(listener: (line: string) => void): void {
    this.#input.on('line', listener);
  }
  onEnd(listener: () => void): void {
    this.#input.on('close', listener);
  }
  onInterrupt(): void {
    // Not a terminal in raw mode: Ctrl-C arrives as SIGINT.
  }
  close(): void {
    this.#input.close();
    process.stdin.pause();
  }
}

const ERASE_LINE = '\r\x1b[2K';
const ERASE_BELOW = '\x1b[J';
const UP = '\x1b[1A';
const SAVE = '\x1b7';
const RESTORE = '\x1b8';

/**
 * A person at a terminal, as wscat has it: a `> ` prompt to type at, so each sent line stays
 * as `> text`, and received messages as `< text`. The live status line (the reconnect
 * countdown) sits on its own row just above the prompt, so typing never lands on it; every
 * other line is written above both, and the prompt is redrawn with what was typed so far.
 */
export class Prompt implements Console {
  readonly paint: Palette;
  readonly live = true;
  readonly #quiet: boolean;
  readonly #rl: readline.Interface;
  #status = '';
  #closed = false;

  constructor(options: { quiet: boolean }) {
    this.paint = new Terminal(process.stderr).paint;
    this.#quiet = options.quiet;
    this.#rl = readline.createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      prompt: '> ',
      crlfDelay: Number.POSITIVE_INFINITY,
      historySize: 100,
    });
    // After Enter the typed line stays as `> text`; the block below it is laid out again.
    this.#rl.on('line', (line) => {
      if (this.#status) {
        // The cursor is on the row below `> text`, which is below the status row.
        process.stderr.write(`${UP}${UP}${ERASE_LINE}${ERASE_BELOW}> ${line}\n`);
        process.stderr.write(`${this.#status}\n`);
      }
      this.#prompt();
    });
    this.#prompt();
  }

  info(text: string): void {
    if (!this.#quiet) this.#above(process.stderr, text);
  }
  warn(text: string): void {
    this.#above(process.stderr, this.paint.yellow(text));
  }
  error(text: string): void {
    this.#above(process.stderr, this.paint.red(text));
  }
  received(text: string): void {
    this.#above(process.stdout, `< ${text}`);
  }

  status(text: string): void {
    if (this.#quiet || this.#closed || text === this.#status) return;
    if (this.#status) {
      // Only the status row changes: up from the prompt, redraw, back where the cursor was.
      this.#status = text;
      process.stderr.write(`${SAVE}${UP}${ERASE_LINE}${text}${RESTORE}`);
      return;
    }
    this.#erase();
    this.#status = text;
    process.stderr.write(`${text}\n`);
    this.#prompt();
  }

  clearStatus(): void {
    if (!this.#status) return;
    this.#erase();
    this.#status = '';
    this.#prompt();
  }

  onLine(listener: (line: string) => void): void {
    this.#rl.on('line', listener);
  }
  onEnd(listener: () => void): void {
    this.#rl.on('close', listener);
  }
  onInterrupt(listener: () => void): void {
    this.#rl.on('SIGINT', listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#erase();
    this.#status = '';
    this.#closed = true;
    this.#rl.close();
    process.stdin.pause();
  }

  /** Writes one permanent line above the status row and the prompt. */
  #above(stream: NodeJS.WriteStream, text: string): void {
    if (this.#closed) {
      stream.write(`${text}\n`);
      return;
    }
    this.#erase();
    stream.write(`${text}\n`);
    if (this.#status) process.stderr.write(`${this.#status}\n`);
    this.#prompt();
  }

  /** Erases the prompt row, and the status row above it. */
  #erase(): void {
    if (this.#closed) return;
    process.stderr.write(`${ERASE_LINE}${this.#status ? `${UP}${ERASE_LINE}` : ''}${ERASE_BELOW}`);
  }

  #prompt(): void {
    if (!this.#closed) this.#rl.prompt(true);
  }
}

/** The console for this process: a prompt when a person types at a terminal, else lines. */
export function openConsole(options: { quiet: boolean }): Console {
  const person = process.stdin.isTTY === true && process.stdout.isTTY === true;
  return person && process.stderr.isTTY === true ? new Prompt(options) : new LineStream(options);
}
