import readline from 'node:readline';
import { type Command, Option } from 'commander';
import {
  CloseCode,
  describeClose,
  HeartlineSocket,
  type HeartlineSocketOptions,
  isHeartlineError,
} from '../client/index.js';
import { parseOrigin, parseProtocol, parseUrl } from './arguments.js';
import { formatDuration, parseDuration, parsePositiveDuration } from './duration.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-code.js';
import { Terminal } from './terminal.js';
import { cliWebSocket } from './web-socket.js';

export interface ConnectOptions {
  readonly protocol?: string[];
  /** Heartbeat interval in ms, or `false` for none; the client's default when absent. */
  readonly heartbeat?: number | false;
  readonly ping?: string;
  readonly pong?: string;
  readonly origin?: string;
  readonly reconnect: boolean;
  readonly session: boolean;
  readonly connectTimeout?: number;
  /** ms to keep printing after stdin ended and everything was sent; `Infinity` = stay. */
  readonly linger: number;
  readonly binary: 'hex' | 'base64';
  readonly quiet: boolean;
}

/** How long queued lines may wait for a link after stdin ended before the CLI gives up. */
export const DRAIN_TIMEOUT = 30_000;
/** How long the closing handshake may take before the CLI exits anyway (the client's own bound is 5 s). */
const CLOSE_GRACE = 6_000;
/** Codes that mean "never reached the server" rather than "the server said no". */
const UNREACHED: ReadonlySet<number> = new Set([
  CloseCode.AbnormalClosure,
  CloseCode.ConnectTimeout,
  CloseCode.TlsHandshake,
]);

/** One received message as one line: text as it is, binary as hex or base64. */
export function formatMessage(data: unknown, binary: 'hex' | 'base64'): string {
  if (typeof data === 'string') return data;
  let bytes: Buffer;
  if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
  else if (ArrayBuffer.isView(data))
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else bytes = Buffer.from(String(data));
  return bytes.toString(binary);
}

function socketOptions(o: ConnectOptions): HeartlineSocketOptions {
  const heartbeat =
    o.heartbeat === false
      ? false
      : {
          ...(o.heartbeat === undefined ? {} : { interval: o.heartbeat }),
          ...(o.ping === undefined ? {} : { ping: o.ping }),
          ...(o.pong === undefined ? {} : { isPong: (data: unknown) => data === o.pong }),
        };
  return {
    WebSocket: cliWebSocket(o.origin === undefined ? {} : { origin: o.origin }),
    heartbeat,
    reconnect: o.reconnect
      ? o.connectTimeout === undefined
        ? {}
        : { connectTimeout: o.connectTimeout }
      : false,
    // 'auto' is the default; only `false` is passed.
    ...(o.session ? {} : { session: false as const }),
  };
}

const seconds = (ms: number) => `${(Math.max(0, ms) / 1_000).toFixed(1)} s`;

/**
 * Runs `heartline connect`: stdin lines become messages, received messages are printed to
 * stdout one per line, and everything about the link goes to stderr. Resolves with the exit
 * code once the socket is closed for good.
 */
