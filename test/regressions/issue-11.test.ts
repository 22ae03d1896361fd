/**
 * Regressions of issue 11 ("Hardening: every buffer bounded on every path, every protocol edge
 * answered"), one per item, each failing before its fix. The server's are played as an attacker
 * would: raw TCP and hand-made `heartline.v1` frames (test/support/server-fixtures.ts).
 */
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { encodeControl, encodeData } from '../../src/protocol/frames.js';
import {
  ClientViolationError,
  type HeartlineServer,
  parseRetryAfter,
  type ServerClient,
} from '../../src/server/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import {
  clientFrame,
  connectWs,
  rawSession,
  rawUpgrade,
  rawWebSocket,
  readFrames,
  resumeOf,
  SESSION_OFFER,
  sendText,
  startHeartline,
} from '../support/server-fixtures.js';
import { collect, delay, waitFor, waitForEvent } from '../support/wait.js';

const TEXT = 0x1;
const PING = 0x9;

/** Every error the server reports, from now on. */
/** A server without heartbeat, what it reports, and the text of every message its app got. */
async function recordingServer() {
  const { server, port } = await startHeartline({ heartbeat: false });
  const errors = errorsOf(server);
  const received: string[] = [];
  server.on('connection', (client) => client.on('message', (data) => received.push(String(data))));
  return { server, port, errors, received };
}

function errorsOf(server: HeartlineServer): ClientViolationError[] {
  const errors: ClientViolationError[] = [];
  server.on('error', (error) => errors.push(error as ClientViolationError));
  return errors;
}

/** The server's clients in `state`. */
function inState(server: HeartlineServer, state: ServerClient['state']): ServerClient[] {
  return [...server.clients.values()].filter((c) => c.state === state);
}

/** The payloads of a raw session's data frames, without their `m<offset>:` header. */
function payloads(texts: readonly string[]): string[] {
  return texts.map((t) => t.slice(t.indexOf(':') + 1));
}

