import { type Command, Option } from 'commander';
import type { WebSocket } from 'ws';
import { CloseCode, DEFAULTS, describeClose } from '../client/index.js';
import { integerIn, parseOrigin, parseProtocol, parseUrl } from './arguments.js';
import { DURATION_HELP, formatDuration, parsePositiveDuration } from './duration.js';
import { CliError, ExitCode, exitCodesHelp } from './exit-code.js';
import { onSignal } from './signals.js';
import { Terminal } from './terminal.js';
import { cliWebSocket } from './web-socket.js';

export interface ProbeOptions {
  /** ms to hold the idle connection before giving up waiting for a cut. */
  readonly max: number;
  readonly protocol?: string[];
  readonly origin?: string;
  readonly samples: number;
  readonly connectTimeout: number;
  readonly json: boolean;
}

/** How long each protocol ping may wait for its pong. */
const PONG_TIMEOUT = 2_000;
/** How long a closing handshake may take before the connection is cut. */
const CLOSE_TIMEOUT = 1_000;
/** HeartlineSocket's default `heartbeat.interval`, which the report measures a path against. */
const DEFAULT_HEARTBEAT = DEFAULTS.heartbeat.interval;

/** What `probe` found; also its `--json` output. */
export interface ProbeReport {
  readonly url: string;
  /** ms from the first byte of the attempt to `open`: DNS, TCP, TLS and the HTTP upgrade. */
  readonly handshake: number;
  readonly protocol: string;
  readonly rtt: {
    readonly samples: number[];
    readonly lost: number;
    readonly min: number | null;
    readonly avg: number | null;
    readonly max: number | null;
  };
  readonly idle: {
    /** Whether the idle connection was cut before `max` (or an interruption). */
    readonly cut: boolean;
    /** ms the idle connection lived (or was held, when not cut). */
    readonly after: number;
    readonly code: number | null;
    readonly reason: string | null;
    readonly name: string | null;
    readonly explanation: string | null;
    /** The socket error that came with the cut, such as `read ECONNRESET`. */
    readonly error: string | null;
    /** Protocol pings the server sent while the probe stayed silent (answered automatically). */
    readonly serverPings: number;
    /** Messages the server sent meanwhile. */
    readonly serverMessages: number;
    readonly interrupted: boolean;
  };
  /** A heartbeat interval that keeps this path alive (ms), or null when nothing was cut. */
  readonly recommendedHeartbeat: number | null;
}

/**
 * Half the measured idle timeout, rounded down to whole seconds, at least 1 s: a heartbeat
 * that fires twice per idle window survives one lost ping and timer jitter.
 *
 * @example recommendHeartbeat(60_000) // 30000
 */
export function recommendHeartbeat(idleTimeout: number): number {
  return Math.max(1_000, Math.floor(idleTimeout / 2 / 1_000) * 1_000);
}

/** Opens a raw `ws` connection, or fails with exit code 3 and the reason. */
async function open(url: string, o: ProbeOptions): Promise<{ ws: WebSocket; handshake: number }> {
  const Impl = cliWebSocket({
    handshakeTimeout: o.connectTimeout,
    ...(o.origin === undefined ? {} : { origin: o.origin }),
  });
  const started = performance.now();
  const ws = new Impl(url, o.protocol ?? []);
  return new Promise((resolve, reject) => {
    let error: Error | undefined;
    ws.on('error', (e) => {
      error = e;
    });
    ws.once('open', () => {
      ws.off('close', onClose);
      resolve({ ws, handshake: performance.now() - started });
    });
    const onClose = (code: number) => {
      const why = error?.message ?? `closed with ${code} before it opened`;
      reject(new CliError(`could not connect to ${url}: ${why}`, ExitCode.Unreachable));
    };
    ws.once('close', onClose);
  });
}

/** Round trips of protocol-level pings: they cross every proxy, and no app sees them. */
async function sampleRtt(
  ws: WebSocket,
  count: number,
): Promise<{ samples: number[]; lost: number }> {
  const samples: number[] = [];
  let lost = 0;
  for (let i = 0; i < count && ws.readyState === ws.OPEN; i++) {
    const sent = performance.now();
    const answered = await new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        ws.off('pong', onPong);
        ws.off('close', onClose);
        resolve(ok);
      };
      const onPong = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), PONG_TIMEOUT);
      ws.on('pong', onPong);
      ws.on('close', onClose);
      ws.ping(String(i));
    });
    if (answered) samples.push(performance.now() - sent);
    else lost++;
  }
  return { samples, lost };
}

