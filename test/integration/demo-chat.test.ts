/**
 * The chat demo's server without a browser: its chat protocol over real HeartlineSockets (in
 * Node, on `ws`), its static files, its origin policy, and `heartline demo` as a process.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { CHAT_LIMITS, parseChatInput } from '../../src/cli/demo-chat.js';
import { type DemoServer, startDemoServer } from '../../src/cli/demo-server.js';
import type { ResumeEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { connectWs, refusal } from '../support/server-fixtures.js';
import { collect, delay, waitFor, waitForEvent } from '../support/wait.js';
import { startCli } from './cli-fixtures.js';

interface Said {
  type: 'said';
  id: string;
  from: string;
  text: string;
  at: number;
  seq: number;
  run: string;
}
type ServerMessage =
  | Said
  | { type: 'history'; messages: Said[] }
  | { type: 'received'; id: string }
  | { type: 'members'; names: string[]; away: string[] }
  | { type: 'error'; reason: string };

async function startDemo(): Promise<DemoServer> {
  const demo = await startDemoServer({ port: 0, host: '127.0.0.1', retrySpread: 0 });
  onTestFinished(() => demo.close());
  return demo;
}

/** A chat client: a HeartlineSocket that records every JSON message it receives. */
function chatClient(url: string) {
  const ws = openClient(url, {
    reconnect: { minDelay: 20, maxDelay: 50 },
    heartbeat: { interval: 60_000, timeout: 1_000 },
  });
  const inbox: ServerMessage[] = [];
  ws.addEventListener('message', (e) => inbox.push(JSON.parse(String(e.data)) as ServerMessage));
  const of = <T extends ServerMessage['type']>(type: T) =>
    inbox.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  return {
    ws,
    inbox,
    of,
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    join(name: string) {
      ws.send(JSON.stringify({ type: 'join', name }));
    },
    say(id: string, text: string) {
      ws.send(JSON.stringify({ type: 'say', id, text }));
    },
    /** Waits until `count` messages of `type` have arrived; returns them all. */
    async waitFor<T extends ServerMessage['type']>(type: T, count = 1) {
      try {
        await waitFor(() => of(type).length >= count, { message: `${count} '${type}' message(s)` });
      } catch (error) {
        throw new Error(`${(error as Error).message}; received ${JSON.stringify(inbox)}`);
      }
      return of(type);
    },
  };
}

