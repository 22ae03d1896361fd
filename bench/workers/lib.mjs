// Helpers shared by the bench workers: plain JavaScript run by plain `node`, importing the
// compiled package (bench/.build/, the same tsc output as dist/, built by bench/run.ts at start so
// that a concurrent `npm run build` cannot swap it mid-run) and the peers as users would, so that
// what is measured is what users run, not a TypeScript loader's output.
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocket } from 'ws';
import { HeartlineSocket } from '../.build/client/index.js';
import { HeartlineServer } from '../.build/server/index.js';

/** A monotonic clock shared by every process of the machine (CLOCK_MONOTONIC), in ms. */
export function clock() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A full GC, even without --expose-gc on the command line. */
export function gcFunction() {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one IPC message to the parent and tolerates a parent that is gone. */
export function tell(message) {
  if (process.connected) process.send(message);
}

/** Never outlive the orchestrator. */
export function exitWithParent() {
  process.on('disconnect', () => process.exit(0));
}

let clientTakesSession;
/**
 * Whether this build's client accepts the `session` option (issue 4). Until it does, plain mode
 * is what the client gets from any server that does not select `heartline.v1`.
 */
export function clientAcceptsSession() {
  if (clientTakesSession === undefined) {
    try {
      const probe = new HeartlineSocket('ws://127.0.0.1:9', [], {
        WebSocket,
        session: false,
        reconnect: false,
        closeOnUnload: false,
      });
      probe.close();
      clientTakesSession = true;
    } catch {
      clientTakesSession = false;
    }
  }
  return clientTakesSession;
}

let serverTakesResume;
/** Whether this build's server accepts the `resume` option, i.e. serves session mode. */
export function serverAcceptsResume() {
  if (serverTakesResume === undefined) {
    try {
      const probe = new HeartlineServer({ noServer: true, resume: {} });
      probe.close();
      serverTakesResume = true;
    } catch {
      serverTakesResume = false;
    }
  }
  return serverTakesResume;
}

/**
 * HeartlineSocket options for a mode. `mode` is 'plain' (forced with `session: false` where
 * the build knows the option) or 'session' (`session: 'auto'`, the default). The one place a
 * bench row switches Heartline between its modes.
 */
export function heartlineClientOptions(mode, extra = {}) {
  // `session: 'auto'` is the default: only say it where the build knows the option.
  const modeOptions = clientAcceptsSession()
    ? { session: mode === 'session' ? 'auto' : false }
    : {};
  return { WebSocket, closeOnUnload: false, ...modeOptions, ...extra };
}

/** HeartlineServer options for a mode: `resume: false` serves plain mode only. */
export function heartlineServerOptions(mode, extra = {}) {
  const modeOptions =
    mode === 'session' ? { resume: {} } : serverAcceptsResume() ? { resume: false } : {};
  return { host: '127.0.0.1', allowMissingOrigin: true, ...modeOptions, ...extra };
}

/**
 * A logger for HeartlineSocket that records whether a link ran in session mode (the client logs
 * 'session started' / 'session resumed' when the server's hello arrives).
 */
export function sessionWitness() {
  const witness = {
    sessions: 0,
    logger: (_level, message) => {
      if (message === 'session started' || message === 'session resumed') witness.sessions++;
    },
  };
  return witness;
}

/** A 32-byte ASCII text message, as the research used. */
export const MESSAGE_32 = 'heartline-bench-0123456789abcdef';
