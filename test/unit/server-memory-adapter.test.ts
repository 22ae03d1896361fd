import { describe, expect, it } from 'vitest';
import { type PreparedMessage, prepareMessage } from '../../src/server/client/outgoing-message.js';
import type { AdapterHost } from '../../src/server/engine/engine.js';
import { MemoryAdapter } from '../../src/server/engine/memory-rooms.js';

function setup(ids: string[]) {
  const delivered: { id: string; message: PreparedMessage; volatile: boolean }[] = [];
  const host: AdapterHost = {
    deliver: (id, message, volatile) => delivered.push({ id, message, volatile }),
    clientIds: () => ids,
  };
  return { adapter: new MemoryAdapter(host), delivered };
}

describe('MemoryAdapter', () => {
  it('keeps rooms and memberships in step and deletes empty rooms', () => {
    const { adapter } = setup(['a', 'b']);
    adapter.join('a', 'r1');
    adapter.join('a', 'r2');
    adapter.join('b', 'r1');
    expect([...adapter.members('r1')]).toEqual(['a', 'b']);
    expect([...adapter.roomsOf('a')]).toEqual(['r1', 'r2']);
    expect(adapter.roomCount).toBe(2);
    adapter.leave('a', 'r2');
    expect([...adapter.rooms()]).toEqual(['r1']);
    adapter.leaveAll('a');
    adapter.leaveAll('b');
    expect(adapter.roomCount).toBe(0);
    expect(adapter.roomsOf('a').size).toBe(0);
    expect(adapter.members('r1').size).toBe(0);
  });

  it('hands every recipient the same encoded message, once per client', () => {
    const { adapter, delivered } = setup(['a', 'b', 'c']);
    adapter.join('a', 'r1');
    adapter.join('b', 'r1');
    adapter.join('b', 'r2');
    adapter.join('c', 'r2');
    const message = prepareMessage('hello');
    adapter.broadcast(message, { rooms: ['r1', 'r2'], except: new Set(['c']), volatile: true });
    expect(delivered.map((d) => d.id)).toEqual(['a', 'b']);
    expect(delivered.every((d) => d.message === message && d.message.data === message.data)).toBe(
      true,
    );
    expect(delivered.every((d) => d.volatile)).toBe(true);
  });

  it('broadcasts to every client of the host without rooms', () => {
    const { adapter, delivered } = setup(['a', 'b']);
    adapter.broadcast(prepareMessage(Buffer.from([1])), { volatile: false });
    expect(delivered.map((d) => d.id)).toEqual(['a', 'b']);
    expect(delivered[0]!.message.binary).toBe(true);
  });
});
