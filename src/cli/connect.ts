import { type Command, Option } from 'commander';
import { parseAuth, parseHeader, parseOrigin, parseProtocol, parseUrl } from './arguments.js';
import type { ConnectOptions } from './connect-options.js';
import { ConnectSession } from './connect-session.js';
import {
  DURATION_HELP,
  parseDuration,
  parseDurationOrOff,
  parsePositiveDuration,
} from './duration.js';
import { CliError, ExitCode, exitCodesHelp } from './exit-code.js';

export { type ConnectOptions, formatMessage } from './connect-options.js';
export { DRAIN_TIMEOUT } from './connect-session.js';

/** `-w`'s seconds, as wscat reads them (a bare number is seconds), or any duration. */
function parseWait(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1_000);
  return parseDuration(text);
}

/**
 * Runs `heartline connect`. Resolves with the exit code once the socket is closed for good.
 */
export function runConnect(url: string, o: ConnectOptions): Promise<number> {
  return new ConnectSession(url, o).run();
}

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .summary('an interactive client that survives drops (lines in, messages out)')
    .description(
      // One paragraph: commander wraps it to the terminal's width (80 in a pipe).
      'Connect to a WebSocket server with HeartlineSocket: each line on stdin is sent as a ' +
        'text message, each message received is printed on stdout, one per line. The link is ' +
        'kept alive with a heartbeat and comes back by itself after a drop; what you type ' +
        'meanwhile is queued. State, RTT, the reconnect countdown and close explanations go ' +
        'to stderr. When stdin ends, queued lines are sent, replies are printed for --linger, ' +
        'then the connection closes with 1000. On a terminal, as in wscat, you type at a "> " ' +
        'prompt and received messages show as "< message".',
    )
    .argument('<url>', 'ws:// or wss:// URL (http(s) too; no scheme means ws://)', parseUrl)
    .option('--protocol <name...>', 'sub-protocols to offer', parseProtocol)
    .option(
      '-H, --header <header>',
      "a request header, 'Name: value' (repeatable), e.g. a token",
      parseHeader,
    )
    .option('--auth <user:password>', 'HTTP Basic authentication', parseAuth)
    .option('--origin <origin>', 'send this Origin header (for servers that check it)', parseOrigin)
    .option(
      '-x, --execute <message>',
      'send this once connected (repeatable), print replies for -w, then close; stdin is not read',
      (text: string, previous: string[] | undefined) => [...(previous ?? []), text],
    )
    .addOption(
      new Option(
        '-w, --wait <seconds>',
        'with -x: how long to print replies before closing (default 2; 1500ms, 1m work too)',
      ).argParser(parseWait),
    )
    .option('-P, --show-ping-pong', "print the server's protocol-level pings and pongs")
    .addOption(
      new Option(
        '--heartbeat <duration>',
        "ms of silence before a ping is sent, or 'off' (default 10s)",
      ).argParser(parseDurationOrOff),
    )
    .option('--ping <text>', 'the heartbeat message to send (default "ping")')
    .option('--pong <text>', 'the answer that counts as a pong and is not printed (default "pong")')
    .option(
      '--connect-timeout <duration>',
      'time one attempt may take (default 10s)',
      parsePositiveDuration,
    )
    .option('--no-reconnect', 'exit when the link is lost instead of reconnecting')
    .option('--no-session', "plain mode only: do not offer Heartline's session protocol")
    .addOption(
      new Option(
        '--linger <duration>',
        "after stdin ends and all is sent, print replies this long; 'forever' to stay",
      )
        .default(1_000, '1s')
        .argParser((text) => (text === 'forever' ? Number.POSITIVE_INFINITY : parseDuration(text))),
    )
    .addOption(
      new Option('--binary <encoding>', 'how binary messages are printed')
        .choices(['hex', 'base64'])
        .default('hex'),
    )
    .option('--no-check', 'wss: accept any TLS certificate (self-signed, expired): testing only')
    .option('--ca <file>', 'wss: trust the certificate authorities in this PEM file')
    .option('-q, --quiet', 'on stderr, only errors and close explanations', false)
    .addHelpText(
      'after',
      `
${DURATION_HELP}

Output:
  stdout  one received message per line (text as is; binary as hex, or
          --binary base64); on a terminal "< message", and what you typed
          stays as "> line"
  stderr  connected / connection lost (code, name, explanation) /
          reconnecting in 1.2 s (attempt 3) / rtt; colour only on a terminal,
          never with NO_COLOR

A first connection that fails exits with 3; after that, drops are retried
(except codes retrying cannot fix, such as 1008, which exit with 4). Ctrl-C
closes with 1000 and exits with 0, and so does the end of stdin once nothing is
left to send.

Examples:
  $ heartline connect ws://127.0.0.1:8080/
  $ printf 'hi\\nyou\\n' | heartline connect ws://127.0.0.1:8080/ > replies.txt
  $ heartline connect wss://api.example.com/ws -H 'Authorization: Bearer abc123'
  $ heartline connect ws://127.0.0.1:8080/ -x '{"type":"hello"}' -w 5
  $ heartline connect wss://example.com/feed --linger forever < /dev/null | jq .
  $ heartline connect ws://127.0.0.1:9000/ --protocol chat.v1 --heartbeat 5s \\
      --ping '{"t":"ping"}' --pong '{"t":"pong"}'

${exitCodesHelp([ExitCode.Ok, ExitCode.Failure, ExitCode.Usage, ExitCode.Unreachable, ExitCode.ClosedByPeer, ExitCode.Interrupted, ExitCode.Terminated])}`,
    )
    .action(async (url: string, options: ConnectOptions) => {
      if (options.wait !== undefined && !options.execute)
        throw new CliError('-w/--wait goes with -x/--execute.', ExitCode.Usage);
      process.exitCode = await runConnect(url, options);
    });
}
