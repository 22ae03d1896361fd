import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  RequestFailedError,
  RequestLostError,
  RequestTimeoutError,
  RequestUnsupportedError,
} from '../../src/client/index.js';
import { CallbackError, type ServerClient } from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { rawSession, sendText, startHeartline } from '../support/server-fixtures.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 5, maxDelay: 20 } } as const;

/** A Heartline server, one session client, and the server's object for it. */
async function pair(
  serverOptions: Parameters<typeof startHeartline>[0] = {},
  clientOptions: Parameters<typeof openClient>[1] = {},
) {
  const { server, port, url } = await startHeartline(serverOptions);
  const proxy = await startFaultProxy({ port });
  const connected = waitForEvent<ServerClient>(server, 'connection');
  const ws = openClient(proxy.url, { ...fast, ...clientOptions });
  const client = await connected;
  await waitForEvent(ws, 'open');
  return { server, port, url, proxy, ws, client };
}

describe('requests, client → server', () => {
  it('answers through respond(), a returned value or a promise, text and binary', async () => {
    const { ws, client } = await pair();
    client.on('request', (data, respond) => {
      const text = String(data);
      if (text === 'respond') respond('by respond');
      else if (text === 'return') return 'by return';
      else if (text === 'promise') return Promise.resolve('by promise');
      else if (Buffer.isBuffer(data)) respond(Buffer.from([...data].reverse()));
      return undefined;
    });
    expect(await ws.request('respond')).toBe('by respond');
    expect(await ws.request('return')).toBe('by return');
    expect(await ws.request('promise')).toBe('by promise');
    ws.binaryType = 'arraybuffer';
    const bytes = await ws.request(new Uint8Array([1, 2, 3]));
    expect([...new Uint8Array(bytes as ArrayBuffer)]).toEqual([3, 2, 1]);
    expect(ws.requests).toEqual({ pending: 0, late: 0 });
  });

  it('fails with the RequestFailedError a handler throws, and keeps other errors local', async () => {
    const { server, ws, client } = await pair();
    const errors = collect<Error>(server, 'error');
    client.on('request', async (data) => {
      if (String(data) === 'missing') throw new RequestFailedError('No such user', 'not_found');
      throw new Error('database password is hunter2');
    });
    const missing = await ws.request('missing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RequestFailedError);
    expect(missing).toMatchObject({
      message: 'No such user',
      reason: 'not_found',
      code: ErrorCode.RequestFailed,
    });
    const broken = await ws.request('broken').catch((e: unknown) => e);
    expect(broken).toMatchObject({ message: 'The request handler failed', reason: undefined });
    await waitFor(() => errors.events.length === 1);
    expect(errors.events[0]).toBeInstanceOf(CallbackError);
    expect(String(errors.events[0]!.cause)).toContain('hunter2');
    expect(errors.events).toHaveLength(1); // the RequestFailedError was an answer, not a bug
  });

  it('fails a request nothing handles, at once', async () => {
    const { ws } = await pair();
    await expect(ws.request('anyone?')).rejects.toMatchObject({ reason: 'unhandled' });
  });

  it('times out with RequestTimeoutError, then drops and counts the late reply', async () => {
    const { ws, client } = await pair();
    const later: (() => void)[] = [];
    client.on('request', (_data, respond) => {
      later.push(() => respond('too late'));
    });
    const messages = collect(ws, 'message');
    const error = await ws.request('slow', { timeout: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ timeout: 50, code: ErrorCode.RequestTimeout });
    later[0]!();
    await waitFor(() => ws.requests.late === 1, { message: 'the late reply to be counted' });
    // A barrier: a message sent after the late reply arrives after it.
    client.send('after');
    await waitFor(() => messages.events.length === 1);
    expect(messages.events.map((e) => (e as MessageEvent).data)).toEqual(['after']);
  });

  it('runs the handler once and delivers the reply once when the link drops in between', async () => {
    const { ws, client, proxy } = await pair();
    let runs = 0;
    client.on('request', (data, respond) => {
      runs++;
      // The link is cut while the handler works; it answers once the session is back.
      proxy.reset();
      client.once('resume', () => respond(`done: ${data}`));
    });
    const resumed = waitForEvent(ws, 'resume');
    expect(await ws.request('job 1')).toBe('done: job 1');
    await resumed;
    expect(runs).toBe(1);
  });

  it('rejects with RequestLostError when the session cannot be resumed, never sending it again', async () => {
    const { server, ws, client, proxy } = await pair({ resume: { window: 50 } });
    let runs = 0;
    client.on('request', () => {
      runs++; // never answers
    });
    const fresh = collect(server, 'connection');
    const answer = ws.request('once').catch((e: unknown) => e);
    await waitFor(() => runs === 1);
    await proxy.refuse();
    proxy.reset();
    await waitForEvent(client, 'close'); // the 50 ms window passed
    await proxy.accept();
    expect(await answer).toBeInstanceOf(RequestLostError);
    await waitFor(() => fresh.events.length === 1, { message: 'the new session' });
    const next = fresh.events[0]! as ServerClient;
    next.on('request', (_d, respond) => respond('fine'));
    expect(await ws.request('new')).toBe('fine');
    expect(runs).toBe(1);
  });

  it('bounds what waits: requests.maxPending, an AbortSignal, and close()', async () => {
    const { ws, client } = await pair({}, { requests: { maxPending: 2 } });
    client.on('request', () => {}); // never answers
    const first = ws.request('1').catch((e: unknown) => e);
    const controller = new AbortController();
    const second = ws.request('2', { signal: controller.signal }).catch((e: unknown) => e);
    await expect(ws.request('3')).rejects.toThrow(/maxPending/);
    controller.abort(new Error('the user left the page'));
    expect(await second).toMatchObject({ message: 'the user left the page' });
    ws.close();
    expect(await first).toBeInstanceOf(RequestLostError);
    await expect(ws.request('4')).rejects.toBeInstanceOf(RequestLostError);
    expect(ws.requests.pending).toBe(0);
  });

  it('refuses requests on a plain link: they need a Heartline server', async () => {
    const plain = await startServer({ onConnection: () => {} });
    const ws = openClient(plain.url, fast);
    const early = ws.request('queued before the open').catch((e: unknown) => e);
    await waitForEvent(ws, 'open');
    expect(await early).toBeInstanceOf(RequestUnsupportedError);
    await expect(ws.request('now')).rejects.toThrow(/needs a Heartline server/);
    const off = openClient(plain.url, { session: false });
    await expect(off.request('x')).rejects.toMatchObject({ code: ErrorCode.RequestUnsupported });
  });
});

describe('requests, server → client', () => {
  it('asks the client, which answers with respondWith(), a promise, or a failure', async () => {
    const { server, ws, client } = await pair();
    ws.addEventListener('request', (e) => {
      const text = String(e.data);
      if (text === 'draft?') e.respondWith('half a sentence');
      else if (text === 'later?') e.respondWith(Promise.resolve('later'));
      else if (text === 'nope?') e.respondWith(Promise.reject(new RequestFailedError('no', 'x')));
    });
    expect(await client.request('draft?')).toBe('half a sentence');
    expect(await client.request('later?')).toBe('later');
    await expect(client.request('nope?')).rejects.toMatchObject({ message: 'no', reason: 'x' });
    await expect(client.request('silence?')).rejects.toMatchObject({ reason: 'unhandled' });
    expect(server.stats().requests).toEqual({ pending: 0, late: 0 });
    ws.onrequest = (e) => e.respondWith(`handled by onrequest: ${e.data}`);
    expect(await client.request('any?')).toBe('handled by onrequest: any?');
  });

  it('rejects with RequestLostError when the session ends, and RequestUnsupportedError for plain', async () => {
    const { server, url, ws, client } = await pair();
    const answer = client.request('anyone?').catch((e: unknown) => e);
    ws.addEventListener('request', () => {}); // never answers
    ws.close();
    expect(await answer).toBeInstanceOf(RequestLostError);
    const plainClient = waitForEvent<ServerClient>(server, 'connection');
    openClient(url, { session: false });
    await expect((await plainClient).request('x')).rejects.toBeInstanceOf(RequestUnsupportedError);
  });

  it('takes an answer only from the client it asked, even when another knows its id', async () => {
    const { server, port } = await startHeartline();
    const connections = collect<ServerClient>(server, 'connection');
    const asked = await rawSession(port);
    const intruder = await rawSession(port);
    await waitFor(() => connections.events.length === 2);
    const reply = connections.events[0]!.request('only you');
    await waitFor(() => asked.log.texts().some((t) => t.startsWith('q')), {
      message: 'the request to reach the client',
    });
    const [, id] = /^q\d+:([^:]+):only you$/.exec(asked.log.texts()[0]!)!;
    sendText(intruder.socket, `r1:${id}:forged`);
    await waitFor(() => server.stats().requests.late === 1, { message: 'the forgery dropped' });
    sendText(asked.socket, `r1:${id}:real`);
    expect(String(await reply)).toBe('real');
  });
});
