import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { ServerClient } from '../server/index.js';
import { collect, parseOrigin, parsePort } from './arguments.js';
import type { ChatMessage } from './demo-chat.js';
import { BUNDLE_FILE, type DemoServer, startDemoServer } from './demo-server.js';
import { ExitCode, exitCodesHelp } from './exit-code.js';
import { connectRedis } from './redis-client.js';
import { listenFailure, plural, ServerLog, short } from './server-log.js';
import { untilSignal } from './signals.js';
import { Terminal } from './terminal.js';

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly origin?: string[];
  /** A Redis URL: this demo and the others on it with the same prefix are one room. */
  readonly redis?: string;
  readonly prefix: string;
  readonly quiet: boolean;
}

/**
 * Runs `heartline demo` until SIGINT or SIGTERM: the chat page and its `HeartlineServer` on
 * one port. The page's URL goes to stdout, the log to stderr. The first signal closes every
 * session with 1012 (the pages come back by themselves once it is started again), a second one
 * exits at once.
 */
export async function runDemo(o: DemoOptions): Promise<number> {
  const term = new Terminal(process.stderr, { quiet: o.quiet });
  const { paint } = term;
  const serverLog = new ServerLog(term);
  const log = (text: string) => serverLog.line(text);
  if (!existsSync(BUNDLE_FILE))
    term.warn(`${BUNDLE_FILE} is missing: run \`npm run build\`; the page cannot load without it`);

  const redis = o.redis === undefined ? undefined : await connectRedis(o.redis);
  let demo: DemoServer;
  try {
    demo = await startDemoServer({
      port: o.port,
      host: o.host,
      origins: o.origin ?? [],
      ...(redis ? { redis: { client: redis.client, prefix: o.prefix } } : {}),
    });
  } catch (error) {
    await redis?.close();
    throw listenFailure(error, o.host, o.port);
  }
  const { heartline, chat } = demo;
  const who = (client: ServerClient) => paint.dim(short(client.id));
  const clients = () => plural(heartline.clients.size, 'client');

  heartline.on('error', (error, client) => serverLog.error(error, client));
  heartline.on('connection', (client) => {
    log(`${paint.green('+')} ${who(client)} connected (${client.mode} mode; ${clients()})`);
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
  const stopDrops = serverLog.drops();

  process.stdout.write(`${demo.url}\n`);
  log(
    `chat demo on ${paint.bold(demo.url)} (WebSocket ${demo.wsUrl}, origins ${demo.origins.join(' ')}${
      o.redis ? `; room "${o.prefix}" on ${o.redis}, shared with every demo server there` : ''
    })`,
  );
  log(
    `open it in two tabs, pick two names, then break things: go offline in DevTools, or stop and restart this command${
      term.live ? paint.dim('; Ctrl-C to stop') : ''
    }`,
  );

  const code = await untilSignal(
    async () => {
      await demo.close();
      await redis?.close();
    },
    (signal) => {
      log(
        `${signal}: shutting down; closing ${plural(heartline.clients.size, 'session')} with 1012 Service Restart${paint.dim(' (signal again to force)')}`,
      );
    },
    (message) => term.warn(message),
  );
  stopDrops();
  if (code === ExitCode.Ok) log('closed');
  return code;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('serve the chat demo: a page and its Heartline server on one port')
    .description(
      // One paragraph: commander wraps it to the terminal's width (80 in a pipe).
      'Serve a chat room in the browser: the page, the client bundle and a ' +
        'HeartlineServer on /ws, all on one port. Open the URL in two tabs, pick two ' +
        'names, chat, then break the link (DevTools offline, a sleeping laptop, a ' +
        'restart of this command) and watch the page reconnect, resume its session ' +
        'and lose nothing. Prints the URL on stdout; logs joins, messages and drops ' +
        'to stderr. SIGINT or SIGTERM closes every session with 1012 Service Restart ' +
        'and exits with 0; a second signal exits at once. Needs the built bundle ' +
        '(npm run build).',
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
    .option(
      '--redis <url>',
      'share a Redis with other demo servers: with the same --prefix they are one chat room, ' +
        'and a page may resume on any of them (needs npm install redis)',
    )
    .option('--prefix <name>', 'the name of the room in Redis, with --redis', 'demo')
    .option('-q, --quiet', 'log only errors', false)
    .addHelpText(
      'after',
      `
Output:
  stdout  the page's URL, once listening: http://127.0.0.1:8080/
  stderr  a line per join, message, dropped link, resumed session and
          ignored input

Examples:
  $ heartline demo                 # http://127.0.0.1:8080/
  $ heartline demo --port 0        # any free port; read the URL from stdout
  $ heartline demo --host 0.0.0.0  # reachable from other devices nearby
  $ npm start                      # from a clone: build, then heartline demo
  $ npm start -- --port 8081       # from a clone, when 8080 is taken
  $ heartline demo --redis redis://127.0.0.1:6379 --port 8081   # two servers,
  $ heartline demo --redis redis://127.0.0.1:6379 --port 8082   # one room

${exitCodesHelp([ExitCode.Ok, ExitCode.Failure, ExitCode.Usage, ExitCode.Unreachable, ExitCode.Interrupted, ExitCode.Terminated])}`,
    )
    .action(async (options: DemoOptions) => {
      process.exitCode = await runDemo(options);
    });
}
