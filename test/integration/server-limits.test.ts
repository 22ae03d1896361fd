import { describe, expect, it } from 'vitest';
import { ClientViolationError, type ServerClient } from '../../src/server/index.js';
import {
  clientFrame,
  connectWs,
  rawWebSocket,
  readCloseCode,
  startHeartline,
} from '../support/server-fixtures.js';
import { delay, waitFor, waitForEvent, waitForEventArgs } from '../support/wait.js';

function errorsOf(server: Awaited<ReturnType<typeof startHeartline>>['server']) {
  const errors: { error: Error; client: ServerClient | undefined }[] = [];
  server.on('error', (error, client) => errors.push({ error, client }));
  return errors;
}

describe('HeartlineServer limits', () => {
  it('closes a client that sends more than the default 1 MiB `maxPayload` with 1009', async () => {
    const { server, url } = await startHeartline();
    const errors = errorsOf(server);
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const client = await connected;
    ws.send(Buffer.alloc(1024 * 1024 + 1));
    expect(await waitForEvent(ws, 'close')).toBe(1009);
    await waitFor(() => errors.length === 1);
    const { error, client: culprit } = errors[0]!;
    expect(error).toBeInstanceOf(ClientViolationError);
    expect((error as ClientViolationError).closeCode).toBe(1009);
    expect((error as ClientViolationError).clientId).toBe(client.id);
    expect(culprit).toBe(client);
    expect(error.message).toContain(`Client ${client.id}`);
    expect(error.message).toContain('over maxPayload (1048576 bytes)');
    await waitFor(() => server.stats().terminations.message_too_big === 1);
  });

  it('accepts a message of exactly `maxPayload` bytes', async () => {
    const { server, url } = await startHeartline({ maxPayload: 1_000 });
    const got = new Promise<unknown>((resolve) =>
      server.on('connection', (c) => c.on('message', resolve)),
    );
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    ws.send(Buffer.alloc(1_000));
    expect(((await got) as Buffer).length).toBe(1_000);
  });

  it('closes a client that sends invalid UTF-8 with 1007 and says so', async () => {
    const { server, url } = await startHeartline();
    const errors = errorsOf(server);
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    ws.send(Buffer.from([0x68, 0xff, 0xfe]), { binary: false }); // a text frame with bad bytes
    expect(await waitForEvent(ws, 'close')).toBe(1007);
    await waitFor(() => errors.length === 1);
    expect(errors[0]!.error.message).toMatch(
      /sent a text message that is not valid UTF-8 \[WS_ERR_INVALID_UTF8\]; closed with 1007 InvalidFramePayloadData/,
    );
    expect(server.stats().terminations.invalid_payload).toBe(1);
  });

  it('closes a client that sends a malformed control frame with 1002', async () => {
    const { server, port } = await startHeartline();
    const errors = errorsOf(server);
    const socket = await rawWebSocket(port);
    const code = readCloseCode(socket);
    socket.write(clientFrame(0x9, Buffer.from('x'), { fin: false })); // RFC 6455 §5.5: control frames MUST NOT be fragmented
    expect(await code).toBe(1002);
    await waitFor(() => errors.length === 1);
    expect(errors[0]!.error.message).toMatch(
      /sent a malformed frame: .*FRAGMENTED|malformed frame/i,
    );
    expect((errors[0]!.error as ClientViolationError).closeCode).toBe(1002);
    await waitFor(() => server.stats().terminations.protocol_error === 1);
  });

  it('closes a client over `rateLimit` with 1008', async () => {
    const { server, url } = await startHeartline({ rateLimit: { messages: 5, interval: 10_000 } });
    const errors = errorsOf(server);
    const received: unknown[] = [];
    server.on('connection', (c) => c.on('message', (d) => received.push(d)));
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    for (let i = 0; i < 8; i++) ws.send(`m${i}`);
    const [code, reason] = await waitForEventArgs(ws, 'close');
    expect(code).toBe(1008);
    expect(String(reason)).toBe('Rate limit exceeded');
    expect(received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(errors[0]!.error.message).toMatch(
      /sent more than 5 messages per 10000 ms; closed with 1008 PolicyViolation/,
    );
    await waitFor(() => server.stats().terminations.rate_limit === 1);
  });

  it('takes a burst larger than the mark in one turn to a reader that keeps up', async () => {
    // The writes of one turn are coalesced; past a few KiB they must reach the kernel at once,
    // or a fast reader's burst would look like a slow reader's backlog.
    const highWaterMark = 64 * 1024;
    const { server, url } = await startHeartline({ highWaterMark, heartbeat: false });
    const errors = errorsOf(server);
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    const client = await connected;
    let received = 0;
    ws.on('message', () => received++);
    const chunk = Buffer.alloc(16 * 1024, 1);
    const accepted = Array.from({ length: 10 }, () => client.send(chunk));
    expect(accepted).toEqual(Array(10).fill(true));
    await waitFor(() => received === 10, { message: 'all ten chunks to arrive' });
    expect(client.state).toBe('open');
    expect(errors).toEqual([]);
  });

  it('keeps memory bounded for a client that never reads: volatile sends drop first, then 4507', async () => {
    const highWaterMark = 256 * 1024;
    const { server, port } = await startHeartline({ highWaterMark, heartbeat: false });
    const errors = errorsOf(server);
    const connected = waitForEvent<ServerClient>(server, 'connection');
    await rawWebSocket(port); // handshake done, then never reads again
    const client = await connected;
    const chunk = Buffer.alloc(64 * 1024, 1);
    let maxBuffered = 0;
    let reliableSent = 0;
    let volatileDroppedBeforeClose = 0;
    // Bounded: at most 64 MiB offered, or 10 s.
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 1_024 && client.state === 'open' && Date.now() < deadline; i++) {
      if (!client.send(chunk, { volatile: true }) && client.state === 'open')
        volatileDroppedBeforeClose++;
      if (client.send(chunk)) reliableSent++;
      maxBuffered = Math.max(maxBuffered, client.bufferedAmount);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(client.state).not.toBe('open');
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark);
    expect(volatileDroppedBeforeClose).toBeGreaterThan(0);
    expect(reliableSent).toBeGreaterThan(0);
    await waitFor(() => errors.length === 1);
    expect((errors[0]!.error as ClientViolationError).closeCode).toBe(4507);
    expect(errors[0]!.error.message).toMatch(/reads too slowly/);
    expect(server.stats().terminations.slow_consumer + server.clients.size).toBeGreaterThanOrEqual(
      1,
    );
    // Once closing, nothing more is queued for it.
    const before = client.bufferedAmount;
    expect(client.send(chunk)).toBe(false);
    expect(client.bufferedAmount).toBe(before);
    await delay(0);
  });
});
