/**
 * The two memory attacks of issue 11, measured the same way on any checkout, by hand:
 *
 *   npx tsx test/support/memory-attack.ts replay [root]
 *   npx tsx test/support/memory-attack.ts ping [root]
 *
 * `root` is the checkout whose `src/server/index.ts` is served (default: this one), so that the
 * same attack runs against an old commit checked out elsewhere (`git worktree add`). The server
 * runs in a child process, so that its RSS is its own; the attacker runs here, on loopback, with
 * raw TCP sockets that perform the opening handshake by hand and then never read.
 *
 * - `replay`: ten sessions start, drop, miss 8 MB of broadcasts (8,000 × 1 KiB) and resume from
 *   their old offsets without reading, against `highWaterMark: 256 KiB`.
 * - `ping`: one session floods `{"t":"ping"}` control frames for 2 s and never reads, against
 *   the default options.
 *
 * Prints one JSON line: RSS before and at its peak (MB), the peak of the bytes queued in the
 * server's send buffers (`client.bufferedAmount`, summed), and what the server did about it.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onFrames, upgradeRaw } from './raw-ws.js';

type Scenario = 'replay' | 'ping';

interface Sample {
  readonly rss: number;
  readonly queued: number;
  readonly clients: number;
  readonly open: number;
  readonly detached: number;
  /** Close codes of the violations the server reported (`ClientViolationError.closeCode`). */
  readonly violations: readonly number[];
}

type Request =
  | { readonly cmd: 'sample' }
  | { readonly cmd: 'broadcast'; readonly count: number; readonly size: number };

const here = dirname(fileURLToPath(import.meta.url));
const MB = 1024 * 1024;

// ── the server (child process) ─────────────────────────────────────────────────────────────

async function serve(root: string, scenario: Scenario): Promise<void> {
  const { HeartlineServer } = await import(pathToFileURL(join(root, 'src/server/index.ts')).href);
  const options = scenario === 'replay' ? { highWaterMark: 256 * 1024 } : {};
  const server = new HeartlineServer({ port: 0, host: '127.0.0.1', ...options });
  const violations: number[] = [];
  server.on('error', (error: { closeCode?: number }) => {
    if (typeof error.closeCode === 'number') violations.push(error.closeCode);
  });
  await once(server, 'listening');
  process.on('message', (request: Request) => {
    if (request.cmd === 'broadcast') {
      const payload = 'x'.repeat(request.size);
      for (let i = 0; i < request.count; i++) server.broadcast(payload);
      process.send!({ done: true });
      return;
    }
    let queued = 0;
    let open = 0;
    let detached = 0;
    for (const client of server.clients.values()) {
      queued += client.bufferedAmount;
      if (client.state === 'open') open++;
      if (client.state === 'detached') detached++;
    }
    const sample: Sample = {
      rss: process.memoryUsage().rss,
      queued,
      clients: server.clients.size,
      open,
      detached,
      violations,
    };
    process.send!(sample);
  });
  process.send!({ port: server.address().port });
}

// ── the attacker (this process) ────────────────────────────────────────────────────────────

/** A masked text frame; a zero mask is a valid mask (RFC 6455 §5.3) and costs nothing. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const header =
    n < 126 ? Buffer.from([0x81, 0x80 | n]) : Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/** A `heartline.v1` link: TCP, the opening handshake by hand, then the socket paused. */
function rawSession(port: number): Promise<net.Socket> {
  return upgradeRaw(port, {
    origin: `http://127.0.0.1:${port}`,
    protocols: ['heartline.plain', 'heartline.v1'],
  });
}

/** Reads frames until the hello; returns it parsed. */
function readHello(socket: net.Socket): Promise<Record<string, unknown>> {
  return new Promise((done) => {
    onFrames(socket, (f) => {
      const text = f.payload.toString();
      if (f.opcode !== 1 || !text.includes('"hello"')) return true;
      done(JSON.parse(text));
      return false; // and reads no further: the attacker stops reading here
    });
  });
}

class Child {
  readonly #child = fork(fileURLToPath(import.meta.url), ['--serve', ...process.argv.slice(2)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  #next: ((m: unknown) => void)[] = [];

  constructor() {
    this.#child.on('message', (m) => this.#next.shift()?.(m));
  }

