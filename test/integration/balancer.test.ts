import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBalancer } from '../support/balancer.js';
import { land } from '../support/client.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { connectWs as connect } from '../support/server-fixtures.js';
import { startServer, type TestServer } from '../support/servers.js';
import { waitFor, waitForEvent } from '../support/wait.js';

/** `count` echo servers that greet every connection with their name: "node 0", "node 1"… */
async function startNodes(count: number): Promise<TestServer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startServer({ onConnection: (socket) => socket.send(`node ${i}`) }),
    ),
  );
}

async function landMany(url: string, count: number): Promise<string[]> {
  const nodes: string[] = [];
  for (let i = 0; i < count; i++) nodes.push((await land(url)).node);
  return nodes;
}

describe('startBalancer', () => {
  it('gives each new connection to the next target in turn', async () => {
    const nodes = await startNodes(3);
    const balancer = await startBalancer(nodes.map((n) => n.port));
    expect(balancer.url).toBe(`ws://127.0.0.1:${balancer.port}`);
    expect(balancer.targets).toEqual(nodes.map((n) => n.port));

    expect(await landMany(balancer.url, 6)).toEqual([
      'node 0',
      'node 1',
      'node 2',
      'node 0',
      'node 1',
      'node 2',
    ]);
    for (const node of nodes) {
      expect(balancer.counts.get(node.port)).toBe(2);
      expect(balancer.live.get(node.port)).toBe(2);
    }
  });

  it('copies frames both ways and counts a closed connection out of `live`', async () => {
    const [node] = await startNodes(1);
    const balancer = await startBalancer([node!.port]);
    const { ws } = await land(balancer.url);
    const echo = waitForEvent<Buffer>(ws, 'message');
    ws.send('through');
    expect((await echo).toString()).toBe('through');

    ws.close();
    await waitForEvent(ws, 'close');
    await waitFor(() => balancer.live.get(node!.port) === 0, { message: 'live to drop to 0' });
    expect(balancer.counts.get(node!.port)).toBe(1);
  });

  it('skips a target that refuses, and resets the client when all refuse', async () => {
    const nodes = await startNodes(3);
    const balancer = await startBalancer(nodes.map((n) => n.port));
    await nodes[1]!.stop();
    expect(await landMany(balancer.url, 3)).toEqual(['node 0', 'node 2', 'node 2']);
    expect(balancer.counts.get(nodes[1]!.port)).toBeUndefined();

    await Promise.all(nodes.map((n) => n.stop()));
    const refused = connect(balancer.url);
    const error = await waitForEvent<Error>(refused, 'error');
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
  });

  it('resets the client at the first refusal with failover: false', async () => {
    const nodes = await startNodes(2);
    const balancer = await startBalancer(
      nodes.map((n) => n.port),
      { failover: false },
    );
    await nodes[0]!.stop();
    const refused = connect(balancer.url);
    const error = await waitForEvent<Error>(refused, 'error');
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
    expect((await land(balancer.url)).node).toBe('node 1');
  });

  it('sends new connections to the new targets after setTargets(), and keeps current ones', async () => {
    const nodes = await startNodes(3);
    const balancer = await startBalancer(nodes.map((n) => n.port));
    const first = await land(balancer.url);
    expect(first.node).toBe('node 0');

    balancer.setTargets([nodes[1]!.port, nodes[2]!.port]);
    expect(await landMany(balancer.url, 4)).toEqual(['node 1', 'node 2', 'node 1', 'node 2']);
    const echo = waitForEvent<Buffer>(first.ws, 'message');
    first.ws.send('still on node 0');
    expect((await echo).toString()).toBe('still on node 0');
    expect(() => balancer.setTargets([])).toThrow(/Expected `ports` to be a non-empty list/);
  });

  it('rejects an unknown mode', async () => {
    await expect(
      startBalancer([1], { mode: 'random' as unknown as 'round-robin' }),
    ).rejects.toThrow(/Expected `mode` to be 'round-robin' or 'avoid-previous', got random/);
  });

  describe("mode: 'avoid-previous'", () => {
    it('never gives a connection the target of the one before it, from one address', async () => {
      const nodes = await startNodes(2);
      const balancer = await startBalancer(
        nodes.map((n) => n.port),
        { mode: 'avoid-previous' },
      );
      // Node 1 refuses once: with failover a round-robin balancer would try node 0 again.
      expect((await land(balancer.url)).node).toBe('node 0');
      await nodes[1]!.stop();
      const refused = connect(balancer.url);
      const error = await waitForEvent<Error>(refused, 'error');
      expect(error.message).toMatch(/ECONNRESET|socket hang up/);
      await nodes[1]!.start();
      expect(await landMany(balancer.url, 3)).toEqual(['node 1', 'node 0', 'node 1']);
    });

    it('tells clients apart by the loopback address of their fault proxy', async () => {
      const nodes = await startNodes(2);
      const ports = nodes.map((n) => n.port);
      const roundRobin = await startBalancer(ports);
      const avoiding = await startBalancer(ports, { mode: 'avoid-previous' });

      for (const [balancer, expected] of [
        [roundRobin, 'node 0'],
        [avoiding, 'node 1'],
      ] as const) {
        const a = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.2' });
        const b = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.3' });
        expect((await land(a.url)).node).toBe('node 0');
        expect((await land(b.url)).node).toBe('node 1');
        // Client A again: round-robin sends it back to node 0, avoid-previous to node 1.
        expect((await land(a.url)).node).toBe(expected);
      }
    });

    it('moves every reconnect of a client behind its fault proxy to another node', async () => {
      const nodes = await startNodes(3);
      const balancer = await startBalancer(
        nodes.map((n) => n.port),
        { mode: 'avoid-previous' },
      );
      const proxy = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.4' });
      const other = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.5' });
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { ws, node } = await land(proxy.url);
        seen.push(node);
        // Another client connects in between, moving the round-robin cursor.
        await land(other.url);
        const closed = waitForEvent(ws, 'close');
        proxy.reset();
        expect(await closed).toBe(1006);
      }
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    });
  });

  describe('client → fault proxy → balancer → nodes', () => {
    it('carries a reset of the fault proxy through the balancer to the node', async () => {
      const nodes = await startNodes(2);
      const balancer = await startBalancer(nodes.map((n) => n.port));
      const proxy = await startFaultProxy({ port: balancer.port });
      const accepted = nodes[0]!.nextConnection();
      const { ws, node } = await land(proxy.url);
      expect(node).toBe('node 0');
      const { socket } = await accepted;

      const serverClose = waitForEvent(socket, 'close', { timeout: 1000 });
      const clientClose = waitForEvent(ws, 'close', { timeout: 1000 });
      proxy.reset();
      expect(await clientClose).toBe(1006);
      expect(await serverClose).toBe(1006);
      await waitFor(() => balancer.live.get(nodes[0]!.port) === 0, {
        message: 'the balancer to drop the link',
      });
    });

    it('keeps a blackholed link open on its node while the reconnect lands on another', async () => {
      const nodes = await startNodes(2);
      const balancer = await startBalancer(
        nodes.map((n) => n.port),
        { mode: 'avoid-previous' },
      );
      const proxy = await startFaultProxy({ port: balancer.port });
      const accepted = nodes[0]!.nextConnection();
      await land(proxy.url);
      const { socket } = await accepted;

      proxy.blackhole();
      const again = await land(proxy.url);
      expect(again.node).toBe('node 1');
      expect(socket.readyState).toBe(WebSocket.OPEN);
      expect(balancer.live.get(nodes[0]!.port)).toBe(1);
      expect(balancer.live.get(nodes[1]!.port)).toBe(1);
    });
  });

  describe('Balancer#close', () => {
    it('closes every connection and the listener, and is idempotent', async () => {
      const [node] = await startNodes(1);
      const balancer = await startBalancer([node!.port]);
      const { ws } = await land(balancer.url);
      const closed = waitForEvent(ws, 'close', { timeout: 1000 });
      await Promise.all([balancer.close(), balancer.close()]);
      await balancer.close();
      expect(await closed).toBe(1006);
      const refused = connect(balancer.url);
      const error = await waitForEvent<NodeJS.ErrnoException>(refused, 'error');
      expect(error.code).toBe('ECONNREFUSED');
    });
  });
});
