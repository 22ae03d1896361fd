import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { HeartlineServer, ServerClient } from '../../src/server/index.js';
import { connectWs, startHeartline } from '../support/server-fixtures.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

async function join(
  server: HeartlineServer,
  url: string,
  count: number,
): Promise<{ sockets: WebSocket[]; clients: ServerClient[]; inboxes: string[][] }> {
  const sockets: WebSocket[] = [];
  const clients: ServerClient[] = [];
  const inboxes: string[][] = [];
  for (let i = 0; i < count; i++) {
    const connected = waitForEvent<ServerClient>(server, 'connection');
    const ws = connectWs(url);
    const inbox: string[] = [];
    ws.on('message', (data) => inbox.push(String(data)));
    await waitForEvent(ws, 'open');
    sockets.push(ws);
    clients.push(await connected);
    inboxes.push(inbox);
  }
  return { sockets, clients, inboxes };
}

describe('HeartlineServer rooms', () => {
  it('sends to the members of a room, except whom it is told to skip', async () => {
    const { server, url } = await startHeartline();
    const { clients, inboxes } = await join(server, url, 3);
    clients[0]!.join('r');
    clients[1]!.join('r');
    server.to('r').send('to r');
    server.to('r').send('not to 0', { except: clients[0]! });
    // A barrier: each socket receives in order, so once it has this, it has everything before.
    server.broadcast('barrier');
    await waitFor(() => inboxes.every((inbox) => inbox.at(-1) === 'barrier'));
    expect(inboxes).toEqual([['to r', 'barrier'], ['to r', 'not to 0', 'barrier'], ['barrier']]);
  });

  it('sends once to a client in several of the target rooms', async () => {
    const { server, url } = await startHeartline();
    const { clients, inboxes } = await join(server, url, 2);
    clients[0]!.join('a').join('b');
    clients[1]!.join('b');
    expect(server.to('a').to('b').size).toBe(2);
    server.to(['a', 'b']).send('once');
    server.broadcast('barrier');
    await waitFor(() => inboxes.every((inbox) => inbox.at(-1) === 'barrier'));
    expect(inboxes).toEqual([
      ['once', 'barrier'],
      ['once', 'barrier'],
    ]);
  });

  it('broadcasts to everyone, except whom it is told to skip', async () => {
    const { server, url } = await startHeartline();
    const { clients, inboxes } = await join(server, url, 3);
    server.broadcast('all');
    server.broadcast('not 1 or 2', { except: [clients[1]!, clients[2]!] });
    await waitFor(
      () => inboxes.every((inbox) => inbox.includes('all')) && inboxes[0]!.length === 2,
    );
    expect(inboxes).toEqual([['all', 'not 1 or 2'], ['all'], ['all']]);
  });

  it('lists members, counts them and forgets empty rooms', async () => {
    const { server, url } = await startHeartline();
    const { sockets, clients } = await join(server, url, 2);
    clients[0]!.join('x');
    clients[1]!.join('x').join('y');
    expect(server.rooms().sort()).toEqual(['x', 'y']);
    expect(server.to('x').members()).toEqual([clients[0], clients[1]]);
    expect(server.to('y').size).toBe(1);
    expect([...clients[1]!.rooms]).toEqual(['x', 'y']);
    clients[1]!.leave('y');
    expect(server.rooms()).toEqual(['x']);
    sockets[0]!.close();
    sockets[1]!.close();
    await waitFor(() => server.clients.size === 0);
    expect(server.rooms()).toEqual([]);
    expect(server.stats().rooms).toBe(0);
  });

  it('delivers one broadcast to 200 members and counts its bytes per recipient', async () => {
    const { server, url } = await startHeartline();
    const sockets = Array.from({ length: 200 }, () => connectWs(url));
    await Promise.all(sockets.map((ws) => waitForEvent(ws, 'open')));
    await waitFor(() => server.clients.size === 200);
    for (const client of server.clients.values()) client.join('big');
    const received = sockets.map((ws) => collect<Buffer>(ws, 'message'));
    const before = server.stats().bytesOut;
    const payload = JSON.stringify({ type: 'tick', data: 'x'.repeat(1_000) });
    server.to('big').send(payload);
    await waitFor(() => received.every((r) => r.events.length === 1));
    expect(received.every((r) => String(r.events[0]) === payload)).toBe(true);
    expect(server.stats().bytesOut - before).toBe(200 * Buffer.byteLength(payload));
  });

  it('rejects a room name that is not a non-empty string', async () => {
    const { server, url } = await startHeartline();
    const { clients } = await join(server, url, 1);
    expect(() => clients[0]!.join('')).toThrow('Expected `room` to be a non-empty string, got ""');
    expect(() => server.to(['a', 3 as never])).toThrow(
      'Expected `room[1]` to be a non-empty string, got 3',
    );
  });
});
