import { type Command, InvalidArgumentError } from 'commander';
import { CloseCode, type CloseDescription, describeClose } from '../client/index.js';
import { ExitCode, exitCodesHelp } from './exit-code.js';
import { Terminal } from './terminal.js';

const BY_NAME = new Map(
  Object.entries(CloseCode).map(([name, code]) => [name.toLowerCase(), code]),
);

/**
 * A close code from the command line: a number from 0 to 65535 (the close frame's 16 bits),
 * or a catalog name in any case (`PolicyViolation`, `policyviolation`).
 */
export function parseCloseCode(text: string): number {
  if (/^\d{1,5}$/.test(text) && Number(text) <= 65_535) return Number(text);
  const named = BY_NAME.get(text.toLowerCase());
  if (named !== undefined) return named;
  throw new InvalidArgumentError(
    `Expected a close code (a whole number from 0 to 65535, such as 1008) or a name such as PolicyViolation, got '${text}'.`,
  );
}

/** What `explain` prints for one code: the catalog entry and the retry decision. */
export function formatExplanation(d: CloseDescription, paint = new Terminal().paint): string {
  const retry = d.retry
    ? `${paint.green('yes')}: reconnect, with backoff`
    : `${paint.red('no')}: retrying cannot fix this; stop and report it`;
  return [
    `${paint.bold(String(d.code))} ${paint.bold(d.name)}`,
    `  ${d.explanation}`,
    `  Should a client retry? ${retry}.`,
  ].join('\n');
}

export interface ExplainOptions {
  readonly json: boolean;
}

/** Runs `heartline explain`: every given code, or the whole catalog without one. */
export function runExplain(codes: readonly number[], options: ExplainOptions): number {
  const list = codes.length > 0 ? codes : [...new Set(Object.values(CloseCode))];
  const descriptions = list.map((code) => describeClose(code));
  if (options.json) {
    const data = descriptions.length === 1 && codes.length === 1 ? descriptions[0] : descriptions;
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return ExitCode.Ok;
  }
  // The text goes to stdout (it is the data), coloured only when stdout is a terminal.
  const paint = new Terminal(process.stdout).paint;
  if (codes.length === 0) {
    for (const d of descriptions) {
      const retry = d.retry ? paint.green('retry') : paint.red('stop ');
      process.stdout.write(`${d.code}  ${retry}  ${d.name.padEnd(24)} ${d.explanation}\n`);
    }
    return ExitCode.Ok;
  }
  process.stdout.write(`${descriptions.map((d) => formatExplanation(d, paint)).join('\n\n')}\n`);
  return ExitCode.Ok;
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .summary('explain a WebSocket close code and whether a client should retry')
    .description(
      // One paragraph: commander wraps it to the terminal's width (80 in a pipe).
      'Explain WebSocket close codes: the name, what it means, and whether a client should ' +
        "reconnect (Heartline's default policy). Accepts numbers and catalog names; without a " +
        'code, lists the whole catalog.',
    )
    .argument('[codes...]', 'close codes (1008) or names (PolicyViolation)', collectCodes)
    .option('--json', 'print JSON: { code, name, explanation, retry }', false)
    .addHelpText(
      'after',
      `
Examples:
  $ heartline explain 1008
  $ heartline explain 1006 4408 ServiceRestart
  $ heartline explain                      # the whole catalog
  $ heartline explain 1012 --json | jq .retry

${exitCodesHelp([ExitCode.Ok, ExitCode.Usage])}`,
    )
    .action((codes: number[] | undefined, options: ExplainOptions) => {
      process.exitCode = runExplain(codes ?? [], options);
    });
}

function collectCodes(text: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), parseCloseCode(text)];
}
