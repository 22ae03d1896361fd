import diagnostics from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { channels, type DropMessage, type ServerClient } from '../server/index.js';
import { collect, parseOrigin, parsePort } from './arguments.js';
import type { ChatMessage } from './demo-chat.js';
import { BUNDLE_FILE, type DemoServer, startDemoServer } from './demo-server.js';
import { formatDuration } from './duration.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-code.js';
import { untilSignal } from './signals.js';
import { Terminal } from './terminal.js';

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly origin?: string[];
  readonly quiet: boolean;
}

const short = (id: string) => id.slice(0, 8);
const clock = () => new Date().toISOString().slice(11, 23);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why the demo could not listen, in one line. */
function listenFailure(error: unknown, host: string, port: number): CliError {
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

/**
 * Runs `heartline demo` until SIGINT or SIGTERM: the chat page and its `HeartlineServer` on
 * one port. The page's URL goes to stdout, the log to stderr. The first signal closes every
 * session with 1012 (the pages come back within 2 s of a restart), a second one exits at once.
 */
export async function runDemo(o: DemoOptions): Promise<number> {
  const term = new Terminal(process.stderr, { quiet: o.quiet });
  const { paint } = term;
  const log = (text: string) => term.info(`${paint.dim(clock())} ${text}`);
  if (!existsSync(BUNDLE_FILE))
    term.warn(`${BUNDLE_FILE} is missing: run \`npm run build\`; the page cannot load without it`);

  let demo: DemoServer;
  try {
    demo = await startDemoServer({ port: o.port, host: o.host, origins: o.origin ?? [] });
  } catch (error) {
    throw listenFailure(error, o.host, o.port);
  }
  const { heartline, chat } = demo;
  const who = (client: ServerClient) => paint.dim(short(client.id));
  const sessions = () => plural(heartline.clients.size, 'session');

  heartline.on('error', (error, client) => {
    if (client) log(`${paint.yellow('!')} ${who(client)} ${error.message}`);
    else term.error(`server error: ${error.message}`);
  });
  heartline.on('connection', (client) => {
    log(`${paint.green('+')} ${who(client)} connected (${client.mode} mode; ${sessions()})`);
    client.on('resume', () => log(`${paint.green('↻')} ${who(client)} resumed its session`));
  });
  chat.on('join', (client, name) =>
    log(
      `${paint.cyan('→')} ${who(client)} ${paint.bold(name)} joined (${chat.names().length} in the room)`,
    ),
  );
  chat.on('leave', (client, name) =>
    log(`${paint.cyan('←')} ${who(client)} ${paint.bold(name)} left (session ended)`),
  );
  chat.on('said', (m: ChatMessage) =>
    log(`${paint.dim(`#${m.seq}`)} ${paint.bold(m.from)}: ${JSON.stringify(m.text).slice(1, -1)}`),
  );
  chat.on('invalid', (client, error) =>
    log(`${paint.yellow('!')} ${who(client)} ignored: ${error.message}`),
  );
  // Links that drop without ending their session are the point of the demo: say why.
  const onDrop = (message: unknown) => {
    const m = message as DropMessage;
    log(
      `${paint.red('-')} ${paint.dim(short(m.clientId))} link dropped: ${m.code} ${m.cause.replaceAll('_', ' ')} after ${formatDuration(m.duration)}`,
    );
  };
  diagnostics.subscribe(channels.drop.name, onDrop);

  process.stdout.write(`${demo.url}\n`);
  term.info(
    `${paint.dim(clock())} chat demo on ${paint.bold(demo.url)} (WebSocket ${demo.wsUrl}, origins ${demo.origins.join(' ')})`,
  );
  term.info(
    `${paint.dim(clock())} open it in two tabs, pick two names, then break things: go offline in DevTools, or stop and restart this command${
      term.live ? paint.dim('; Ctrl-C to stop') : ''
    }`,
  );

  const code = await untilSignal(
    () => demo.close(),
    (signal) => {
      log(
        `${signal}: shutting down; closing ${sessions()} with 1012 Service Restart${paint.dim(' (signal again to force)')}`,
      );
    },
    (message) => term.warn(message),
  );
  diagnostics.unsubscribe(channels.drop.name, onDrop);
  if (code === ExitCode.Ok) log('closed');
  return code;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('serve the chat demo: a page and its Heartline server on one port')
    .description(
      // Lines under 80 columns: commander wraps at 80 when stdout is not a terminal.
      'Serve a chat room in the browser: the page, the client bundle and a\n' +
        'HeartlineServer on /ws, all on one port. Open the URL in two tabs, pick two\n' +
        'names, chat, then break the link (DevTools offline, a sleeping laptop, a\n' +
        'restart of this command) and watch the page reconnect, resume its session\n' +
        'and lose nothing. Prints the URL on stdout; logs joins, messages and drops\n' +
        'to stderr. SIGINT or SIGTERM closes every session with 1012 Service Restart;\n' +
        'a second signal exits at once. Needs the built bundle (npm run build).',
    )
    .addOption(
      new Option('-p, --port <port>', 'port to listen on; 0 = any free port')
        .default(8080)
        .argParser(parsePort),
    )
    .option(
      '-H, --host <address>',
      'address to listen on (0.0.0.0 to try it from a phone on the same network)',
      '127.0.0.1',
    )
    .option(
      '--origin <origin...>',
      "more browser origins allowed to connect, besides the page's own",
      (text: string, previous: string[] | undefined) => collect(parseOrigin(text), previous),
    )
    .option('-q, --quiet', 'log only errors', false)
    .addHelpText(
      'after',
      `
Output:
  stdout  the page's URL, once listening: http://127.0.0.1:8080/
  stderr  a line per join, message, dropped link, resumed session and ignored input

Examples:
  $ heartline demo                        # http://127.0.0.1:8080/
  $ heartline demo --port 0               # any free port; read the URL from stdout
  $ heartline demo --host 0.0.0.0         # reachable from other devices on your network
  $ npm start                             # from a clone: build, then heartline demo

${EXIT_CODES_HELP}`,
    )
    .action(async (options: DemoOptions) => {
      process.exitCode = await runDemo(options);
    });
}