export function runConnect(url: string, o: ConnectOptions): Promise<number> {
  const term = new Terminal(process.stderr, { quiet: o.quiet });
  const { paint } = term;
  let socket: HeartlineSocket;
  try {
    socket = new HeartlineSocket(url, o.protocol ?? [], socketOptions(o));
  } catch (error) {
    if (isHeartlineError(error) || error instanceof DOMException)
      throw new CliError((error as Error).message, ExitCode.Usage, { cause: error });
    throw error;
  }
  socket.binaryType = 'arraybuffer';
  const started = performance.now();

  return new Promise<number>((resolve) => {
    let opened = false;
    let lastError: string | undefined;
    let droppedAt = 0;
    let closingWith: number | undefined;
    let done = false;
    let countdown: NodeJS.Timeout | undefined;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const input = readline.createInterface({
      input: process.stdin,
      terminal: false,
      crlfDelay: Number.POSITIVE_INFINITY,
    });

    const stopCountdown = () => {
      clearInterval(countdown);
      countdown = undefined;
      term.clearStatus();
    };

    const finish = (code: number, message?: string) => {
      if (done) return;
      done = true;
      stopCountdown();
      for (const t of timers) clearTimeout(t);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      input.close();
      process.stdin.pause();
      if (message) {
        if (code === ExitCode.Ok) term.info(message);
        else term.error(message);
      }
      resolve(code);
    };

    /** Closes with 1000 and exits with `code` once the socket says it is closed. */
    const closeAndExit = (code: number) => {
      if (closingWith !== undefined || done) return;
      closingWith = code;
      stopCountdown();
      if (socket.state === 'closed') return finish(code);
      socket.close(CloseCode.NormalClosure, 'heartline connect done');
      later(CLOSE_GRACE, () => finish(code, 'the closing handshake took too long; exiting'));
    };

    const onSignal = (signal: NodeJS.Signals) => {
      if (closingWith !== undefined) {
        finish(signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
        return;
      }
      term.info(paint.dim(`${signal}: closing (again to exit at once)`));
      closeAndExit(ExitCode.Ok);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    socket.addEventListener('open', () => {
      stopCountdown();
      const protocol = socket.protocol ? `, protocol ${socket.protocol}` : '';
      if (!opened) {
        opened = true;
        term.info(
          paint.green(`connected to ${socket.url}`) +
            paint.dim(` in ${formatDuration(performance.now() - started)}${protocol}`),
        );
      } else {
        term.info(
          paint.green('reconnected') +
            paint.dim(` after ${formatDuration(performance.now() - droppedAt)}${protocol}`),
        );
      }
    });

    socket.addEventListener('message', (event) => {
      process.stdout.write(`${formatMessage(event.data, o.binary)}\n`);
    });

    socket.addEventListener('error', (event) => {
      // "WebSocket error on <url>: connect ECONNREFUSED …": the URL is known; keep the why.
      lastError = event.message.replace(/^WebSocket error on \S+: /, '');
      if (opened) term.warn(`error: ${lastError}`);
    });

    socket.addEventListener('heartbeat', (event) => {
      term.info(
        paint.dim(`rtt ${event.rtt < 10 ? event.rtt.toFixed(1) : Math.round(event.rtt)} ms`),
      );
    });

    socket.addEventListener('resume', (event) => {
      if (event.resumed) term.info(paint.dim('session resumed: nothing lost'));
      else
        term.warn(
          `fresh session (${event.reason ?? 'not resumable'}): what the server sent while the link was down is lost`,
        );
    });

    socket.addEventListener('overflow', (event) => {
      term.warn(
        `outbox full: ${event.dropped.length} message(s) ${event.policy === 'reject' ? 'refused' : 'dropped'}`,
      );
    });

    socket.addEventListener('drop', (event) => {
      droppedAt = performance.now();
      const reason = event.reason ? ` ${JSON.stringify(event.reason)}` : '';
      term.warn(
        `connection lost: ${event.code} ${event.name}${reason} (${event.cause.replace('_', ' ')})`,
      );
      term.info(paint.dim(`  ${event.explanation}`));
    });

    socket.addEventListener('reconnecting', (event) => {
      stopCountdown();
      if (!opened) {
        // The first attempt failed: say why and stop, as a terminal client should.
        socket.close();
        finish(
          ExitCode.Unreachable,
          `could not connect to ${url}: ${lastError ?? 'no answer within the connect timeout'}`,
        );
        return;
      }
      const due = performance.now() + event.delay;
      const hint = event.serverHint ? ' as the server asked' : '';
      const text = (left: number) =>
        `reconnecting in ${seconds(left)} (attempt ${event.attempt})${hint}`;
      if (!term.live) {
        term.info(text(event.delay));
        return;
      }
      // On a terminal the line counts down in place until the attempt starts.
      const tick = () => {
        const left = due - performance.now();
        term.status(
          paint.yellow(left >= 50 ? text(left) : `reconnecting… (attempt ${event.attempt})`),
        );
      };
      tick();
      countdown = setInterval(tick, 100);
    });

    socket.addEventListener('close', (event) => {
      if (closingWith !== undefined) return finish(closingWith);
      const d = describeClose(event.code);
      const reason = event.reason ? ` ${JSON.stringify(event.reason)}` : '';
      if (!opened) {
        const why = lastError ?? `${event.code} ${d.name}${reason}: ${d.explanation}`;
        return finish(
          UNREACHED.has(event.code) ? ExitCode.Unreachable : ExitCode.ClosedByPeer,
          `could not connect to ${url}: ${why}`,
        );
      }
      if (event.code === CloseCode.NormalClosure) {
        return finish(ExitCode.Ok, `closed by the server: 1000 NormalClosure${reason}`);
      }
      finish(
        ExitCode.ClosedByPeer,
        `closed for good: ${event.code} ${d.name}${reason}${
          d.retry ? '' : ' (retrying cannot fix this)'
        }`,
      );
    });

    input.on('line', (line) => {
      if (closingWith !== undefined || done) return;
      try {
        socket.send(line);
      } catch (error) {
        term.error(`not sent: ${(error as Error).message}`);
      }
    });

    input.on('close', () => {
      if (done || closingWith !== undefined) return;
      // stdin ended (a pipe, or Ctrl-D): send what is queued, listen a little longer, close.
      const deadline = performance.now() + DRAIN_TIMEOUT;
      const drained = () => socket.state === 'open' && socket.bufferedAmount === 0;
      const poll = () => {
        if (done || closingWith !== undefined) return;
        if (drained()) {
          if (o.linger !== Number.POSITIVE_INFINITY)
            later(o.linger, () => closeAndExit(ExitCode.Ok));
          return;
        }
        if (performance.now() > deadline) {
          const bytes = socket.bufferedAmount;
          socket.close();
          finish(
            ExitCode.Failure,
            `gave up after ${formatDuration(DRAIN_TIMEOUT)}: ${bytes} byte(s) of input never sent`,
          );
          return;
        }
        later(20, poll);
      };
      poll();
    });
  });
}

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .summary('an interactive client that survives drops (lines in, messages out)')
    .description(
      'Connect to a WebSocket server with HeartlineSocket: each line on stdin is sent as a\n' +
        'text message, each message received is printed on stdout, one per line. The link is\n' +
        'kept alive with a heartbeat and comes back by itself after a drop; what you type\n' +
        'meanwhile is queued. State, RTT, the reconnect countdown and close explanations go\n' +
        'to stderr. When stdin ends, queued lines are sent, replies are printed for --linger,\n' +
        'then the connection closes with 1000.',
    )
    .argument('<url>', 'ws:// or wss:// URL (http(s) too; no scheme means ws://)', parseUrl)
    .option('--protocol <name...>', 'sub-protocols to offer', parseProtocol)
    .addOption(
      new Option(
        '--heartbeat <duration>',
        "ms of silence before a ping is sent, or 'off' (default 10s)",
      ).argParser((text) => (text === 'off' ? false : parsePositiveDuration(text))),
    )
    .option('--ping <text>', 'the heartbeat message to send (default "ping")')
    .option('--pong <text>', 'the answer that counts as a pong and is not printed (default "pong")')
    .option('--origin <origin>', 'send this Origin header (for servers that check it)', parseOrigin)
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
    .option('-q, --quiet', 'on stderr, only errors and close explanations', false)
    .addHelpText(
      'after',
      `
Durations: 1500ms, 90s, 10m, 1m30s; a bare number is milliseconds.

Output:
  stdout  one received message per line (text as is; binary as hex, or --binary base64)
  stderr  connected / connection lost (code, name, explanation) / reconnecting in 1.2 s
          (attempt 3) / rtt; colour only on a terminal, never with NO_COLOR

A first connection that fails exits with 3; after that, drops are retried (except codes
retrying cannot fix, such as 1008, which exit with 4). Ctrl-C closes with 1000 and exits 0.

Examples:
  $ heartline connect ws://127.0.0.1:8080/
  $ printf 'hello\\nworld\\n' | heartline connect ws://127.0.0.1:8080/ > replies.txt
  $ heartline connect wss://example.com/feed --linger forever < /dev/null | jq .
  $ heartline connect ws://127.0.0.1:9000/ --protocol chat.v1 --heartbeat 5s --ping '{"t":"ping"}' --pong '{"t":"pong"}'

${EXIT_CODES_HELP}`,
    )
    .action(async (url: string, options: ConnectOptions) => {
      process.exitCode = await runConnect(url, options);
    });
}