async function closeQuietly(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, CLOSE_TIMEOUT);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(CloseCode.NormalClosure, 'probe done');
  });
}

/**
 * Holds a connection that sends nothing at all until something cuts it, `max` passes, or
 * SIGINT. Server pings are answered (as any client does: the server's own heartbeat is
 * not the path's timeout) and counted, since they keep the path busy.
 */
function holdIdle(
  ws: WebSocket,
  max: number,
  term: Terminal,
  interrupts: { on: () => void },
): Promise<ProbeReport['idle']> {
  const started = performance.now();
  let serverPings = 0;
  let serverMessages = 0;
  let error: string | null = null;
  ws.on('ping', () => serverPings++);
  ws.on('message', () => serverMessages++);
  ws.on('error', (e) => {
    error = e.message;
  });
  const total = formatDuration(max);
  const progress = () =>
    term.status(`holding an idle connection: ${elapsed(performance.now() - started)} / ${total}`);
  progress();
  const ticker = setInterval(progress, 250);
  return new Promise((resolve) => {
    const finish = (
      idle: Omit<ProbeReport['idle'], 'serverPings' | 'serverMessages' | 'error'>,
    ) => {
      clearInterval(ticker);
      clearTimeout(timer);
      interrupts.on = () => {};
      ws.off('close', onClose);
      term.clearStatus();
      resolve({ ...idle, error, serverPings, serverMessages });
    };
    const none = { code: null, reason: null, name: null, explanation: null };
    const timer = setTimeout(
      () => finish({ cut: false, after: max, interrupted: false, ...none }),
      max,
    );
    interrupts.on = () =>
      finish({ cut: false, after: performance.now() - started, interrupted: true, ...none });
    const onClose = (code: number, reason: Buffer) => {
      const d = describeClose(code);
      finish({
        cut: true,
        after: performance.now() - started,
        interrupted: false,
        code,
        reason: reason.toString(),
        name: d.name,
        explanation: d.explanation,
      });
    };
    ws.once('close', onClose);
  });
}

/** Elapsed time for the progress line: tenths of seconds, so the width barely moves. */
const elapsed = (n: number) => (n < 60_000 ? `${(n / 1_000).toFixed(1)} s` : formatDuration(n));

/** A figure for the report: ms to a tenth, as no clock here is finer than that. */
const tenth = (n: number) => Math.round(n * 10) / 10;

const ms = (n: number) => (n < 10 ? n.toFixed(1) : String(Math.round(n)));

/** The report for people: one `label  value` line each. */
export function formatReport(r: ProbeReport, paint = new Terminal(process.stdout).paint): string {
  const lines: [string, string][] = [
    ['url', r.url],
    ['handshake', `${ms(r.handshake)} ms${r.protocol ? ` (protocol ${r.protocol})` : ''}`],
  ];
  const { samples, lost, min, avg, max } = r.rtt;
  lines.push([
    'rtt',
    min === null
      ? `no pong to ${lost} protocol ping(s) within ${formatDuration(PONG_TIMEOUT)} each`
      : `min ${ms(min)} ms, avg ${ms(avg!)} ms, max ${ms(max!)} ms (${samples.length} protocol pings${lost ? `, ${lost} lost` : ''})`,
  ]);
  const i = r.idle;
  if (i.cut) {
    const reason = i.reason ? ` ${JSON.stringify(i.reason)}` : '';
    const error = i.error ? ` (${i.error})` : '';
    lines.push([
      'idle cut',
      `${paint.bold(`after ${formatDuration(i.after)}`)}: ${i.code} ${i.name}${reason}${error}`,
    ]);
    lines.push(['', i.explanation!]);
  } else {
    lines.push([
      'idle cut',
      `none within ${formatDuration(i.after)}${i.interrupted ? ' (interrupted)' : ''}`,
    ]);
  }
  if (i.serverPings || i.serverMessages)
    lines.push([
      'note',
      `the server sent ${i.serverPings} ping(s) and ${i.serverMessages} message(s) meanwhile: the path was not idle, so its own timeout may be shorter than this`,
    ]);
  const hb = r.recommendedHeartbeat;
  lines.push([
    'heartbeat',
    hb === null
      ? i.interrupted
        ? `no cut seen yet; probe longer (--max) to find the idle timeout`
        : i.after >= DEFAULT_HEARTBEAT * 1.5
          ? `no cut within ${formatDuration(i.after)}: HeartlineSocket's default heartbeat (every ${DEFAULT_HEARTBEAT / 1_000} s) keeps links on this path alive`
          : `no cut within ${formatDuration(i.after)}, too short to judge HeartlineSocket's default heartbeat (every ${DEFAULT_HEARTBEAT / 1_000} s); probe longer (--max 1m) to find this path's idle timeout`
      : `${paint.bold(`every ${hb / 1_000} s or more often`)}: new HeartlineSocket(url, [], { heartbeat: ${hb} }), new HeartlineServer({ heartbeat: { interval: ${hb} } })`,
  ]);
  return lines.map(([label, value]) => `${label.padEnd(10)} ${value}`).join('\n');
}

