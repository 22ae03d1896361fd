import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../src/server/client/outgoing-message.js';
import { type LogEntry, MemoryReplayLog } from '../../src/server/engine/replay-log.js';

const all = { kind: 'all' } as const;
const log = (o: Partial<{ maxMessages: number; maxBytes: number; maxAge: number }> = {}) =>
  new MemoryReplayLog({ maxMessages: 1000, maxBytes: 1 << 20, maxAge: 60_000, ...o });
const any = (_: LogEntry) => true;
const texts = (read: { entries: { data: Buffer }[] } | null) =>
  read?.entries.map((m) => m.data.toString());

describe('MemoryReplayLog', () => {
  it('numbers entries from 1, sets their offset, and reads those after an offset in order', () => {
    const l = log();
    const messages = ['a', 'b', 'c'].map((t) => prepareMessage(t));
    expect(messages.map((m) => l.append(all, m))).toEqual([1, 2, 3]);
    expect(messages.map((m) => m.offset)).toEqual([1, 2, 3]);
    expect(texts(l.read(1, 10, any))).toEqual(['b', 'c']);
    expect(l.read(3, 10, any)).toEqual({ entries: [], scanned: 3 });
    expect(texts(l.read(0, 10, any))).toEqual(['a', 'b', 'c']);
  });

  it('returns the very message that was sent live, never a copy', () => {
    const l = log();
    const message = prepareMessage('shared');
    l.append(all, message);
    expect(l.read(0, 1, any)!.entries[0]).toBe(message);
  });

  it('reads in bounded batches, filtered, and says how far it scanned', () => {
    const l = log();
    for (let i = 1; i <= 10; i++) l.append(all, prepareMessage(String(i)));
    const even = (e: LogEntry) => e.offset % 2 === 0;
    expect(l.read(0, 2, even)).toMatchObject({ scanned: 4 });
    expect(texts(l.read(4, 2, even))).toEqual(['6', '8']);
    expect(l.read(0, 10, even, 3)).toMatchObject({ scanned: 3 }); // the scan budget
  });

  it('answers null, never a partial read, once something after the offset was trimmed', () => {
    const l = log({ maxMessages: 3 });
    for (let i = 0; i < 5; i++) l.append(all, prepareMessage(`m${i}`));
    expect(l.first).toBe(3);
    expect(l.read(1, 10, any)).toBeNull();
    expect(l.read(2, 10, any)!.entries.map((m) => m.offset)).toEqual([3, 4, 5]);
  });

  it('still answers a position at the end after every entry was trimmed', () => {
    const l = log({ maxMessages: 2 });
    for (let i = 0; i < 10; i++) l.append(all, prepareMessage('x'));
    expect(l.read(10, 10, any)).toEqual({ entries: [], scanned: 10 });
  });

  it('trims by bytes and by age', () => {
    const bytes = log({ maxBytes: 10 });
    bytes.append(all, prepareMessage('aaaaaa'));
    bytes.append(all, prepareMessage('bbbbbb'));
    expect(bytes.size).toBe(1);
    expect(bytes.bytes).toBe(6);
    const age = log({ maxAge: -1 });
    age.append(all, prepareMessage('old'));
    expect(age.size).toBe(0);
  });

  it('has a random epoch per log', () => {
    expect(log().epoch).not.toBe(log().epoch);
  });

  it('stays correct across compaction of a long run', () => {
    const l = log({ maxMessages: 100 });
    for (let i = 0; i < 5000; i++) l.append(all, prepareMessage(String(i)));
    expect(texts(l.read(4950, 100, any))).toEqual(
      Array.from({ length: 50 }, (_, i) => String(4950 + i)),
    );
    expect(l.read(4899, 100, any)).toBeNull();
  });
});
