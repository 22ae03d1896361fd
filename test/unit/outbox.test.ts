import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/client/options.js';
import { Outbox } from '../../src/client/outbox.js';
import { OutboxOverflowError } from '../../src/common/errors.js';
import { utf8Length } from '../../src/protocol/utf8.js';
import { seededRandom } from '../support/random.js';

describe('Outbox', () => {
  it('returns messages in the order they were pushed', () => {
    const box = new Outbox({ maxMessages: 10_000, maxBytes: 1e9, overflow: 'reject' });
    for (let i = 0; i < 5000; i++) box.push(`m${i}`);
    const out: unknown[] = [];
    for (let i = 0; i < 2500; i++) out.push(box.shift());
    for (let i = 5000; i < 6000; i++) box.push(`m${i}`);
    while (box.length) out.push(box.shift());
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => `m${i}`));
    expect(box.unwritten).toBe(0);
  });

  it("drops the oldest messages under 'drop-oldest' and returns them", () => {
    const box = new Outbox({ maxMessages: 3, maxBytes: 1e6, overflow: 'drop-oldest' });
    expect(box.push('a')).toEqual([]);
    box.push('b');
    box.push('c');
    expect(box.push('d')).toEqual(['a']);
    expect([box.shift(), box.shift(), box.shift()]).toEqual(['b', 'c', 'd']);
  });

  it('drops as many old messages as the byte bound needs', () => {
    const box = new Outbox({ maxMessages: 100, maxBytes: 10, overflow: 'drop-oldest' });
    box.push('aaaa');
    box.push('bbbb');
    expect(box.push('cccccc')).toEqual(['aaaa']);
    expect(box.unwritten).toBe(10);
  });

  it('drops a message larger than maxBytes on its own and keeps the rest', () => {
    const box = new Outbox({ maxMessages: 100, maxBytes: 10, overflow: 'drop-oldest' });
    box.push('keep');
    expect(box.push('x'.repeat(11))).toEqual(['x'.repeat(11)]);
    expect(box.length).toBe(1);
  });

  it("throws OutboxOverflowError under 'reject' and keeps what it had", () => {
    const box = new Outbox({ maxMessages: 1, maxBytes: 100, overflow: 'reject' });
    box.push('a');
    expect(() => box.push('b')).toThrow(OutboxOverflowError);
    expect(() => box.push('b')).toThrow(/Outbox full \(1\/1 messages/);
    expect(box.shift()).toBe('a');
  });

  it('tells onOverflow what it dropped or refused, before returning or throwing', () => {
    const told: [unknown[], string][] = [];
    const onOverflow = (dropped: unknown[], policy: string) => told.push([dropped, policy]);
    const box = new Outbox({ maxMessages: 1, maxBytes: 100, overflow: 'reject' }, onOverflow);
    box.push('a');
    expect(() => box.push('b')).toThrow(OutboxOverflowError);
    expect(box.push('c', 1, 'drop-oldest')).toEqual(['a']);
    box.push('d', 1, 'drop-oldest');
    expect(told).toEqual([
      [['b'], 'reject'],
      [['a'], 'drop-oldest'],
      [['c'], 'drop-oldest'],
    ]);
    box.push('x'.repeat(200), 200, 'drop-oldest');
    expect(told[3]).toEqual([['x'.repeat(200)], 'drop-oldest']);
  });
});

describe('Outbox#next', () => {
  it('hands out each message once, oldest first, and counts only the rest as unwritten', () => {
    const box = new Outbox({ maxMessages: 10, maxBytes: 100, overflow: 'reject' });
    box.push('aa');
    box.push('bbb');
    expect(box.unwritten).toBe(5);
    expect(box.next()).toBe('aa');
    expect(box.unwritten).toBe(3);
    box.push('c');
    expect([box.next(), box.next(), box.next()]).toEqual(['bbb', 'c', undefined]);
    expect(box.unwritten).toBe(0);
    expect(box.length).toBe(3);
  });

  it('keeps its place when written messages are removed, and starts over after rewind()', () => {
    const box = new Outbox({ maxMessages: 10, maxBytes: 100, overflow: 'reject' });
    for (const m of ['a', 'b', 'c']) box.push(m);
    box.next();
    box.next();
    expect(box.shift()).toBe('a'); // acknowledged
    expect(box.unwritten).toBe(1);
    expect(box.next()).toBe('c');
    box.rewind(); // the link was lost
    expect(box.unwritten).toBe(2);
    expect([box.next(), box.next()]).toEqual(['b', 'c']);
  });
});

describe('utf8Length', () => {
  it('agrees with Buffer.byteLength on random text, surrogate pairs and lone surrogates included', () => {
    const random = seededRandom(9);
    const pool = ['a', 'é', '€', '😀', '\ud800', '\udc00', 'z', '中'];
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(random() * 20);
      for (let j = 0; j < len; j++) s += pool[Math.floor(random() * pool.length)];
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    }
  });

  it('carries, with the default bounds, the default heartbeat budget at 1,000 msg/s of 100-byte messages (issue 13)', () => {
    const { interval, timeout } = DEFAULTS.heartbeat;
    const burst = ((interval + timeout) / 1_000) * 1_000;
    const dropped: unknown[] = [];
    const box = new Outbox(DEFAULTS.outbox, (d) => dropped.push(...d));
    const message = 'x'.repeat(100);
    for (let i = 0; i < burst; i++) box.push(message);
    expect(box.length).toBe(burst);
    expect(dropped).toEqual([]);
    // and keeps carrying 100-byte messages until the bytes, not the count, are full
    const room = Math.floor(DEFAULTS.outbox.maxBytes / 100);
    for (let i = burst; i < room; i++) box.push(message);
    expect(dropped).toEqual([]);
    expect(box.push(message)).toEqual([message]);
    expect(box.length).toBe(room);
  });

  it('bounds empty messages, which the byte count cannot, by the default count', () => {
    const box = new Outbox(DEFAULTS.outbox);
    for (let i = 0; i < DEFAULTS.outbox.maxMessages + 10; i++) box.push('');
    expect(box.length).toBe(DEFAULTS.outbox.maxMessages);
  });
});
