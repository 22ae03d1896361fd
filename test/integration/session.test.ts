import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ResumeEvent } from '../../src/client/index.js';
import { encodeControl, type HelloFrame } from '../../src/protocol/frames.js';
import type { ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { startHeartline } from '../support/server-fixtures.js';
import { collect, delay, waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 5, maxDelay: 20 } } as const;

/** Resolves with the server-side client of the next session. */
function nextSession(server: {
  once(e: 'connection', f: (c: ServerClient) => void): unknown;
}): Promise<ServerClient> {
  return new Promise((resolve) => server.once('connection', resolve));
}

/**
 * A Heartline server, a fault proxy in front of it, and one session through the proxy whose
 * link is open: the setup most of these tests share.
 */
async function openSession(
  serverOptions: Parameters<typeof startHeartline>[0] = {},
  clientOptions: Parameters<typeof openClient>[1] = {},
) {
  const { server, port } = await startHeartline(serverOptions);
  const proxy = await startFaultProxy({ port });
  const session = nextSession(server);
  const ws = openClient(proxy.url, { ...fast, ...clientOptions });
  const client = await session;
  await waitForEvent(ws, 'open');
  return { server, port, proxy, ws, client };
}

/** Cuts the session's link; new links are refused until `proxy.accept()`. */
async function cut(proxy: FaultProxy, client: ServerClient): Promise<void> {
  await proxy.refuse();
  proxy.reset();
  await waitFor(() => client.state === 'detached', { message: 'the server to see the cut' });
}