describe('heartline demo: the chat protocol', () => {
  it('sends a new session the last 50 messages, in order, before anything else', async () => {
    const demo = await startDemo();
    const ada = chatClient(demo.wsUrl);
    ada.join('Ada');
    for (let i = 1; i <= 55; i++) ada.say(`m${i}`, `message ${i}`);
    await ada.waitFor('said', 55);
    const saids = ada.of('said');
    expect(saids.map((m) => m.seq)).toEqual(Array.from({ length: 55 }, (_, i) => i + 1));
    expect(new Set(saids.map((m) => m.run))).toEqual(new Set([demo.chat.run]));

    const grace = chatClient(demo.wsUrl);
    const [history] = await grace.waitFor('history');
    expect(grace.inbox[0]).toBe(history);
    expect(history!.messages.map((m) => m.id)).toEqual(
      Array.from({ length: 50 }, (_, i) => `m${i + 6}`),
    );
    expect(history!.messages[0]).toMatchObject({ from: 'Ada', text: 'message 6', seq: 6 });
    // The room reaches the new session before it joins: nothing said meanwhile is missed.
    ada.say('m56', 'said before Grace joined');
    await grace.waitFor('said');
    expect(grace.of('said')[0]!.id).toBe('m56');
  });

  it('tells the whole room, sender included, who is there and who is away; a dropped link that resumes never leaves', async () => {
    const demo = await startDemo();
    const proxy = await startFaultProxy({ port: demo.port });
    const ada = chatClient(`${proxy.url}/ws`);
    const grace = chatClient(demo.wsUrl);
    ada.join('Ada');
    await ada.waitFor('members');
    grace.join('Grace');
    const both = (c: typeof ada) => c.of('members').at(-1)?.names.join() === 'Ada,Grace';
    await waitFor(() => both(ada) && both(grace), { message: 'both to see Ada and Grace' });
    expect(grace.of('members').at(-1)!.away).toEqual([]);
    const membersBefore = grace.of('members').length;

    // Ada's link is cut (RST): Grace sees her away; she comes back on a new link, resumes her
    // session, and is back, never having left.
    const resumed = waitForEvent<ResumeEvent>(ada.ws, 'resume');
    proxy.reset();
    expect((await resumed).resumed).toBe(true);
    ada.say('a1', 'back');
    await grace.waitFor('said');
    expect(grace.of('said')[0]).toMatchObject({ from: 'Ada', text: 'back' });
    const updates = (await grace.waitFor('members', membersBefore + 2)).slice(membersBefore);
    expect(updates.map((m) => m.away)).toEqual([['Ada'], []]);
    for (const m of updates) expect(m.names).toEqual(['Ada', 'Grace']);
    expect(ada.of('members').at(-1)!.names).toEqual(['Ada', 'Grace']);
    expect(demo.chat.names()).toEqual(['Ada', 'Grace']);
    expect(demo.chat.away()).toEqual([]);

    // Closing the socket ends the session: now she leaves.
    ada.ws.close(1000);
    const after = await grace.waitFor('members', membersBefore + 3);
    expect(after.at(-1)).toEqual({ type: 'members', names: ['Grace'], away: [] });
  });

  it("tells the sender that the room has its message before the room's copy comes", async () => {
    const demo = await startDemo();
    const ada = chatClient(demo.wsUrl);
    ada.join('Ada');
    ada.say('m1', 'hello');
    await ada.waitFor('said');
    const order = ada.inbox
      .filter((m) => m.type === 'received' || m.type === 'said')
      .map((m) => `${m.type}:${(m as { id: string }).id}`);
    expect(order).toEqual(['received:m1', 'said:m1']);
  });

  it('ignores bad input with an error to the sender, and keeps serving', async () => {
    const demo = await startDemo();
    const invalid = collect<unknown>(demo.chat, 'invalid');
    const mallory = chatClient(demo.wsUrl);
    const bad: unknown[] = [
      { type: 'join', name: 'x'.repeat(CHAT_LIMITS.name + 1) },
      { type: 'join', name: '   ' },
      { type: 'join', name: 'bell\u0007' },
      { type: 'join', name: 42 },
      { type: 'say', id: 'ok', text: 'y'.repeat(CHAT_LIMITS.text + 1) },
      { type: 'say', id: 'ok', text: '  ' },
      { type: 'say', id: 'has space', text: 'hi' },
      { type: 'say', id: 'z'.repeat(CHAT_LIMITS.id + 1), text: 'hi' },
      { type: 'shout', text: 'hi' },
      [1, 2],
      null,
    ];
    for (const message of bad) mallory.send(message);
    mallory.ws.send('{not json');
    mallory.ws.send(new Uint8Array([1, 2, 3]));
    const errors = await mallory.waitFor('error', bad.length + 2);
    expect(errors.map((e) => e.reason)).toContain('Expected JSON');
    expect(errors.map((e) => e.reason)).toContain(
      `Expected \`name\` to have at most ${CHAT_LIMITS.name} characters`,
    );
    expect(invalid.events).toHaveLength(bad.length + 2);
    expect(mallory.ws.state).toBe('open');
    expect(demo.chat.names()).toEqual([]);

    // The same client, then valid: a 24-character name and a 500-character text pass.
    const name = 'n'.repeat(CHAT_LIMITS.name);
    mallory.join(`  ${name}  `);
    mallory.say('fine', 't'.repeat(CHAT_LIMITS.text));
    const [said] = await mallory.waitFor('said');
    expect(said).toMatchObject({ from: name, id: 'fine' });
    // A repeated id is refused: every page dedupes by id, so it would show nowhere.
    mallory.say('fine', 'again');
    await mallory.waitFor('error', bad.length + 3);
    expect(demo.chat.history()).toHaveLength(1);
  });

  it("holds a fresh session's messages until it joins (what a page resends after a restart)", async () => {
    const demo = await startDemo();
    const ada = chatClient(demo.wsUrl);
    ada.say('early1', 'sent before join');
    ada.say('early2', 'also before join');
    await waitFor(() => demo.heartline.clients.size === 1);
    await delay(50);
    expect(ada.of('said')).toEqual([]);
    ada.join('Ada');
    const saids = await ada.waitFor('said', 2);
    expect(saids.map((m) => [m.id, m.from])).toEqual([
      ['early1', 'Ada'],
      ['early2', 'Ada'],
    ]);
  });

  it('parses every input through one validator', () => {
    expect(parseChatInput('{"type":"join","name":"  Ada   Lovelace "}')).toEqual({
      type: 'join',
      name: 'Ada Lovelace',
    });
    expect(parseChatInput('{"type":"say","id":"a-1_B","text":" hi "}')).toEqual({
      type: 'say',
      id: 'a-1_B',
      text: ' hi ',
    });
    // Lengths are in characters, not UTF-16 units: 24 emoji make a valid name.
    expect(parseChatInput(JSON.stringify({ type: 'join', name: '😀'.repeat(24) }))).toMatchObject({
      type: 'join',
    });
    expect(() => parseChatInput('{"type":"join","name":"a\\u202eb"}')).toThrow(
      'Expected `name` to have no control characters',
    );
  });
});

