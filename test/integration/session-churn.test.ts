import { expect, it } from 'vitest';
import type { HeartlineSocket } from '../../src/client/index.js';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { seededRandom } from '../support/random.js';
import { startHeartline } from '../support/server-fixtures.js';
import { delay, waitFor } from '../support/wait.js';

const N = 10_000;
/** Every RELAY-th message a client sends is relayed by the server to the other client's room. */
const RELAY = 4;

/** The messages of `list` that start with `prefix`, without it. */
const only = (list: string[], prefix: string) =>
  list.filter((m) => m.startsWith(prefix)).map((m) => m.slice(prefix.length));
/**
 * Until `done()`, every 50–300 ms (at random) resets one of the links or blackholes it, with
 * probability ½ each; resolves with the number of faults.
 */
async function injectFaults(
  proxies: Record<string, FaultProxy>,
  random: () => number,
  done: () => boolean,
): Promise<number> {
  let faults = 0;
  while (!done()) {
    await delay(50 + random() * 250);
    const proxy = proxies[random() < 0.5 ? 'a' : 'b']!;
    if (random() < 0.5) proxy.reset();
    else proxy.blackhole();
    faults++;
  }
  return faults;
}

const range = (n: number, step = 1) =>
  Array.from({ length: Math.ceil(n / step) }, (_, i) => String(i * step));

it('loses and duplicates nothing, both ways, while the links are reset and blackholed every 50–300 ms', async () => {
  const { server, port } = await startHeartline({
    heartbeat: { interval: 100, timeout: 150 },
    resume: { maxMessages: 200_000, maxBytes: 64 << 20 },
  });
  const proxies: Record<string, FaultProxy> = {};
  const clients: Record<string, HeartlineSocket> = {};
  const sessions: Record<string, ServerClient> = {};
  const atServer: Record<string, string[]> = { a: [], b: [] };
  const atClient: Record<string, string[]> = { a: [], b: [] };
  const overflows: unknown[] = [];
  let resumes = 0;
  const freshSessions: string[] = [];

  server.on('connection', (client, request) => {
    const name = new URL(request.url!, 'http://x').searchParams.get('name')!;
    sessions[name] = client;
    client.join('room');
    client.on('message', (data) => {
      const text = String(data);
      atServer[name]!.push(text);
      const i = Number(text.slice(2));
      if (i % RELAY === 0) server.to('room').send(`r${name}:${i}`, { except: client });
    });
  });
  for (const name of ['a', 'b']) {
    proxies[name] = await startFaultProxy({ port });
    const ws = openClient(`${proxies[name]!.url}/?name=${name}`, {
      heartbeat: { interval: 100, timeout: 150 },
      reconnect: { minDelay: 5, maxDelay: 50 },
      outbox: { maxMessages: 50_000, maxBytes: 64 << 20 },
    });
    ws.addEventListener('message', (e) => atClient[name]!.push(String(e.data)));
    ws.addEventListener('overflow', (e) => overflows.push(e.dropped));
    ws.addEventListener('resume', (e) => {
      if (e.resumed) resumes++;
      else freshSessions.push(`${name}: ${e.reason}`);
    });
    clients[name] = ws;
  }
  await waitFor(() => sessions.a && sessions.b, { message: 'both sessions' });

  // Traffic: each side sends N messages in batches, spread over about ten seconds.
  let sent = 0;
  const traffic = (async () => {
    while (sent < N) {
      for (let k = 0; k < 25 && sent < N; k++, sent++) {
        for (const name of ['a', 'b']) {
          clients[name]!.send(`c:${sent}`);
          sessions[name]!.send(`s:${sent}`);
        }
      }
      await delay(25);
    }
  })();
  // Faults on one link or the other, until the traffic is all sent.
  const faults = await injectFaults(proxies, seededRandom(7), () => sent >= N);
  await traffic;

  const expectedRelays = range(N, RELAY);
  await waitFor(
    () =>
      ['a', 'b'].every(
        (n) => atServer[n]!.length === N && atClient[n]!.length === N + expectedRelays.length,
      ),
    { timeout: 30_000, interval: 50, message: 'every message on both sides' },
  );
  for (const [me, other] of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    expect(only(atServer[me]!, 'c:'), `server ← ${me}`).toEqual(range(N));
    expect(only(atClient[me]!, 's:'), `${me} ← server`).toEqual(range(N));
    expect(only(atClient[me]!, `r${other}:`), `${me} ← ${other} via the room`).toEqual(
      expectedRelays,
    );
  }
  expect(overflows).toEqual([]);
  expect(freshSessions).toEqual([]);
  expect(faults).toBeGreaterThan(20);
  expect(resumes).toBeGreaterThan(10);
  console.log(
    `churn: ${faults} faults, ${resumes} resumes, ${2 * N} messages each way, 0 lost, 0 duplicated`,
  );
}, 60_000);

