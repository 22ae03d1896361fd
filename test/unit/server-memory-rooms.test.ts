import { describe, expect, it } from 'vitest';
import { MemoryRooms } from '../../src/server/engine/memory-rooms.js';

describe('MemoryRooms', () => {
  it('keeps rooms and memberships in step and deletes empty rooms', () => {
    const rooms = new MemoryRooms();
    expect(rooms.join('a', 'r1')).toBe(true);
    expect(rooms.join('a', 'r1')).toBe(false);
    rooms.join('a', 'r2');
    rooms.join('b', 'r1');
    expect([...rooms.members('r1')]).toEqual(['a', 'b']);
    expect([...rooms.roomsOf('a')]).toEqual(['r1', 'r2']);
    expect(rooms.roomCount).toBe(2);
    expect(rooms.leave('a', 'r2')).toBe(true);
    expect(rooms.leave('a', 'r2')).toBe(false);
    expect([...rooms.rooms()]).toEqual(['r1']);
    rooms.leaveAll('a');
    rooms.leaveAll('b');
    expect(rooms.roomCount).toBe(0);
    expect(rooms.roomsOf('a').size).toBe(0);
    expect(rooms.members('r1').size).toBe(0);
  });

  it('visits every member of several rooms once, but not the excepted', () => {
    const rooms = new MemoryRooms();
    rooms.join('a', 'r1');
    rooms.join('b', 'r1');
    rooms.join('b', 'r2');
    rooms.join('c', 'r2');
    const seen: string[] = [];
    rooms.forEachMember(['r1', 'r2'], new Set(['c']), (id) => seen.push(id));
    expect(seen).toEqual(['a', 'b']);
    const one: string[] = [];
    rooms.forEachMember(['r2'], undefined, (id) => one.push(id));
    expect(one).toEqual(['b', 'c']);
  });
});
