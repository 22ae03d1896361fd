/**
 * The CLI's exit codes, one meaning each, documented in `heartline --help` and docs/cli.md.
 * Signals follow the shell's convention: 128 + the signal number.
 */
export const ExitCode = {
  /** Done: the command did what it was asked (a probe that measured a cut is a success). */
  Ok: 0,
  /** A runtime failure: the port was taken, messages could not be sent, an unexpected error. */
  Failure: 1,
  /** A usage error: unknown command or option, a bad value, a bad URL, not a close code. */
  Usage: 2,
  /** Could not connect: refused, unreachable, DNS, a refused handshake, a connect timeout. */
  Unreachable: 3,
  /** `connect`: the peer closed the connection for good (a code retrying cannot fix). */
  ClosedByPeer: 4,
  /** Interrupted by SIGINT before the work was done (a second Ctrl-C, an interrupted probe). */
  Interrupted: 130,
  /** Forced out by a second SIGTERM. */
  Terminated: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports in one line and turns into an exit code; no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

const EXIT_CODE_LINES: Readonly<Record<ExitCode, string>> = {
  0: 'done',
  1: 'runtime failure (port in use, messages left unsent, an unexpected error)',
  2: 'usage error (unknown option, bad value, bad URL, not a close code)',
  3: 'could not connect (refused, unreachable, DNS, handshake refused, timeout)',
  4: 'connect: the server closed the connection for good (e.g. 1008)',
  130: 'interrupted (Ctrl-C twice, or a probe cut short)',
  143: 'terminated (SIGTERM twice)',
};

/**
 * The help text's table of the exit codes a command can end with; every code by default (the
 * top-level help).
 *
 * @example exitCodesHelp([ExitCode.Ok, ExitCode.Usage]) // 'Exit codes:\n  0    done\n  2    usage error…'
 */
export function exitCodesHelp(codes: readonly ExitCode[] = Object.values(ExitCode)): string {
  return [
    'Exit codes:',
    ...codes.map((code) => `  ${String(code).padEnd(4)} ${EXIT_CODE_LINES[code]}`),
  ].join('\n');
}

/** The help text's table of every exit code (the top-level help). */
export const EXIT_CODES_HELP = exitCodesHelp();
