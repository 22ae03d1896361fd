#!/usr/bin/env node
/**
 * `heartline`: the command-line tool. Argument parsing, help and exit codes live here; each
 * command is a thin layer over the public API in a file of its own.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerConnect } from './connect.js';
import { registerDemo } from './demo.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-code.js';
import { registerExplain } from './explain.js';
import { registerProbe } from './probe.js';
import { registerServe } from './serve.js';
import { Terminal } from './terminal.js';

const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const stderr = new Terminal(process.stderr);

const program = new Command('heartline')
  .description(
    'WebSockets that stay alive: a chat demo, and serve, connect, probe and explain from a terminal.',
  )
  .version(version, '-v, --version', 'print the version')
  .helpOption('-h, --help', 'show help for a command')
  .helpCommand('help [command]', 'show help for a command')
  // Usage errors exit with 2, whatever commander would choose; see the catch below.
  .exitOverride()
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (text, write) => write(stderr.paint.red(text)) })
  .addHelpText(
    'after',
    `
Data goes to stdout, diagnostics to stderr; colour only on a terminal (never
with NO_COLOR).

Examples:
  $ heartline demo                    # the chat demo on http://127.0.0.1:8080/
  $ heartline serve --port 0
  $ heartline connect ws://127.0.0.1:8080/
  $ heartline probe wss://example.com/feed --max 5m
  $ heartline explain 1008

${EXIT_CODES_HELP}`,
  );

registerDemo(program);
registerServe(program);
registerConnect(program);
registerProbe(program);
registerExplain(program);

/** Exits once stdout and stderr have taken everything written to them. */
function exit(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
  // A stream that never drains (a stuck pipe reader) must not keep the process alive.
  setTimeout(() => process.exit(code), 1_000).unref();
}

// A reader that went away (`heartline connect … | head -1`) ends the command, quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Ok);
  throw error;
});

try {
  await program.parseAsync(process.argv);
  exit(Number(process.exitCode ?? ExitCode.Ok));
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help, or the version).
    const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
    exit(ok ? ExitCode.Ok : ExitCode.Usage);
  } else if (error instanceof CliError) {
    stderr.error(`heartline: ${error.message}`);
    exit(error.exitCode);
  } else {
    stderr.error(`heartline: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    exit(ExitCode.Failure);
  }
}