describe('heartline demo: the HTTP side', () => {
  it('serves the page, its script, its style and the client bundle, and nothing else', async () => {
    const demo = await startDemo();
    const get = (path: string, init?: RequestInit) => fetch(new URL(path, demo.url), init);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    for (const path of ['/app.js', '/style.css', '/heartline.min.js']) {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, 200]);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await get('/heartline.min.js')).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await get('/package.json')).status).toBe(404);
    expect((await get('/demo/app.js')).status).toBe(404);
    expect((await get('/%2e%2e/package.json')).status).toBe(404);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/', { method: 'HEAD' })).status).toBe(200);
  });

  it("accepts WebSockets from the page's own origins and from clients with none; refuses others", async () => {
    const demo = await startDemo();
    expect(demo.origins).toEqual([
      `http://127.0.0.1:${demo.port}`,
      `http://localhost:${demo.port}`,
    ]);
    for (const origin of [...demo.origins, undefined]) {
      const ws = connectWs(demo.wsUrl, [], origin ? { origin } : {});
      await waitForEvent(ws, 'open');
      ws.close();
    }
    const evil = await refusal(connectWs(demo.wsUrl, [], { origin: 'http://evil.example' }));
    expect(evil.status).toBe(403);
    const elsewhere = await refusal(connectWs(`ws://127.0.0.1:${demo.port}/other`));
    expect(elsewhere.status).toBe(404);
  });

  it('runs as `heartline demo`: the URL on stdout, a clean exit on SIGTERM', async () => {
    const cli = startCli(['demo', '--port', '0']);
    const [url] = await cli.waitForStdout(/^http:\/\/127\.0\.0\.1:\d+\/$/m, 10_000);
    expect((await fetch(url!)).status).toBe(200);
    await cli.waitForStderr(/chat demo on http:\/\/127\.0\.0\.1:\d+\/ \(WebSocket ws:\/\//);
    // A page that connects and joins is logged.
    const ws = openClient(`${url!.replace('http', 'ws')}ws`, {});
    ws.send(JSON.stringify({ type: 'join', name: 'Ada' }));
    await cli.waitForStderr(/Ada joined \(1 in the room\)/);
    cli.kill('SIGTERM');
    expect(await cli.exit()).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toBe(`${url}\n`);
    expect(cli.stderr()).toMatch(/SIGTERM: shutting down; closing 1 session with 1012/);
  });

  it('exits with 1 and says why when the port is taken', async () => {
    const first = startCli(['demo', '--port', '0']);
    const [url] = await first.waitForStdout(/^http:\/\/\S+\/$/m, 10_000);
    const port = new URL(url!).port;
    const second = startCli(['demo', '--port', port]);
    expect(await second.exit()).toEqual({ code: 1, signal: null });
    expect(second.stderr()).toContain(`could not listen: 127.0.0.1:${port} is already in use`);
    expect(second.stdout()).toBe('');
  });
});
