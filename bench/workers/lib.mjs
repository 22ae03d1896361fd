// Helpers shared by the bench workers: plain JavaScript run by plain `node`, importing the
// compiled package (bench/.build/, the same tsc output as dist/, built by bench/run.ts at start so
// that a concurrent `npm run build` cannot swap it mid-run) and the peers as users would, so that
// what is measured is what users run, not a TypeScript loader's output.
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocket } from 'ws';

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

/** Closes every client (one that throws does not stop the rest) and exits soon after. */
export function closeAllAndExit(clients) {
  for (const c of clients) {
    try {
      c.close();
    } catch {}
  }
  setTimeout(() => process.exit(0), 200);
}

/**
 * HeartlineSocket options for a mode: 'plain' (`session: false`) or 'session' (`session: 'auto'`,
 * the default). The one place a bench row switches Heartline between its modes.
 */
export function heartlineClientOptions(mode, extra = {}) {
  return {
    WebSocket,
    closeOnUnload: false,
    session: mode === 'session' ? 'auto' : false,
    ...extra,
  };
}

/** HeartlineServer options for a mode: `resume: false` serves plain mode only. */
export function heartlineServerOptions(mode, extra = {}) {
  return {
    host: '127.0.0.1',
    allowMissingOrigin: true,
    resume: mode === 'session' ? {} : false,
    ...extra,
  };
}

/**
 * `send` for a raw `ws` socket whose writes of one event-loop turn leave together: the first
 * send of a turn corks the TCP socket under it and `process.nextTick` uncorks it, so the frames
 * of a turn go out in one write. The wire format is raw `ws`'s; only the syscalls change. This is
 * the ceiling the coalescing of issue 13 aims at (ws's own `sendFrame` corks and uncorks around
 * each frame; cork is counted, so the outer cork holds until the tick).
 */
export function corkedSend(ws) {
  let corked = false;
  const uncork = () => {
    corked = false;
    ws._socket?.uncork();
  };
  return (data, options) => {
    if (!corked && ws._socket) {
      corked = true;
      ws._socket.cork();
      process.nextTick(uncork);
    }
    ws.send(data, options);
  };
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

/**
 * CPU profiling on the parent's word, so that a profile covers the measured window only
 * (bench/profile.ts): ← { type: 'profile-start' }, then ← { type: 'profile-stop', file } writes
 * a .cpuprofile (Chrome DevTools' format) and → { type: 'profile-stopped', file }.
 */
export function profileOnRequest() {
  let session;
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  process.on('message', async (message) => {
    if (message.type === 'profile-start') {
      session = new inspector.Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
      tell({ type: 'profile-started' });
    } else if (message.type === 'profile-stop') {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      writeFileSync(message.file, JSON.stringify(profile));
      tell({ type: 'profile-stopped', file: message.file });
    }
  });
}
