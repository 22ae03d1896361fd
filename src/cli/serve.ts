import type { AddressInfo } from 'node:net';
import { type Command, Option } from 'commander';
import { redisEngine } from '../redis/index.js';
import {
  HeartlineServer,
  type HeartlineServerOptions,
  isHeartlineError,
  type ServerClient,
} from '../server/index.js';
import { collect, parsePort, parseProtocol } from './arguments.js';
import {
  DURATION_HELP,
  formatDuration,
  parseDuration,
  parseDurationOrOff,
  parsePositiveDuration,
} from './duration.js';
import { CliError, ExitCode, exitCodesHelp } from './exit-code.js';
import { connectRedis } from './redis-client.js';
import { listenFailure, plural, ServerLog, short } from './server-log.js';
import { untilSignal } from './signals.js';
import { Terminal } from './terminal.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly path?: string[];
  readonly mode: 'echo' | 'broadcast';
  readonly origin?: string[];
  readonly allowMissingOrigin: boolean;
  readonly protocol?: string[];
  readonly heartbeatInterval?: number | false;
  readonly heartbeatTimeout?: number;
  readonly retrySpread: number;
  /** A Redis URL: every `serve` on it with the same prefix is one cluster. */
  readonly redis?: string;
  readonly prefix: string;
  readonly quiet: boolean;
}

/** `ws://host:port/` for the address the server is bound to (IPv6 in brackets). */
export function listeningUrl(address: AddressInfo, path = '/'): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `ws://${host}:${address.port}${path}`;
}

/** The `HeartlineServer` options for the command line's. Exported for tests of the mapping. */
export function serverOptions(o: ServeOptions): HeartlineServerOptions {
  const origins = o.origin?.includes('*') ? '*' : (o.origin ?? 'same-origin');
  const heartbeat =
    o.heartbeatInterval === false
      ? false
      : {
          ...(o.heartbeatInterval === undefined ? {} : { interval: o.heartbeatInterval }),
          ...(o.heartbeatTimeout === undefined ? {} : { timeout: o.heartbeatTimeout }),
        };
  return {
    port: o.port,
    host: o.host,
    ...(o.path ? { path: o.path } : {}),
    origins,
    allowMissingOrigin: o.allowMissingOrigin,
    ...(o.protocol ? { protocols: o.protocol } : {}),
    heartbeat,
    shutdown: { retryAfter: o.retrySpread },
  };
}

/**
 * Runs `heartline serve` until SIGINT or SIGTERM: a standalone `HeartlineServer` that echoes
 * or broadcasts, logging every connection and drop to stderr. The first signal starts the
 * graceful shutdown (1012, the clients' return spread over `--retry-spread`); a second one
 * exits at once.
 */
