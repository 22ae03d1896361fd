import { describe, expect, it } from 'vitest';
import { MemoryReplayLog } from '../../src/server/engine/replay-log.js';

const all = { kind: 'all' } as const;
const log = (o: Partial<{ maxMessages: number; maxBytes: number; maxAge: number }> = {}) =>
  new MemoryReplayLog({ maxMessages: 1000, maxBytes: 1 << 20, maxAge: 60_000, ...o });

describe('MemoryReplayLog', () => {
  it('numbers entries from 1 and returns those after an offset, in order', () => {
    const l = log();
    expect([
      l.append(all, Buffer.from('a'), false),
      l.append(all, Buffer.from('b'), false),
      l.append(all, Buffer.from('c'), true),
    ]).toEqual([1, 2, 3]);
    expect(l.since(l.epoch, 1)!.map((e) => e.offset)).toEqual([2, 3]);
    expect(l.since(l.epoch, 3)).toEqual([]);
    expect(l.since(l.epoch, 0)!.map((e) => String(e.data))).toEqual(['a', 'b', 'c']);
  });

  it('answers null, never a partial list, once something after the offset was trimmed', () => {
    const l = log({ maxMessages: 3 });
    for (let i = 0; i < 5; i++) l.append(all, Buffer.from(`m${i}`), false);
    expect(l.first).toBe(3);
    expect(l.since(l.epoch, 1)).toBeNull();
    expect(l.since(l.epoch, 2)!.map((e) => e.offset)).toEqual([3, 4, 5]);
  });

  it('still answers a position at the end after every entry was trimmed', () => {
    const l = log({ maxMessages: 2 });
    for (let i = 0; i < 10; i++) l.append(all, Buffer.from('x'), false);
    expect(l.since(l.epoch, 10)).toEqual([]);
  });

  it('trims by bytes and by age', () => {
    const bytes = log({ maxBytes: 10 });
    bytes.append(all, Buffer.from('aaaaaa'), false);
    bytes.append(all, Buffer.from('bbbbbb'), false);
    expect(bytes.size).toBe(1);
    expect(bytes.bytes).toBe(6);
    const age = log({ maxAge: -1 });
    age.append(all, Buffer.from('old'), false);
    expect(age.size).toBe(0);
  });

  it('refuses another epoch and a position beyond its end', () => {
    const l = log();
    l.append(all, Buffer.from('a'), false);
    expect(l.since('other', 0)).toBeNull();
    expect(l.since(l.epoch, 2)).toBeNull();
    expect(log().epoch).not.toBe(l.epoch);
  });

  it('stays correct across compaction of a long run', () => {
    const l = log({ maxMessages: 100 });
    for (let i = 0; i < 5000; i++) l.append(all, Buffer.from(String(i)), false);
    expect(l.since(l.epoch, 4950)!.map((e) => String(e.data))).toEqual(
      Array.from({ length: 50 }, (_, i) => String(4950 + i)),
    );
    expect(l.since(l.epoch, 4899)).toBeNull();
  });
});
