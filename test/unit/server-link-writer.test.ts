import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { decodeBatch } from '../../src/protocol/batch.js';
import { LinkWriter } from '../../src/server/client/link-writer.js';
import { type PreparedMessage, prepareMessage } from '../../src/server/client/outgoing-message.js';

/**
 * A `ws` socket as the writer sees it: what it was sent, kept as buffered (nothing drains), and
 * no TCP socket, so nothing is corked.
 */
function fakeLink(highWaterMark = 1 << 20) {
  const sent: { data: Buffer | string; binary: boolean }[] = [];
  const ws = {
    bufferedAmount: 0,
    send(data: Buffer | string, options: { binary: boolean }, written?: () => void) {
      sent.push({ data, binary: options.binary });
      ws.bufferedAmount += data.length;
      written?.();
    },
  };
  const slow: number[] = [];
  const stats = { messagesOut: 0, bytesOut: 0 };
  const host = { stats, highWaterMark, slow: (buffered: number) => slow.push(buffered) };
  const writer = new LinkWriter(ws as unknown as WebSocket, host as never, true);
  return { writer, sent, slow, stats, ws };
}

let offset = 0;
function message(data: string | Buffer): PreparedMessage {
  const m = prepareMessage(data);
  m.offset = ++offset;
  return m;
}

/** Lets the turn end: the writer sends what it gathered on process.nextTick. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));
const text = (s: { data: Buffer | string }) => s.data.toString();

describe('LinkWriter', () => {
  it('writes each frame as it comes until batches are negotiated', () => {
    const { writer, sent } = fakeLink();
    writer.deliver(message('a'), false);
    writer.control('{"t":"ack","seq":1}');
    expect(sent.map(text)).toEqual([`m${offset}:a`, '{"t":"ack","seq":1}']);
  });

  it('gathers a turn into one batch once negotiated, shared frames copied, not re-encoded', async () => {
    const { writer, sent, stats, ws } = fakeLink();
    writer.batch(1 << 20);
    const shared = message('é');
    const frame = Buffer.from(`m${shared.offset}:é`);
    shared.framed = frame;
    writer.deliver(shared, false);
    writer.control('{"t":"ack","seq":3}');
    writer.deliver(message(Buffer.from([1, 2])), false);
    expect(sent).toEqual([]);
    expect(writer.bufferedAmount).toBeGreaterThan(ws.bufferedAmount);
    await endOfTurn();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.binary).toBe(true);
    const frames = decodeBatch(sent[0]!.data as Buffer);
    expect(frames[0]).toBe(frame.toString());
    expect(frames[1]).toBe('{"t":"ack","seq":3}');
    expect([...(frames[2] as Buffer)]).toEqual([...Buffer.from(`m${offset}:`), 1, 2]);
    expect(stats).toEqual({ messagesOut: 2, bytesOut: 4 });
    expect(writer.bufferedAmount).toBe(ws.bufferedAmount); // nothing gathered any more
  });

  it('sends a turn of one frame as itself, text as text', async () => {
    const { writer, sent } = fakeLink();
    writer.batch(1 << 20);
    writer.deliver(message('alone'), false);
    await endOfTurn();
    expect(sent).toEqual([{ data: expect.any(Buffer), binary: false }]);
    expect(text(sent[0]!)).toBe(`m${offset}:alone`);
  });

  it('keeps a batch within what the client takes, 16 KiB and a quarter of the high-water mark', async () => {
    for (const [limit, hwm, max] of [
      [100, 1 << 20, 100],
      [1 << 20, 1 << 20, 16_384],
      [1 << 20, 40_000, 10_000],
    ] as const) {
      const { writer, sent } = fakeLink(hwm);
      writer.batch(limit);
      const n = 3 * Math.ceil(max / 20);
      for (let i = 0; i < n; i++) writer.deliver(message('0123456789'), false);
      await endOfTurn();
      expect(sent.length).toBeGreaterThan(1);
      for (const s of sent) expect((s.data as Buffer).length).toBeLessThanOrEqual(max);
      expect(sent.flatMap((s) => decodeBatch(text(s)))).toHaveLength(n);
    }
  });

  it('sends a frame too big for a batch alone, after what was gathered', async () => {
    const { writer, sent } = fakeLink();
    writer.batch(64);
    writer.deliver(message('a'), false);
    writer.deliver(message('b'.repeat(100)), false);
    writer.deliver(message('c'), false);
    await endOfTurn();
    expect(sent.map(text)).toEqual([
      `m${offset - 2}:a`,
      `m${offset - 1}:${'b'.repeat(100)}`,
      `m${offset}:c`,
    ]);
  });

  it('writes what was gathered on flush(), and nothing once closed', async () => {
    const { writer, sent } = fakeLink();
    writer.batch(1 << 20);
    writer.deliver(message('a'), false);
    writer.flush();
    expect(sent).toHaveLength(1);
    writer.deliver(message('b'), false);
    writer.close();
    await endOfTurn();
    expect(sent).toHaveLength(1);
  });

  it('counts what it gathered against the high-water mark', () => {
    const { writer, slow } = fakeLink(1_000);
    writer.batch(1 << 20);
    let written = 0;
    while (written < 100 && writer.deliver(message('x'.repeat(100)), false)) written++;
    expect(written).toBe(9); // about 105 bytes each, gathered or sent, against 1,000
    expect(slow).toHaveLength(1);
  });
});