it('answers every request exactly once, both ways, running each handler once, under resets and blackholes', async () => {
  const R = 400;
  const { server, port } = await startHeartline({ heartbeat: { interval: 100, timeout: 150 } });
  const random = seededRandom(11);
  const runsAtServer = new Map<string, number>();
  const runsAtClient = new Map<string, number>();
  const sessions: Record<string, ServerClient> = {};
  const fresh: string[] = [];
  server.on('connection', (client, request) => {
    const name = new URL(request.url!, 'http://x').searchParams.get('name')!;
    sessions[name] = client;
    client.on('request', async (data) => {
      const key = String(data);
      runsAtServer.set(key, (runsAtServer.get(key) ?? 0) + 1);
      await delay(random() * 40); // in flight across faults; the wait is the scenario
      return `answer to ${key}`;
    });
  });
  const proxies: Record<string, FaultProxy> = {};
  const clients: Record<string, HeartlineSocket> = {};
  for (const name of ['a', 'b']) {
    proxies[name] = await startFaultProxy({ port });
    const ws = openClient(`${proxies[name]!.url}/?name=${name}`, {
      heartbeat: { interval: 100, timeout: 150 },
      reconnect: { minDelay: 5, maxDelay: 50 },
    });
    ws.addEventListener('request', (e) => {
      const key = `${name}:${e.data}`;
      runsAtClient.set(key, (runsAtClient.get(key) ?? 0) + 1);
      e.respondWith(delay(random() * 40).then(() => `answer to ${key}`));
    });
    ws.addEventListener('resume', (e) => {
      if (!e.resumed) fresh.push(`${name}: ${e.reason}`);
    });
    clients[name] = ws;
  }
  await waitFor(() => sessions.a && sessions.b, { message: 'both sessions' });

  const toServer: Promise<string>[] = [];
  const toClient: Promise<string>[] = [];
  let sent = 0;
  const traffic = (async () => {
    while (sent < R) {
      for (let k = 0; k < 4 && sent < R; k++, sent++) {
        for (const name of ['a', 'b']) {
          toServer.push(clients[name]!.request(`${name}:q${sent}`));
          toClient.push(sessions[name]!.request(`s${sent}`).then(String));
        }
      }
      await delay(50);
    }
  })();
  const faults = await injectFaults(proxies, random, () => sent >= R);
  await traffic;
  const [answersAtClient, answersAtServer] = await Promise.all([
    Promise.all(toServer),
    Promise.all(toClient),
  ]);
  const expectedAtClient = ['a', 'b'].flatMap((n) => range(R).map((i) => `${n}:q${i}`));
  expect([...answersAtClient].sort()).toEqual(expectedAtClient.map((k) => `answer to ${k}`).sort());
  expect([...answersAtServer].sort()).toEqual(
    ['a', 'b'].flatMap((n) => range(R).map((i) => `answer to ${n}:s${i}`)).sort(),
  );
  expect([...runsAtServer.values()].every((n) => n === 1)).toBe(true);
  expect(runsAtServer.size).toBe(2 * R);
  expect([...runsAtClient.values()].every((n) => n === 1)).toBe(true);
  expect(runsAtClient.size).toBe(2 * R);
  expect(fresh).toEqual([]);
  expect(faults).toBeGreaterThan(15);
  expect(clients.a!.requests.late + clients.b!.requests.late).toBe(0);
  expect(server.stats().requests).toEqual({ pending: 0, late: 0 });
  console.log(`request churn: ${faults} faults, ${4 * R} requests, each answered once`);
}, 60_000);