describe('session mode, client against server', () => {
  it('opens a session: connection once, the app protocol reported, heartbeats as control frames', async () => {
    const { server, url } = await startHeartline({
      protocols: ['chat.v2'],
      heartbeat: { interval: 50, timeout: 500 },
    });
    const connections = collect<ServerClient>(server, 'connection');
    const ws = openClient(url, { heartbeat: { interval: 50, timeout: 500 } }, ['chat.v2']);
    await waitForEvent(ws, 'open');
    expect(ws.protocol).toBe('chat.v2');
    const client = connections.events[0]!;
    expect(client.mode).toBe('session');
    expect(client.protocol).toBe('chat.v2');
    const messages = collect(ws, 'message');
    await waitForEvent(ws, 'heartbeat'); // the client's ping answered by the server
    await waitFor(() => client.rtt !== undefined, { message: 'the server to measure an RTT' });
    expect(messages.events).toEqual([]);
    expect(connections.events).toHaveLength(1);
    // every message sent is acknowledged, in batches, exactly once
    const acks = collect<{ count: number }>(ws, 'ack');
    for (let i = 0; i < 25; i++) ws.send(`m${i}`);
    await waitFor(() => acks.events.reduce((n, e) => n + e.count, 0) === 25, {
      message: '25 acks',
    });
    // A barrier: the ack of one more message follows any stray ack of the first 25.
    ws.send('m25');
    await waitFor(() => acks.events.reduce((n, e) => n + e.count, 0) >= 26, {
      message: 'the 26th ack',
    });
    expect(acks.events.reduce((n, e) => n + e.count, 0)).toBe(26);
  });

  it('resumes after a network cut: both directions delivered once, in order, membership kept', async () => {
    const { server, port } = await startHeartline();
    const proxy = await startFaultProxy({ port });
    const received: string[] = [];
    const session = nextSession(server);
    const ws = openClient(proxy.url, fast);
    ws.addEventListener('message', (e) => received.push(String(e.data)));
    const client = await session;
    const fromClient: string[] = [];
    client.on('message', (d) => fromClient.push(String(d)));
    client.join('room');
    await waitForEvent(ws, 'open');
    const drops = collect(client, 'drop');
    const resumes = collect(client, 'resume');
    const connections = collect(server, 'connection');

    await proxy.refuse();
    proxy.reset();
    await waitForEvent(ws, 'drop');
    await waitFor(() => client.state === 'detached', { message: 'the server to see the drop' });
    for (let i = 0; i < 50; i++) {
      ws.send(`c${i}`); // queued: the link is down
      client.send(`s${i}`); // logged: the client is detached
      server.to('room').send(`r${i}`);
    }
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    await proxy.accept();
    expect(await resumed).toMatchObject({ resumed: true, sessionId: client.id });
    await waitFor(() => received.length === 100 && fromClient.length === 50, { timeout: 5000 });
    expect(fromClient).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => [`s${i}`, `r${i}`]).flat());
    expect(drops.events).toHaveLength(1);
    expect(resumes.events).toHaveLength(1);
    expect(connections.events).toHaveLength(0);
    expect([...client.rooms]).toEqual(['room']);
  });

  it('resumes after the server dropped a dead-looking link (heartbeat) and replays the gap', async () => {
    const { proxy, ws, client } = await openSession(
      { heartbeat: { interval: 50, timeout: 100 } },
      { heartbeat: { interval: 50, timeout: 100 } },
    );
    proxy.blackhole();
    await waitForEvent(client, 'drop', { timeout: 2000 });
    client.send('while you were away');
    const message = await waitForEvent<MessageEvent>(ws, 'message', { timeout: 3000 });
    expect(message.data).toBe('while you were away');
    expect(client.state).toBe('open');
  });

  it('ignores the heartbeat record of a link it replaced (regression: it ended the session)', async () => {
    // The client notices the blackhole long before the server does, and resumes while the
    // server still holds the old link; that link's liveness record must die with it.
    const { proxy, ws, client } = await openSession(
      { heartbeat: { interval: 100, timeout: 200 } },
      { heartbeat: { interval: 20, timeout: 30 } },
    );
    const resumedOnce = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 2000 });
    proxy.blackhole();
    expect(await resumedOnce).toMatchObject({ resumed: true });
    // Now leave the session detached while the old record would have come due.
    await proxy.refuse();
    proxy.reset();
    await waitFor(() => client.state === 'detached', { message: 'the session to be detached' });
    await delay(400);
    const again = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 3000 });
    await proxy.accept();
    expect(await again).toMatchObject({ resumed: true, sessionId: client.id });
  });

  it('refuses a wrong token without disturbing the real session', async () => {
    const { server, url } = await startHeartline();
    const session = nextSession(server);
    const ws = openClient(url, fast);
    const client = await session;
    await waitForEvent(ws, 'open');
    const intruder = new WebSocket(url, ['heartline.plain', 'heartline.v1']);
    onTestFinishedTerminate(intruder);
    await waitForEvent(intruder, 'open');
    const helloText = waitForEvent<Buffer>(intruder, 'message');
    intruder.send(
      encodeControl({
        t: 'connect',
        v: 1,
        sid: client.id,
        token: 'guessed-wrong',
        epoch: 'x',
        offset: 0,
      }),
    );
    const hello = JSON.parse(String(await helloText)) as HelloFrame;
    expect(hello.resumed).toBe(false);
    expect(hello.sid).not.toBe(client.id);
    const real = JSON.parse(
      String(
        await helloFor(url, {
          sid: client.id,
          token: 'guessed-wrong',
          epoch: hello.epoch,
          offset: 0,
        }),
      ),
    );
    expect(real).toMatchObject({ resumed: false, reason: 'token' });
    // the real session never noticed
    expect(client.state).toBe('open');
    client.send('still here');
    expect((await waitForEvent<MessageEvent>(ws, 'message')).data).toBe('still here');
  });

  it('starts a fresh session after the window passed: resumed false, reason expired', async () => {
    const { server, port } = await startHeartline({ resume: { window: 100 } });
    const proxy = await startFaultProxy({ port });
    const first = nextSession(server);
    const ws = openClient(proxy.url, fast);
    const client = await first;
    await waitForEvent(ws, 'open');
    const closed = waitForEvent<number>(client, 'close');
    await proxy.refuse();
    proxy.reset();
    expect(await closed).toBe(1006); // the session ended with its link's code
    const second = nextSession(server);
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 3000 });
    await proxy.accept();
    expect(await resumed).toMatchObject({ resumed: false, reason: 'expired' });
    expect((await second).id).not.toBe(client.id);
  });

  it('resumes a quiet client after the log dropped everyone else’s messages', async () => {
    const { server, port } = await startHeartline({ resume: { maxMessages: 3 } });
    const proxy = await startFaultProxy({ port });
    const quietSession = nextSession(server);
    const quiet = openClient(proxy.url, fast);
    const quietClient = await quietSession;
    await waitForEvent(quiet, 'open');
    const busySession = nextSession(server);
    const busy = openClient(port ? `ws://127.0.0.1:${port}` : '', fast);
    const busyClient = await busySession;
    await waitForEvent(busy, 'open');
    await proxy.refuse();
    proxy.reset();
    await waitFor(() => quietClient.state === 'detached');
    for (let i = 0; i < 20; i++) busyClient.send(`for busy ${i}`); // the log keeps only 3
    const resumed = waitForEvent<ResumeEvent>(quiet, 'resume', { timeout: 3000 });
    await proxy.accept();
    expect(await resumed).toMatchObject({ resumed: true });
  });

  it('refuses, with reason gap, a session whose missed messages were trimmed', async () => {
    const { proxy, ws, client } = await openSession({ resume: { maxMessages: 3 } });
    await cut(proxy, client);
    for (let i = 0; i < 10; i++) client.send(`m${i}`);
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 3000 });
    await proxy.accept();
    expect(await resumed).toMatchObject({ resumed: false, reason: 'gap' });
  });

  it('answers a restarted server (memory lost) with resumed: false, reason epoch, not a hang', async () => {
    let target = await startHeartline();
    const ws = openClient(() => target.url, fast);
    await waitForEvent(ws, 'open');
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume', { timeout: 5000 });
    const restarted = await startHeartline();
    void target.server.close({ deadline: 0, retryAfter: 0 });
    target = restarted;
    expect(await resumed).toMatchObject({ resumed: false, reason: 'epoch' });
  });

  it('ends the session when the client closes, firing close on the server once', async () => {
    const { server, url } = await startHeartline();
    const session = nextSession(server);
    const ws = openClient(url, fast);
    const client = await session;
    await waitForEvent(ws, 'open');
    const closes = collect<number>(client, 'close');
    ws.close();
    await waitFor(() => closes.events.length === 1);
    expect(client.state).toBe('closed');
    expect(server.clients.size).toBe(0);
  });

  it('keeps the session across reconnect(): the link is replaced, nothing is lost', async () => {
    const { server, url } = await startHeartline();
    const session = nextSession(server);
    const ws = openClient(url, fast);
    const client = await session;
    await waitForEvent(ws, 'open');
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    ws.reconnect();
    expect(await resumed).toMatchObject({ resumed: true, sessionId: client.id });
    expect(server.clients.size).toBe(1);
  });

  it('never stores or replays volatile messages', async () => {
    const { proxy, ws, client } = await openSession();
    await cut(proxy, client);
    expect(client.send('cursor', { volatile: true })).toBe(false);
    client.send('kept');
    await proxy.accept();
    const message = await waitForEvent<MessageEvent>(ws, 'message', { timeout: 3000 });
    expect(message.data).toBe('kept');
  });
});

function onTestFinishedTerminate(ws: WebSocket): void {
  ws.on('error', () => {});
  import('vitest').then(({ onTestFinished }) => onTestFinished(() => ws.terminate()));
}

/** Opens a raw heartline.v1 link, sends a resuming connect frame, and returns the hello text. */
async function helloFor(
  url: string,
  resume: { sid: string; token: string; epoch: string; offset: number },
): Promise<Buffer> {
  const ws = new WebSocket(url, ['heartline.plain', 'heartline.v1']);
  onTestFinishedTerminate(ws);
  await waitForEvent(ws, 'open');
  const hello = waitForEvent<Buffer>(ws, 'message');
  ws.send(encodeControl({ t: 'connect', v: 1, ...resume }));
  const text = await hello;
  await delay(0);
  return text;
}
