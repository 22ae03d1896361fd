import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/client/coalescer.js';
import { BATCH_BYTES, decodeBatch, MAX_BATCH_ENTRIES } from '../../src/protocol/batch.js';

/** A WebSocket as the coalescer sees it: what it was sent, and a TCP socket that counts corks. */
function fakeSocket({ tcp = true } = {}) {
  const sent: unknown[] = [];
  const log: string[] = [];
  const socket = {
    writableLength: 0,
    cork: () => log.push('cork'),
    uncork: () => log.push('uncork'),
  };
  const ws = {
    send(data: unknown) {
      sent.push(data);
      log.push('send');
      socket.writableLength += typeof data === 'string' ? data.length : (data as Uint8Array).length;
    },
    ...(tcp ? { _socket: socket } : {}),
  };
  return { ws, sent, log, socket };
}

/** Lets the turn end: the coalescer flushes in a microtask. */
const endOfTurn = () => Promise.resolve();

describe('Coalescer', () => {
  it('corks the TCP socket at the first send of a turn and uncorks it once the turn is done', async () => {
    const { ws, log } = fakeSocket();
    const out = new Coalescer(ws);
    out.send('a');
    out.send('b');
    expect(log).toEqual(['cork', 'send', 'send']);
    await endOfTurn();
    expect(log).toEqual(['cork', 'send', 'send', 'uncork']);
    out.send('c');
    await endOfTurn();
    expect(log.slice(4)).toEqual(['cork', 'send', 'uncork']);
  });

  it('flushes a corked turn past 16 KiB, as the server does', () => {
    const { ws, log, socket } = fakeSocket();
    const out = new Coalescer(ws);
    out.send('x');
    socket.writableLength = BATCH_BYTES;
    out.send('y');
    expect(log).toEqual(['cork', 'send', 'uncork', 'cork', 'send']);
  });

  it('sends at once, uncorked, where there is no TCP socket (a browser)', async () => {
    const { ws, log } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.send('a');
    expect(log).toEqual(['send']);
    await endOfTurn();
    expect(log).toEqual(['send']);
  });

  it('gathers a turn into one batch once a limit is set, and counts it as buffered meanwhile', async () => {
    const { ws, sent } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.limit = 1024;
    out.send('m1:a');
    out.send('m2:é');
    expect(sent).toEqual([]);
    expect(out.buffered).toBe(9);
    await endOfTurn();
    expect(sent).toEqual(['b4:m1:a5:m2:é']);
    expect(out.buffered).toBe(0);
  });

  it('sends one frame of a turn as itself', async () => {
    const { ws, sent } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.limit = 1024;
    out.send('m1:a');
    await endOfTurn();
    expect(sent).toEqual(['m1:a']);
  });

  it('makes a binary batch when a frame is binary', async () => {
    const { ws, sent } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.limit = 1024;
    out.send('m1:a');
    out.send(new Uint8Array([0x6d, 0x32, 0x3a, 9]));
    await endOfTurn();
    expect(sent).toHaveLength(1);
    const frames = decodeBatch(sent[0] as Uint8Array);
    expect(frames[0]).toBe('m1:a');
    expect([...(frames[1] as Uint8Array)]).toEqual([0x6d, 0x32, 0x3a, 9]);
  });

  it('keeps every batch within the limit and 1,024 frames, and sends a frame too big for one alone, in order', async () => {
    const { ws, sent } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.limit = 64;
    for (let i = 0; i < 10; i++) out.send(`m${i}:abcdef`);
    out.send(`m10:${'z'.repeat(64)}`);
    out.send('m11:a');
    out.send('m12:b');
    await endOfTurn();
    const batches = sent.filter((s) => (s as string)[0] === 'b');
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches)
      expect(new TextEncoder().encode(b as string).length).toBeLessThanOrEqual(64);
    const frames = sent.flatMap((s) => ((s as string)[0] === 'b' ? decodeBatch(s as string) : [s]));
    expect(frames).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `m${i}:abcdef`),
      `m10:${'z'.repeat(64)}`,
      'm11:a',
      'm12:b',
    ]);
    const many = fakeSocket({ tcp: false });
    const wide = new Coalescer(many.ws);
    wide.limit = BATCH_BYTES;
    for (let i = 0; i < MAX_BATCH_ENTRIES + 1; i++) wide.send('v:');
    await endOfTurn();
    expect(many.sent.map((s) => (s as string).length)).toEqual([MAX_BATCH_ENTRIES * 4 + 1, 2]);
  });

  it('sends what it gathered when flushed, before the turn ends', () => {
    const { ws, sent } = fakeSocket({ tcp: false });
    const out = new Coalescer(ws);
    out.limit = 1024;
    out.send('m1:a');
    out.send('m2:b');
    out.flush();
    expect(sent).toEqual(['b4:m1:a4:m2:b']);
  });
});
