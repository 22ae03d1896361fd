import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CloseMessage, ConnectionMessage, DropMessage } from '../../src/server/index.js';
import { connectWs, startHeartline } from '../support/server-fixtures.js';
import { waitFor, waitForEvent } from '../support/wait.js';

function subscribe<T>(name: string): T[] {
  const seen: T[] = [];
  const listener = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, listener);
  onTestFinished(() => {
    diagnostics.unsubscribe(name, listener);
  });
  return seen;
}

describe('HeartlineServer observability', () => {
  it('publishes connection, drop and close on diagnostics channels', async () => {
    const connections = subscribe<ConnectionMessage>('heartline:server:connection');
    const drops = subscribe<DropMessage>('heartline:server:drop');
    const closes = subscribe<CloseMessage>('heartline:server:close');
    const { server, url } = await startHeartline({ protocols: ['chat'] });
    const ws = connectWs(url, ['chat']);
    await waitForEvent(ws, 'open');
    await waitFor(() => connections.length === 1);
    const [connection] = connections;
    expect(connection).toMatchObject({ protocol: 'chat', remoteAddress: '127.0.0.1' });
    ws.close(4000, 'bye');
    await waitFor(() => drops.length === 1);
    expect(drops[0]).toMatchObject({
      clientId: connection!.clientId,
      code: 4000,
      reason: 'bye',
      cause: 'client_close',
    });
    expect(drops[0]!.duration).toBeGreaterThanOrEqual(0);
    await server.close();
    expect(closes).toEqual([{ drained: 0, terminated: 0 }]);
  });

  it('counts connections, rooms, bytes and terminations by cause in stats()', async () => {
    const { server, url } = await startHeartline();
    server.on('connection', (client) => {
      client.join('r');
      client.on('message', (data) => client.send(`${data}!`));
    });
    const ws = connectWs(url);
    await waitForEvent(ws, 'open');
    ws.send('abc');
    await waitForEvent(ws, 'message');
    expect(server.stats()).toMatchObject({
      connections: 1,
      accepted: 1,
      rooms: 1,
      bytesIn: 3,
      bytesOut: 4,
      messagesIn: 1,
      messagesOut: 1,
    });
    ws.terminate();
    await waitFor(() => server.stats().connections === 0);
    expect(server.stats()).toMatchObject({ rooms: 0, terminations: { connection_lost: 1 } });
  });
});