/** Runs `heartline probe`: handshake, RTT, then the idle timeout of the path. */
export async function runProbe(url: string, o: ProbeOptions): Promise<number> {
  const term = new Terminal(process.stderr);
  term.info(term.paint.dim(`probing ${url}: handshake and ${o.samples} protocol pings…`));
  const first = await open(url, o);
  const rtt = await sampleRtt(first.ws, o.samples);
  const protocol = first.ws.protocol;
  await closeQuietly(first.ws);

  const idle = await open(url, o);
  term.info(
    term.paint.dim(
      `holding an idle connection for up to ${formatDuration(o.max)}, sending nothing${term.live ? ' (Ctrl-C to stop)' : ''}…`,
    ),
  );
  // Ctrl-C ends the wait; the report is printed all the same (see SIGNAL_ECHO for npm's echo).
  const interrupts = { on: () => {} };
  onSignal(() => interrupts.on(), ['SIGINT']);
  const result = await holdIdle(idle.ws, o.max, term, interrupts);
  // A close frame, not a cut: the server must not log a lost link for a probe that is done.
  await closeQuietly(idle.ws);

  const { lost } = rtt;
  const samples = rtt.samples.map(tenth);
  const report: ProbeReport = {
    url,
    handshake: tenth(first.handshake),
    protocol,
    rtt: {
      samples,
      lost,
      min: samples.length ? Math.min(...samples) : null,
      avg: samples.length ? tenth(samples.reduce((a, b) => a + b, 0) / samples.length) : null,
      max: samples.length ? Math.max(...samples) : null,
    },
    idle: { ...result, after: Math.round(result.after) },
    recommendedHeartbeat: result.cut ? recommendHeartbeat(result.after) : null,
  };
  process.stdout.write(
    o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`,
  );
  return result.interrupted ? ExitCode.Interrupted : ExitCode.Ok;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .summary("measure a path's handshake, RTT and idle timeout; recommend a heartbeat")
    .description(
      // One paragraph: commander wraps it to the terminal's width (80 in a pipe).
      'Measure the path to a WebSocket server: the opening handshake time, round trips of ' +
        'protocol-level pings, then the idle timeout: a second connection that sends nothing ' +
        'at all is held until a proxy, a load balancer or the server cuts it, or --max ' +
        'passes. Reports after how long and how (close code and reason, or 1006 for a ' +
        'dropped TCP connection), and a heartbeat interval that keeps such links alive.',
    )
    .argument('<url>', 'ws:// or wss:// URL (http(s) too; no scheme means ws://)', parseUrl)
    .addOption(
      new Option('--max <duration>', 'longest time to hold the idle connection')
        .default(600_000, '10m')
        .argParser(parsePositiveDuration),
    )
    .option('--protocol <name...>', 'sub-protocols to offer', parseProtocol)
    .option('--origin <origin>', 'send this Origin header (for servers that check it)', parseOrigin)
    .addOption(
      new Option('--samples <count>', 'protocol pings for the RTT')
        .default(5)
        .argParser(integerIn(0, 100)),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'time the opening handshake may take')
        .default(10_000, '10s')
        .argParser(parsePositiveDuration),
    )
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      `
${DURATION_HELP}

Output:
  stdout  the report (or --json); the recommended heartbeat is half the
          measured idle timeout, rounded down to whole seconds, at least 1 s
  stderr  progress; on a terminal a live line such as
          "holding an idle connection: 42.0 s / 10 min 00 s"

Ctrl-C ends the wait early and prints what was seen so far (exit 130).

Examples:
  $ heartline probe wss://example.com/feed
  $ heartline probe ws://127.0.0.1:8080/ --max 2m --json | jq .idle

${exitCodesHelp([ExitCode.Ok, ExitCode.Failure, ExitCode.Usage, ExitCode.Unreachable, ExitCode.Interrupted])}`,
    )
    .action(async (url: string, options: ProbeOptions) => {
      process.exitCode = await runProbe(url, options);
    });
}