export async function runServe(o: ServeOptions): Promise<number> {
  const term = new Terminal(process.stderr, { quiet: o.quiet });
  const { paint } = term;
  const serverLog = new ServerLog(term);
  const log = (text: string) => serverLog.line(text);
  const redis = o.redis === undefined ? undefined : await connectRedis(o.redis);
  let server: HeartlineServer;
  try {
    server = new HeartlineServer({
      ...serverOptions(o),
      ...(redis ? { engine: redisEngine({ client: redis.client, prefix: o.prefix }) } : {}),
    });
  } catch (error) {
    await redis?.close();
    if (isHeartlineError(error))
      throw new CliError(error.message, ExitCode.Usage, { cause: error });
    throw error;
  }

  let started = false;
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.on('error', (error, client) => {
      if (client || started) serverLog.error(error, client);
      else reject(error);
    });
  });
  try {
    await listening;
  } catch (error) {
    await server.close().catch(() => {});
    await redis?.close();
    throw listenFailure(error, o.host, o.port);
  }
  started = true;

  const url = listeningUrl(server.address() as AddressInfo, o.path?.[0]);
  const origins = o.origin?.join(', ') ?? 'same-origin';
  // The URL alone on stdout, for scripts (`--port 0`); the same line, with context, on stderr.
  process.stdout.write(`${url}\n`);
  log(
    `listening on ${paint.bold(url)} (${o.mode} mode, ${
      o.path ? `paths ${o.path.join(' ')}` : 'any path'
    }, origins ${origins}${o.allowMissingOrigin ? ' or none' : ''})${
      term.live ? paint.dim('; Ctrl-C to stop') : ''
    }`,
  );

  const connected = () => plural(server.stats().connections, 'client');
  const stopDrops = serverLog.drops(connected);
  server.on('connection', (client: ServerClient) => {
    const protocol = client.protocol ? `, protocol ${client.protocol}` : '';
    log(
      `${paint.green('+')} ${paint.dim(short(client.id))} from ${client.remoteAddress ?? '?'} (${client.mode} mode${protocol}; ${connected()})`,
    );
    if (client.mode === 'session') {
      // A session outlives its links: say when it comes back, and when it ends for good.
      client.on('resume', () =>
        log(
          `${paint.green('↻')} ${paint.dim(short(client.id))} resumed its session (${connected()})`,
        ),
      );
      client.on('close', (code, reason) =>
        log(
          `${paint.dim('×')} ${paint.dim(short(client.id))} session ended: ${code}${reason ? ` ${JSON.stringify(reason)}` : ''}`,
        ),
      );
    }
    // Text arrives as a string and binary as a Buffer, so each goes out as what it was.
    client.on('message', (data) => {
      if (o.mode === 'echo') client.send(data);
      else server.broadcast(data, { except: client });
    });
  });

  const code = await untilSignal(
    async () => {
      await server.close();
      await redis?.close();
    },
    (signal) => {
      term.clearStatus();
      log(
        `${signal}: shutting down; closing ${plural(server.clients.size, 'client')} with 1012, their return spread over ${formatDuration(o.retrySpread)}${paint.dim(' (signal again to force)')}`,
      );
    },
    (message) => term.warn(message),
  );
  stopDrops();
  if (code === ExitCode.Ok) log('closed');
  return code;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('run a standalone Heartline server (echo or broadcast)')
    .description(
      // One paragraph: commander wraps it to the terminal's width (80 in a pipe).
      'Run a HeartlineServer that echoes each message to its sender or broadcasts it to every ' +
        'other client. Logs connections and drops to stderr; prints its URL on stdout. ' +
        'SIGINT or SIGTERM starts a graceful shutdown: every client gets 1012 Service Restart ' +
        'with a retry-after hint spread over --retry-spread; a second signal exits at once.',
    )
    .addOption(
      new Option('-p, --port <port>', 'port to listen on; 0 = any free port')
        .default(8080)
        .argParser(parsePort),
    )
    .option(
      '-H, --host <address>',
      'address to listen on (0.0.0.0 for every interface)',
      '127.0.0.1',
    )
    .option('--path <path...>', 'accept upgrades only on these paths (default: any path)')
    .addOption(
      new Option('-m, --mode <mode>', 'echo: back to the sender; broadcast: to every other client')
        .choices(['echo', 'broadcast'])
        .default('echo'),
    )
    .option(
      '--origin <origin...>',
      "allowed browser Origins, exact or https://*.example.com; '*' = any (default: same origin)",
      collect,
    )
    .option(
      '--no-allow-missing-origin',
      'refuse clients that send no Origin (terminal clients, ws in Node); accepted by default',
    )
    .option('--protocol <name...>', 'supported sub-protocols, most preferred first', parseProtocol)
    .addOption(
      new Option(
        '--heartbeat-interval <duration>',
        "ms between protocol pings to each client, or 'off' (default 25s)",
      ).argParser(parseDurationOrOff),
    )
    .option(
      '--heartbeat-timeout <duration>',
      'silence allowed after a ping before a client is dropped (default 10s)',
      parsePositiveDuration,
    )
    .addOption(
      new Option(
        '--retry-spread <duration>',
        "at shutdown, spread the clients' return over this window",
      )
        .default(5_000, '5s')
        .argParser(parseDuration),
    )
    .option(
      '--redis <url>',
      'one cluster with every serve on this Redis with the same --prefix: broadcasts reach ' +
        'them all, and a client may resume on any (needs npm install redis)',
    )
    .option('--prefix <name>', "the cluster's name in Redis, with --redis", 'heartline')
    .option('-q, --quiet', 'log only errors', false)
    .addHelpText(
      'after',
      `
${DURATION_HELP}

Output:
  stdout  the URL, once listening: ws://127.0.0.1:8080/
  stderr  a log line per connection, drop and session end:
            + eJu2_sd9 from 127.0.0.1 (session mode; 1 client)
            - eJu2_sd9 link dropped: 1006 connection lost after 3.0 s (1 client)
            ↻ eJu2_sd9 resumed its session (1 client)

Examples:
  $ heartline serve                            # ws://127.0.0.1:8080/, echo
  $ heartline serve --port 0 --mode broadcast  # any free port, a chat relay
  $ heartline serve --host 0.0.0.0 --origin https://app.example.com --path /ws
  $ heartline serve --heartbeat-interval off   # no pings: a proxy's cut shows
  $ heartline serve -m broadcast --redis redis://127.0.0.1:6379 -p 8081  # one
  $ heartline serve -m broadcast --redis redis://127.0.0.1:6379 -p 8082  # relay

${exitCodesHelp([ExitCode.Ok, ExitCode.Failure, ExitCode.Usage, ExitCode.Unreachable, ExitCode.Interrupted, ExitCode.Terminated])}`,
    )
    .action(async (options: ServeOptions) => {
      process.exitCode = await runServe(options);
    });
}
