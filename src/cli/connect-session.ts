import {
  CloseCode,
  describeClose,
  HeartlineSocket,
  type HeartlineSocketOptions,
  isHeartlineError,
} from '../client/index.js';
import { Timers } from '../common/timers.js';
import {
  type ConnectOptions,
  FRESH_REASONS,
  formatMessage,
  readCa,
  requestHeaders,
} from './connect-options.js';
import { formatDuration } from './duration.js';
import { CliError, ExitCode } from './exit-code.js';
import { type Console, openConsole } from './prompt.js';
import { onSignal } from './signals.js';
import { cliWebSocket } from './web-socket.js';

/** How long queued lines may wait for a link after stdin ended before the CLI gives up. */
export const DRAIN_TIMEOUT = 30_000;
/** How long the closing handshake may take before the CLI exits anyway (the client's own bound is 5 s). */
const CLOSE_GRACE = 6_000;
/** How often, while input waits to go out, the CLI looks whether it went (no event says so in plain mode). */
const DRAIN_POLL = 50;
/** wscat's default for `-w`: how long `-x` waits for replies. */
const EXECUTE_WAIT = 2_000;
/** Codes that mean the link never opened (exit 3): no server reached, or the upgrade refused. */
const UNREACHED: ReadonlySet<number> = new Set([
  CloseCode.AbnormalClosure,
  CloseCode.ConnectTimeout,
  CloseCode.TlsHandshake,
  // The server answered the upgrade with an HTTP error: never connected either.
  CloseCode.HttpBadRequest,
  CloseCode.HttpUnauthorized,
  CloseCode.HttpForbidden,
  CloseCode.HttpNotFound,
  CloseCode.HttpTooManyRequests,
  CloseCode.HttpServiceUnavailable,
]);
/** PROTOCOL.md: the sub-protocol of session mode, as the underlying socket reports it. */
const SESSION_PROTOCOL = 'heartline.v1';

const seconds = (ms: number) => `${(Math.max(0, ms) / 1_000).toFixed(1)} s`;

/**
 * The command's own life, apart from the link's: `running` while input comes, `draining`
 * once it ended and queued lines wait to go out, `closing` once the 1000 close was sent.
 */
type Phase = 'running' | 'draining' | 'closing' | 'done';
const NEXT: Readonly<Record<Phase, readonly Phase[]>> = {
  running: ['draining', 'closing', 'done'],
  draining: ['closing', 'done'],
  closing: ['done'],
  done: [],
};

type Slot = 'countdown' | 'drainPoll' | 'drainDeadline' | 'linger' | 'closeGrace';

/**
 * `heartline connect`: input lines become messages, received messages are printed one per
 * line, and everything about the link goes to stderr. `run()` resolves with the exit code
 * once the socket is closed for good.
 */
export class ConnectSession {
  readonly #url: string;
  readonly #o: ConnectOptions;
  readonly #console: Console;
  readonly #socket: HeartlineSocket;
  readonly #timers = new Timers<Slot>();
  readonly #started = performance.now();
  #phase: Phase = 'running';
  #exitCode: number = ExitCode.Ok;
  #resolve: (code: number) => void = () => {};
  /** Links opened so far: the first says "connected", the others "reconnected". */
  #opens = 0;
  #droppedAt = 0;
  #lastError: string | undefined;
  /** Whether the current (or last) link speaks session mode, where sent means acknowledged. */
  #sessionLink = false;
  /** Lines handed to the socket, and how many of them the server acknowledged or dropped. */
  #sent = 0;
  #settled = 0;

  constructor(url: string, o: ConnectOptions, console: Console = openConsole(o)) {
    this.#url = url;
    this.#o = o;
    this.#console = console;
    try {
      this.#socket = new HeartlineSocket(url, o.protocol ?? [], this.#socketOptions());
    } catch (error) {
      console.close();
      if (isHeartlineError(error) || error instanceof DOMException)
        throw new CliError((error as Error).message, ExitCode.Usage, { cause: error });
      throw error;
    }
    this.#socket.binaryType = 'arraybuffer';
  }