describe('issue 11: protocol edges', () => {
  it('never delivers an offset twice, even when a resume hello claims a lower position', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    await peer.frames(0, 1);
    const first = peer.links[0]!.socket;
    first.send(peer.hello({ offset: 0 }));
    await waitForEvent(ws, 'open');
    const received = collect<MessageEvent>(ws, 'message');
    for (const [n, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      first.send(`m${n}:${text}`);
    await waitFor(() => received.events.length === 3);
    first.terminate();
    await peer.frames(1, 1);
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    // A server that says the client is at 0 and replays from there: a,b,c again, then d.
    const second = peer.links[1]!.socket;
    second.send(peer.hello({ offset: 0, resumed: true }));
    expect(await resumed).toMatchObject({ resumed: true });
    for (const [n, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ] as const) {
      second.send(`m${n}:${text}`);
    }
    await waitFor(() => received.events.length >= 4);
    second.send('m5:barrier');
    await waitFor(() => received.events.at(-1)?.data === 'barrier');
    expect(received.events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd', 'barrier']);
  });
});

describe('issue 11: memory that grows without bound', () => {
  it('streams a resume replay under highWaterMark: sessions that resume from old offsets and never read hold at most that much', async () => {
    const highWaterMark = 64 * 1024;
    const { server, port } = await startHeartline({ highWaterMark, heartbeat: false });
    const sessions = 3;
    const hellos: Record<string, unknown>[] = [];
    for (let i = 0; i < sessions; i++) {
      const { socket, hello } = await rawSession(port);
      hellos.push(hello!);
      socket.destroy();
    }
    await waitFor(() => inState(server, 'detached').length === sessions);
    // 8 MB missed by each: more than the kernel's socket buffers take off the server's hands.
    const count = 8_000;
    const payload = 'x'.repeat(1_024);
    for (let i = 0; i < count; i++) server.broadcast(`${i}:${payload}`);
    const links = [];
    for (const hello of hellos) {
      const socket = await rawWebSocket(port, '/', SESSION_OFFER); // paused: it never reads
      sendText(socket, JSON.stringify({ t: 'connect', v: 1, ...resumeOf(hello) }));
      links.push(socket);
    }
    const clients = hellos.map((h) => server.clients.get(h.sid as string)!);
    await waitFor(() => clients.every((c) => c.state === 'open' && c.bufferedAmount > 0), {
      message: 'the replays to fill the send buffers',
    });
    // Not reading for a while is the scenario: the replays wait, they do not pile up.
    let most = 0;
    for (let i = 0; i < 20; i++) {
      for (const c of clients) most = Math.max(most, c.bufferedAmount);
      await delay(10);
    }
    expect(most).toBeLessThanOrEqual(highWaterMark);
    expect(clients.map((c) => c.state)).toEqual(clients.map(() => 'open')); // no 4507: it waits
    // Once it reads, each gets every message it missed, in order, once.
    const logs = links.map((socket) => readFrames(socket));
    await waitFor(() => logs.every((log) => log.texts().length === count), {
      timeout: 20_000,
      message: 'every replay to complete',
    });
    for (const log of logs) {
      const got = payloads(log.texts()).map((p) => Number(p.slice(0, p.indexOf(':'))));
      expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  });

  it('closes a session that floods ping frames with 1008 after `controlLimit`, with rateLimit off', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const errors = errorsOf(server);
    const { socket, log } = await rawSession(port);
    const ping = clientFrame(TEXT, Buffer.from(encodeControl({ t: 'ping', ts: 1 })));
    socket.write(Buffer.concat(Array.from({ length: 1_000 }, () => ping)));
    await waitFor(() => log.closeCode, { message: 'the server to close the link' });
    expect(log.closeCode).toBe(1008);
    expect(log.closeReason).toBe('Control frame limit exceeded');
    // The default burst, and what refills while the server reads the flood (100 per second).
    const pongs = log.controls().filter((c) => c.t === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(100);
    expect(pongs).toBeLessThan(110);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'HL_ERR_CLIENT_VIOLATION', closeCode: 1008 });
    expect(errors[0]!.message).toMatch(/sent more than 100 control frames .* per 1000 ms/);
    await waitFor(() => server.stats().terminations.rate_limit === 1);
  });

  it('counts RFC 6455 pings and text pings against the same limit, in plain mode too', async () => {
    const { server, port } = await startHeartline();
    const errors = errorsOf(server);
    const rfc = await rawWebSocket(port);
    const rfcLog = readFrames(rfc);
    rfc.write(
      Buffer.concat(Array.from({ length: 300 }, () => clientFrame(PING, Buffer.from('x')))),
    );
    const text = await rawWebSocket(port);
    const textLog = readFrames(text);
    const ping = clientFrame(TEXT, Buffer.from('ping'));
    text.write(Buffer.concat(Array.from({ length: 300 }, () => ping)));
    await waitFor(() => rfcLog.closeCode && textLog.closeCode, { message: 'both links closed' });
    expect([rfcLog.closeCode, textLog.closeCode]).toEqual([1008, 1008]);
    for (const pongs of [
      rfcLog.frames.filter((f) => f.opcode === 0xa).length,
      textLog.frames.filter((f) => f.payload.toString() === 'pong').length,
    ]) {
      expect(pongs).toBeGreaterThanOrEqual(100);
      expect(pongs).toBeLessThan(110);
    }
    expect(errors.map((e) => e.closeCode)).toEqual([1008, 1008]);
  });

  it('holds pongs to highWaterMark: a session that pings into a full send buffer is closed with 4507', async () => {
    const highWaterMark = 64 * 1024;
    const { server, port } = await startHeartline({ highWaterMark, heartbeat: false });
    const errors = errorsOf(server);
    const { socket, hello } = await rawSession(port);
    socket.pause(); // it never reads again
    const client = server.clients.get(hello!.sid as string)!;
    // Fill the kernel's buffers, then the server's send buffer to within 4 KiB of the mark.
    for (let i = 0; i < 10_000 && client.bufferedAmount <= highWaterMark - 4_096; i++) {
      const room = highWaterMark - 2_048 - client.bufferedAmount;
      client.send('x'.repeat(Math.min(16 * 1_024, room)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(client.state).toBe('open');
    // 99 pongs of 45 bytes: more than the room left, fewer pings than `controlLimit` allows.
    const ping = clientFrame(
      TEXT,
      Buffer.from(encodeControl({ t: 'ping', ts: -1.2345678901234568e-300 })),
    );
    socket.write(Buffer.concat(Array.from({ length: 99 }, () => ping)));
    await waitFor(() => errors.length > 0, { message: 'the slow reader to be closed' });
    expect(errors[0]).toMatchObject({ closeCode: 4507 });
    expect(client.bufferedAmount).toBeLessThanOrEqual(highWaterMark + 125); // the close frame aside
  });

  it('bounds detached sessions by `resume.maxSessions`: the one detached longest ago ends and its resume hears `expired`', async () => {
    const { server, port } = await startHeartline({ heartbeat: false, resume: { maxSessions: 3 } });
    const hellos: Record<string, unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      const { socket, hello } = await rawSession(port);
      hellos.push(hello!);
      socket.destroy();
      await waitFor(() => server.clients.get(hello!.sid as string)?.state !== 'open');
    }
    expect(server.clients.size).toBe(3);
    expect(inState(server, 'detached').map((c) => c.id)).toEqual(hellos.slice(2).map((h) => h.sid));
    expect(server.stats()).toMatchObject({ detached: 3, evicted: 2 });
    const first = await rawSession(port, resumeOf(hellos[0]));
    expect(first.hello).toMatchObject({ resumed: false, reason: 'expired' });
    const last = await rawSession(port, resumeOf(hellos[4]));
    expect(last.hello).toMatchObject({ resumed: true, sid: hellos[4]!.sid });
  });

  it('answers a half-sent upgrade request with 408 after `upgradeTimeout` (5 s by default), then closes it', async () => {
    const { port } = await startHeartline();
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    onTestFinished(() => {
      socket.destroy();
    });
    await once(socket, 'connect');
    const started = Date.now();
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`); // and no more
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Time is the scenario: Node's own defaults would hold it 60 s, checked every 30 s.
    await waitForEvent(socket, 'close', { timeout: 8_000 });
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
    expect(Date.now() - started).toBeLessThan(7_000);
  });

  it('counts upgrade requests still arriving against `maxConnections`', async () => {
    const { server, url, port } = await startHeartline({ maxConnections: 3, heartbeat: false });
    const connected = connectWs(url, [], { origin: `http://127.0.0.1:${port}` });
    await waitForEvent(connected, 'open');
    const half = async () => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      onTestFinished(() => {
        socket.destroy();
      });
      await once(socket, 'connect');
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      return socket;
    };
    await half();
    await half();
    // One client and two requests on their way make three: the cap.
    const refused = await rawUpgrade(port, { Host: `127.0.0.1:${port}` });
    expect(refused.status).toBe(503);
    expect(server.stats().rejected).toEqual({ 503: 1 });
  });

  it('closes resumes from an address over `resume.maxRefusals` (20 per 10 s) with 1013 and a retry hint, and leaves the session alone', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const errors = errorsOf(server);
    const real = await rawSession(port);
    real.socket.destroy();
    await waitFor(() => inState(server, 'detached').length === 1);
    const wrong = { ...resumeOf(real.hello), token: 'AAAAAAAAAAAAAAAAAAAAAA' };
    for (let i = 0; i < 20; i++) {
      const attempt = await rawSession(port, wrong);
      expect(attempt.hello).toMatchObject({ resumed: false, reason: 'token' });
      attempt.socket.destroy();
    }
    const limited = await rawSession(port, wrong);
    expect(limited.hello).toBeUndefined();
    expect(limited.log.closeCode).toBe(1013);
    const hint = parseRetryAfter(limited.log.closeReason!);
    expect(hint).toBeGreaterThan(0);
    expect(hint).toBeLessThanOrEqual(500); // one refusal refills every 10 s / 20
    expect(errors.at(-1)).toMatchObject({ closeCode: 1013 });
    expect(errors.at(-1)!.message).toMatch(/more than 20 resumes refused in 10000 ms/);
    // Waiting out the hint is the scenario; then the real owner resumes, nothing lost.
    await delay(hint!);
    const back = await rawSession(port, resumeOf(real.hello));
    expect(back.hello).toMatchObject({ resumed: true, sid: real.hello!.sid });
  });
});

describe('issue 11: protocol edges, server end', () => {
  it('replays by membership at send time: nothing from before a join, everything sent while a member', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const late = await rawSession(port); // joins while detached
    const leaver = await rawSession(port); // leaves while detached
    const lateClient = server.clients.get(late.hello!.sid as string)!;
    const leaverClient = server.clients.get(leaver.hello!.sid as string)!;
    leaverClient.join('r');
    server.to('r').send('before the late one joined');
    await waitFor(() => leaver.log.texts().length === 1);
    const leaverAt = Number(/^m(\d+):/.exec(leaver.log.texts()[0]!)![1]);
    late.socket.destroy();
    leaver.socket.destroy();
    await waitFor(() => inState(server, 'detached').length === 2);
    lateClient.join('r');
    server.to('r').send('while both were members');
    leaverClient.leave('r');
    server.to('r').send('after the leaver left');
    const lateBack = await rawSession(port, resumeOf(late.hello));
    const leaverBack = await rawSession(port, resumeOf(leaver.hello, leaverAt));
    expect([lateBack.hello?.resumed, leaverBack.hello?.resumed]).toEqual([true, true]);
    lateClient.send('barrier');
    leaverClient.send('barrier');
    await waitFor(() =>
      [lateBack, leaverBack].every((s) => payloads(s.log.texts()).at(-1) === 'barrier'),
    );
    expect(payloads(lateBack.log.texts())).toEqual([
      'while both were members',
      'after the leaver left',
      'barrier',
    ]);
    expect(payloads(leaverBack.log.texts())).toEqual(['while both were members', 'barrier']);
  });

  it('hands the app data frames sent in the same TCP write as connect', async () => {
    const { port, received } = await recordingServer();
    const raw = await rawWebSocket(port, '/', SESSION_OFFER);
    const log = readFrames(raw);
    const frames = [encodeControl({ t: 'connect', v: 1 }), encodeData(1, 'a'), encodeData(2, 'b')];
    raw.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, Buffer.from(f)))));
    await waitFor(() => received.length === 2, { message: 'both messages at the app' });
    expect(received).toEqual(['a', 'b']);
    await waitFor(() => log.controls().some((c) => c.t === 'ack' && c.seq === 2));
  });

  it('reports and counts a violation before the session handshake completes', async () => {
    const { server, port } = await startHeartline({ maxPayload: 64, heartbeat: false });
    const errors = errorsOf(server);
    const big = await rawWebSocket(port, '/', SESSION_OFFER);
    big.write(clientFrame(TEXT, Buffer.alloc(100, 0x61)));
    await waitFor(() => errors.length === 1, { message: 'the 1009 to be reported' });
    expect(errors[0]).toMatchObject({ code: 'HL_ERR_CLIENT_VIOLATION', closeCode: 1009 });
    expect(server.stats().terminations.message_too_big).toBe(1);
    // A flood held between connect and the session being ready: 1008, reported and counted.
    const flood = await rawWebSocket(port, '/', SESSION_OFFER);
    const floodLog = readFrames(flood);
    const frames = [encodeControl({ t: 'connect', v: 1 })];
    for (let i = 1; i <= 1_100; i++) frames.push(encodeData(i, 'x'));
    flood.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, Buffer.from(f)))));
    await waitFor(() => errors.length === 2, { message: 'the flood to be reported' });
    expect(errors[1]).toMatchObject({ closeCode: 1008 });
    expect(errors[1]!.message).toMatch(/before its session was ready/);
    expect(server.stats().terminations.rate_limit).toBe(1);
    await waitFor(() => floodLog.closeCode === 1008);
  });

  it.each([
    ['instead of the connect frame', []],
    ['in the same TCP write as the connect frame', [encodeControl({ t: 'connect', v: 1 })]],
  ])(
    'reports and counts a text frame that is not UTF-8 before the session handshake completes, and closes with 1007: %s',
    async (_, before) => {
      const { server, port } = await startHeartline({ heartbeat: false });
      const errors = errorsOf(server);
      const raw = await rawWebSocket(port, '/', SESSION_OFFER);
      const log = readFrames(raw);
      // 0xc3 opens a two-byte sequence that 0x28 does not continue (RFC 3629 §3).
      const frames = [...before.map((f) => Buffer.from(f)), Buffer.from([0x7b, 0xc3, 0x28, 0x7d])];
      raw.write(Buffer.concat(frames.map((f) => clientFrame(TEXT, f))));
      await waitFor(() => log.closeCode, { message: 'the link to be closed' });
      expect(log.closeCode).toBe(1007);
      expect(log.controls().some((c) => c.t === 'hello')).toBe(false);
      await waitFor(() => errors.length === 1, { message: 'the 1007 to be reported' });
      expect(errors[0]).toBeInstanceOf(ClientViolationError);
      expect(errors[0]).toMatchObject({ code: 'HL_ERR_CLIENT_VIOLATION', closeCode: 1007 });
      expect(errors[0]!.message).toBe(
        'A heartline.v1 client (127.0.0.1) sent a text message that is not valid UTF-8 [WS_ERR_INVALID_UTF8] before its session started; closed with 1007',
      );
      expect(server.stats().terminations.invalid_payload).toBe(1);
      expect(server.clients.size).toBe(0);
    },
  );

  it.each([
    ['a connect frame padded to 100 KB', `{"t":"connect","v":1,"pad":"${'x'.repeat(100_000)}"}`],
    ['a resume token without a session id', '{"t":"connect","v":1,"token":"AAAA"}'],
    [
      'a session id that is no id',
      '{"t":"connect","v":1,"sid":"a b","token":"k","epoch":"e","offset":0}',
    ],
  ])(
    'closes a link whose connect frame is out of bounds with 1002 and an error: %s',
    async (_, frame) => {
      const { server, port } = await startHeartline({ heartbeat: false });
      const errors = errorsOf(server);
      const raw = await rawWebSocket(port, '/', SESSION_OFFER);
      const log = readFrames(raw);
      sendText(raw, frame);
      await waitFor(() => log.closeCode, { message: 'the link to be closed' });
      expect(log.closeCode).toBe(1002);
      expect(log.controls().some((c) => c.t === 'hello')).toBe(false);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ closeCode: 1002 });
      expect(server.stats().terminations.protocol_error).toBe(1);
    },
  );

  it('survives a client that sends garbage after a connect frame it got wrong', async () => {
    const { server, port } = await startHeartline({ heartbeat: false });
    const errors = errorsOf(server);
    const raw = await rawWebSocket(port, '/', SESSION_OFFER);
    const log = readFrames(raw);
    // Not JSON, then bytes that are no frame at all: ws fails on them while the link closes.
    raw.write(Buffer.concat([clientFrame(TEXT, Buffer.from('{nope')), Buffer.alloc(64, 0xff)]));
    await waitFor(() => log.closeCode, { message: 'the link to be closed' });
    expect(log.closeCode).toBe(1002);
    expect(errors).toHaveLength(1);
    // Still serving: a well-behaved client gets its session.
    const next = await rawSession(port);
    expect(next.hello).toMatchObject({ resumed: false });
  });

  it.each([
    ['0, a number no message has', [0], /numbered a message 0/],
    ['a gap', [1, 3], /numbered a message 3 after 1 \(expected 2/],
    [
      'a jump to 2^53 − 1',
      [1, Number.MAX_SAFE_INTEGER],
      /numbered a message 9007199254740991 after 1/,
    ],
  ])(
    'closes a session whose numbering breaks the rules with 1002 and an error: %s',
    async (_, numbers, message) => {
      const { port, errors, received } = await recordingServer();
      const { socket, log } = await rawSession(port);
      for (const n of numbers) sendText(socket, encodeData(n, `message ${n}`));
      await waitFor(() => log.closeCode, { message: 'the link to be closed' });
      expect(log.closeCode).toBe(1002);
      expect(errors[0]).toMatchObject({ closeCode: 1002 });
      expect(errors[0]!.message).toMatch(message);
      expect(received).toEqual(numbers[0] === 1 ? ['message 1'] : []);
    },
  );

  it('takes a resent number at or below the last one as a duplicate: acknowledged, not handled again', async () => {
    const { port, errors, received } = await recordingServer();
    const { socket, log } = await rawSession(port);
    for (const n of [1, 2, 1, 2, 3]) sendText(socket, encodeData(n, `message ${n}`));
    await waitFor(() => log.controls().some((c) => c.t === 'ack' && c.seq === 3));
    expect(received).toEqual(['message 1', 'message 2', 'message 3']);
    expect(errors).toEqual([]);
    expect(log.closeCode).toBeUndefined();
  });

  it('resumes a client whose outbox dropped messages it had written: it says `from`, the server skips to it', async () => {
    // A dead link not yet noticed: six messages written into it, the outbox keeps three.
    const { port, errors, received } = await recordingServer();
    const proxy = await startFaultProxy({ port });
    const ws = openClient(proxy.url, {
      reconnect: { minDelay: 5, maxDelay: 10 },
      outbox: { maxMessages: 3, overflow: 'drop-oldest' },
      heartbeat: false,
    });
    const resumes = collect<ResumeEvent>(ws, 'resume');
    await waitForEvent(ws, 'open');
    proxy.blackhole();
    for (let i = 1; i <= 6; i++) ws.send(`m${i}`);
    proxy.heal();
    proxy.reset();
    await waitFor(() => received.length === 3, { message: 'the three messages still held' });
    expect(received).toEqual(['m4', 'm5', 'm6']);
    expect(resumes.events.map((e) => e.resumed)).toEqual([true]);
    // Numbering goes on from there, and nothing broke the protocol.
    ws.send('m7');
    await waitFor(() => received.length === 4);
    expect(received[3]).toBe('m7');
    expect(errors).toEqual([]);
  });

  it('warns with what a throwing handler threw when the server has no error listener', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    onTestFinished(() => warn.mockRestore());
    const { server, url, port } = await startHeartline();
    server.on('connection', (client) =>
      client.on('message', () => {
        throw new RangeError('boom from the handler');
      }),
    );
    const ws = connectWs(url, [], { origin: `http://127.0.0.1:${port}` });
    await waitForEvent(ws, 'open');
    ws.send('hi');
    await waitFor(() => warn.mock.calls.length > 0, { message: 'a process warning' });
    const [warning] = warn.mock.calls[0]!;
    expect(String(warning)).toMatch(
      /A 'message' listener of client .* threw: RangeError: boom from the handler/,
    );
  });
});

describe('issue 11: origins', () => {
  it('refuses a DNS-rebinding page on a loopback server with same-origin, and accepts loopback names', async () => {
    const { port } = await startHeartline();
    const as = (host: string) =>
      rawUpgrade(port, { Host: `${host}:${port}`, Origin: `http://${host}:${port}` });
    expect((await as('evil.example')).status).toBe(403);
    for (const host of ['localhost', '127.0.0.1', '[::1]', 'app.localhost']) {
      expect((await as(host)).status, host).toBe(101);
    }
  });

  it('accepts other names on a loopback server when `origins` names them', async () => {
    const { port } = await startHeartline({ origins: ['http://app.test:8080'] });
    const upgrade = await rawUpgrade(port, {
      Host: 'app.test:8080',
      Origin: 'http://app.test:8080',
    });
    expect(upgrade.status).toBe(101);
  });
});