  reply<T>(request?: Request): Promise<T> {
    return new Promise((done) => {
      this.#next.push(done as (m: unknown) => void);
      if (request) this.#child.send(request);
    });
  }

  sample(): Promise<Sample> {
    return this.reply<Sample>({ cmd: 'sample' });
  }

  kill(): void {
    this.#child.kill();
  }
}

/** Samples the server every 100 ms for `ms`; the peaks, and the last sample. */
async function watch(
  child: Child,
  ms: number,
): Promise<{ rss: number; queued: number; last: Sample }> {
  let rss = 0;
  let queued = 0;
  let last = await child.sample();
  for (const end = Date.now() + ms; Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 100));
    last = await child.sample();
    rss = Math.max(rss, last.rss);
    queued = Math.max(queued, last.queued);
  }
  return { rss, queued, last };
}

async function replayAttack(child: Child, port: number) {
  const sessions = 10;
  const before = await child.sample();
  const hellos: Record<string, unknown>[] = [];
  for (let i = 0; i < sessions; i++) {
    const socket = await rawSession(port);
    socket.write(textFrame(JSON.stringify({ t: 'connect', v: 1 })));
    hellos.push(await readHello(socket));
    socket.destroy(); // the link drops; the session waits for a resume
  }
  for (let i = 0; i < 50 && (await child.sample()).detached < sessions; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await child.reply({ cmd: 'broadcast', count: 8_000, size: 1_024 });
  const logged = await child.sample();
  const links: net.Socket[] = [];
  for (const h of hellos) {
    const socket = await rawSession(port);
    const { sid, token, epoch, offset } = h;
    socket.write(textFrame(JSON.stringify({ t: 'connect', v: 1, sid, token, epoch, offset })));
    links.push(socket); // never read
  }
  const peak = await watch(child, 2_000);
  for (const s of links) s.destroy();
  return {
    scenario: 'replay: 10 sessions resume from old offsets (8 MB missed each), never read',
    highWaterMark: 256 * 1024,
    rssBeforeMB: +(before.rss / MB).toFixed(1),
    rssWithLogMB: +(logged.rss / MB).toFixed(1),
    rssPeakMB: +(peak.rss / MB).toFixed(1),
    queuedPeakMB: +(peak.queued / MB).toFixed(2),
    queuedPerSessionPeakKB: Math.round(peak.queued / sessions / 1024),
    openAfter2s: peak.last.open,
    violations: peak.last.violations,
  };
}

async function pingAttack(child: Child, port: number) {
  const before = await child.sample();
  const socket = await rawSession(port);
  socket.write(textFrame(JSON.stringify({ t: 'connect', v: 1 })));
  await readHello(socket); // the session is live; from now on nothing is read
  const ping = textFrame(JSON.stringify({ t: 'ping', ts: 1 }));
  const batch = Buffer.concat(Array.from({ length: 1_000 }, () => ping));
  let sent = 0;
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  const flood = (async () => {
    for (const end = Date.now() + 2_000; Date.now() < end && !closed; ) {
      sent += 1_000;
      if (socket.write(batch)) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, 5)); // the server reads: wait for it
    }
  })();
  const peak = await watch(child, 2_000);
  await flood;
  socket.destroy();
  return {
    scenario: 'ping: one session floods ping control frames for 2 s, never reads (defaults)',
    pingsSent: sent,
    rssBeforeMB: +(before.rss / MB).toFixed(1),
    rssPeakMB: +(peak.rss / MB).toFixed(1),
    queuedPeakMB: +(peak.queued / MB).toFixed(2),
    openAfter2s: peak.last.open,
    linkClosedByServer: closed,
    violations: peak.last.violations,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') {
    const scenario = process.argv[3] as Scenario;
    await serve(resolve(process.argv[4] ?? join(here, '../..')), scenario);
    return;
  }
  const scenario = process.argv[2] as Scenario;
  if (scenario !== 'replay' && scenario !== 'ping') {
    console.error('usage: npx tsx test/support/memory-attack.ts replay|ping [root]');
    process.exitCode = 2;
    return;
  }
  const child = new Child();
  const { port } = await child.reply<{ port: number }>();
  try {
    const result =
      scenario === 'replay' ? await replayAttack(child, port) : await pingAttack(child, port);
    console.log(JSON.stringify(result));
  } finally {
    child.kill();
  }
}

await main();