  /** Runs until the socket is closed for good; resolves with the exit code. */
  run(): Promise<number> {
    const done = new Promise<number>((resolve) => {
      this.#resolve = resolve;
    });
    this.#listen();
    if (this.#o.execute) {
      for (const text of this.#o.execute) this.#send(text);
      this.#endOfInput();
    } else {
      this.#console.onLine((line) => this.#send(line));
      this.#console.onEnd(() => this.#endOfInput());
    }
    this.#console.onInterrupt(() => this.#onSignal('SIGINT'));
    onSignal((signal) => this.#onSignal(signal));
    return done;
  }

  #socketOptions(): HeartlineSocketOptions {
    const o = this.#o;
    const heartbeat =
      o.heartbeat === false
        ? false
        : {
            ...(o.heartbeat === undefined ? {} : { interval: o.heartbeat }),
            ...(o.ping === undefined ? {} : { ping: o.ping }),
            ...(o.pong === undefined ? {} : { isPong: (data: unknown) => data === o.pong }),
          };
    const headers = requestHeaders(o);
    const show = (what: string) => (data: Buffer) =>
      this.#console.info(
        this.#console.paint.dim(`< ${what}${data.length ? ` ${data.toString('hex')}` : ''}`),
      );
    return {
      WebSocket: cliWebSocket({
        ...(o.origin === undefined ? {} : { origin: o.origin }),
        ...(headers ? { headers } : {}),
        ...(o.check === false ? { rejectUnauthorized: false } : {}),
        ...(o.ca === undefined ? {} : { ca: readCa(o.ca) }),
        onOpen: (protocol) => {
          this.#sessionLink = protocol === SESSION_PROTOCOL;
        },
        ...(o.showPingPong ? { onPing: show('ping'), onPong: show('pong') } : {}),
      }),
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

  #setPhase(to: Phase): void {
    if (!NEXT[this.#phase].includes(to))
      throw new Error(`heartline connect: no move from ${this.#phase} to ${to}`);
    this.#phase = to;
  }

  #listen(): void {
    const socket = this.#socket;
    const c = this.#console;
    const { paint } = c;

    socket.addEventListener('open', () => {
      this.#stopCountdown();
      const protocol = socket.protocol ? `, protocol ${socket.protocol}` : '';
      if (this.#opens++ === 0) {
        c.info(
          paint.green(`connected to ${socket.url}`) +
            paint.dim(` in ${formatDuration(performance.now() - this.#started)}${protocol}`),
        );
      } else {
        c.info(
          paint.green('reconnected') +
            paint.dim(` after ${formatDuration(performance.now() - this.#droppedAt)}${protocol}`),
        );
      }
      this.#lastError = undefined;
      if (this.#phase === 'draining') this.#drain();
    });

    socket.addEventListener('message', (event) => {
      c.received(formatMessage(event.data, this.#o.binary));
    });

    socket.addEventListener('error', (event) => {
      // "WebSocket error on <url>: connect ECONNREFUSED …": the URL is known; keep the why. A
      // failed attempt is shown on the countdown line, not as a line of its own each time.
      this.#lastError = event.message.replace(/^WebSocket error on \S+: /, '');
      if (socket.state === 'open') c.warn(`error: ${this.#lastError}`);
    });

    socket.addEventListener('heartbeat', (event) => {
      c.info(paint.dim(`rtt ${event.rtt < 10 ? event.rtt.toFixed(1) : Math.round(event.rtt)} ms`));
    });

    socket.addEventListener('ack', (event) => {
      this.#settled += event.count;
      if (this.#phase === 'draining') this.#drain();
    });

    socket.addEventListener('resume', (event) => {
      if (event.resumed) c.info(paint.dim('session resumed: nothing lost'));
      else
        c.warn(
          `new session: ${FRESH_REASONS[event.reason ?? ''] ?? event.reason ?? 'the old one ended'}; what the server sent while the link was down is lost`,
        );
    });

    socket.addEventListener('overflow', (event) => {
      this.#settled += event.dropped.length;
      c.warn(
        `outbox full: ${event.dropped.length} message(s) ${event.policy === 'reject' ? 'refused' : 'dropped'}`,
      );
    });

    socket.addEventListener('drop', (event) => {
      this.#droppedAt = performance.now();
      const reason = event.reason ? ` ${JSON.stringify(event.reason)}` : '';
      c.warn(
        `connection lost: ${event.code} ${event.name}${reason} (${event.cause.replace('_', ' ')})`,
      );
      c.info(paint.dim(`  ${event.explanation}`));
    });

    socket.addEventListener('reconnecting', (event) => {
      this.#stopCountdown();
      if (this.#opens === 0) {
        // The first attempt failed: say why and stop, as a terminal client should.
        socket.close();
        this.#finish(
          ExitCode.Unreachable,
          `could not connect to ${this.#url}: ${this.#lastError ?? 'no answer within the connect timeout'}`,
        );
        return;
      }
      if (this.#phase === 'draining' && this.#unsent() === 0) {
        this.#closeAndExit(ExitCode.Ok, 'input ended and nothing is left to send');
        return;
      }
      const due = performance.now() + event.delay;
      const hint = event.serverHint ? ' as the server asked' : '';
      const last = this.#lastError ? paint.dim(` · last attempt: ${this.#lastError}`) : '';
      const text = (left: number) =>
        `reconnecting in ${seconds(left)} (attempt ${event.attempt})${hint}`;
      if (!c.live) {
        c.info(`${text(event.delay)}${last}`);
        return;
      }
      // On a terminal the line counts down in place until the attempt starts.
      const tick = () => {
        const left = due - performance.now();
        c.status(
          paint.yellow(left >= 50 ? text(left) : `reconnecting… (attempt ${event.attempt})`) + last,
        );
        this.#timers.set('countdown', 100, tick);
      };
      tick();
    });

    socket.addEventListener('close', (event) => {
      if (this.#phase === 'closing') return this.#finish(this.#exitCode);
      const d = describeClose(event.code);
      const reason = event.reason ? ` ${JSON.stringify(event.reason)}` : '';
      if (this.#opens === 0) {
        const why = this.#lastError ?? `${event.code} ${d.name}${reason}: ${d.explanation}`;
        return this.#finish(
          UNREACHED.has(event.code) ? ExitCode.Unreachable : ExitCode.ClosedByPeer,
          `could not connect to ${this.#url}: ${why}`,
        );
      }
      if (event.code === CloseCode.NormalClosure) {
        return this.#finish(ExitCode.Ok, `closed by the server: 1000 NormalClosure${reason}`);
      }
      this.#finish(
        ExitCode.ClosedByPeer,
        `closed for good: ${event.code} ${d.name}${reason}${
          d.retry ? '' : ' (retrying cannot fix this)'
        }`,
      );
    });
  }

  #send(line: string): void {
    if (this.#phase !== 'running') return;
    try {
      this.#socket.send(line);
      this.#sent++;
    } catch (error) {
      this.#console.error(`not sent: ${(error as Error).message}`);
    }
  }

  /**
   * Lines not yet gone: in the outbox (counted in `bufferedAmount`), or, in session mode,
   * sent but not acknowledged (the server may not have them yet; they are resent on resume).
   */
  #unsent(): number {
    const unacked = this.#sessionLink ? this.#sent - this.#settled : 0;
    return Math.max(unacked, this.#socket.bufferedAmount > 0 ? 1 : 0);
  }

  /** stdin ended (a pipe, Ctrl-D) or `-x` was sent: send what is queued, linger, close. */
  #endOfInput(): void {
    if (this.#phase !== 'running') return;
    this.#setPhase('draining');
    this.#timers.set('drainDeadline', DRAIN_TIMEOUT, () => {
      const left = this.#unsent();
      this.#socket.close();
      this.#finish(
        ExitCode.Failure,
        `gave up after ${formatDuration(DRAIN_TIMEOUT)}: ${left} message(s) of input never sent`,
      );
    });
    this.#drain();
  }

  #drain(): void {
    if (this.#phase !== 'draining') return;
    const open = this.#socket.state === 'open';
    if (this.#unsent() > 0) {
      this.#timers.set('drainPoll', DRAIN_POLL, () => this.#drain());
      return;
    }
    this.#timers.clear('drainPoll');
    this.#timers.clear('drainDeadline');
    if (!open && this.#opens > 0) {
      // The link is down, but nothing waits for it: there is no reason to wait either.
      this.#closeAndExit(ExitCode.Ok, 'input ended and nothing is left to send');
      return;
    }
    // Not connected yet: the first link's `open` drains again, or its failure exits with 3.
    if (!open) return;
    const linger = this.#o.execute ? (this.#o.wait ?? EXECUTE_WAIT) : this.#o.linger;
    if (linger !== Number.POSITIVE_INFINITY && !this.#timers.has('linger'))
      this.#timers.set('linger', linger, () => this.#closeAndExit(ExitCode.Ok));
  }

  /** Closes with 1000 and exits with `code` once the socket says it is closed. */
  #closeAndExit(code: number, message?: string): void {
    if (this.#phase === 'closing' || this.#phase === 'done') return;
    this.#setPhase('closing');
    this.#exitCode = code;
    this.#stopCountdown();
    if (message) this.#console.info(this.#console.paint.dim(message));
    if (this.#socket.state === 'closed') {
      this.#finish(code);
      return;
    }
    this.#socket.close(CloseCode.NormalClosure, 'heartline connect done');
    this.#timers.set('closeGrace', CLOSE_GRACE, () =>
      this.#finish(code, 'the closing handshake took too long; exiting'),
    );
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (this.#phase === 'done') return;
    if (this.#phase === 'closing') {
      this.#finish(signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
      return;
    }
    this.#console.info(this.#console.paint.dim(`${signal}: closing (again to exit at once)`));
    this.#closeAndExit(ExitCode.Ok);
  }

  #stopCountdown(): void {
    this.#timers.clear('countdown');
    this.#console.clearStatus();
  }

  #finish(code: number, message?: string): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#stopCountdown();
    this.#timers.clearAll();
    this.#console.close();
    if (message) {
      if (code === ExitCode.Ok) this.#console.info(message);
      else this.#console.error(message);
    }
    this.#resolve(code);
  }
}
