import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBalancer } from '../support/balancer.js';
import { land } from '../support/client.js';
import { childProcesses, startCluster } from '../support/cluster.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { alive, spawnScript } from '../support/processes.js';
import { connectWs as connect } from '../support/server-fixtures.js';
import { waitFor, waitForEvent } from '../support/wait.js';

const ECHO = 'test/support/cluster-echo.mjs';
const HEARTLINE = 'test/support/cluster-heartline.ts';

async function refused(port: number): Promise<string | undefined> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });
}

describe('startCluster', () => {
  it('starts each node in its own process on its own port', async () => {
    const cluster = await startCluster({ nodes: 3, factory: ECHO });
    expect(cluster.nodes.map((n) => n.index)).toEqual([0, 1, 2]);
    expect(new Set(cluster.ports).size).toBe(3);
    expect(new Set(cluster.nodes.map((n) => n.pid)).size).toBe(3);
    for (const node of cluster.nodes) {
      expect(node.running).toBe(true);
      expect(node.pid).not.toBe(process.pid);
      expect(node.url).toBe(`ws://127.0.0.1:${node.port}`);
      expect((await land(node.url)).node).toBe(`node ${node.index}`);
    }
  });

  it('gives each node its options and env, and answers commands', async () => {
    const cluster = await startCluster({
      nodes: 2,
      factory: ECHO,
      options: (index: number) => ({ prefix: `p${index}` }),
      env: { HEARTLINE_TEST_VALUE: 'from the parent' },
    });
    const [first, second] = cluster.nodes;
    expect(await first!.command({ type: 'options' })).toEqual({ prefix: 'p0' });
    expect(await second!.command({ type: 'options' })).toEqual({ prefix: 'p1' });
    expect(await second!.command({ type: 'env', name: 'HEARTLINE_TEST_VALUE' })).toBe(
      'from the parent',
    );
    await land(first!.url);
    expect(await first!.command({ type: 'clients' })).toBe(1);
    await expect(first!.command({ type: 'nonsense' })).rejects.toThrow(
      /node-0: Error: unknown command/,
    );
  });

  it('crashes a node with kill(), and restarts it on the same port', async () => {
    const cluster = await startCluster({ nodes: 2, factory: ECHO });
    const node = cluster.nodes[1]!;
    const { port, pid } = node;
    const { ws } = await land(node.url);
    const closed = waitForEvent(ws, 'close');

    expect(await node.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await closed).toBe(1006);
    expect(node.running).toBe(false);
    expect(node.pid).toBe(-1);
    expect(alive(pid)).toBe(false);
    expect(await refused(port)).toBe('ECONNREFUSED');
    await expect(node.command({ type: 'clients' })).rejects.toThrow(/node-1 is not running/);

    await node.restart();
    expect(node.port).toBe(port);
    expect(node.pid).not.toBe(pid);
    expect((await land(node.url)).node).toBe('node 1');
    // The other node never noticed.
    expect((await land(cluster.nodes[0]!.url)).node).toBe('node 0');
  });

  it("stops a node gracefully on SIGTERM: its server's close() runs", async () => {
    const cluster = await startCluster({ nodes: 1, factory: ECHO });
    const node = cluster.nodes[0]!;
    const { ws } = await land(node.url);
    const closed = waitForEvent(ws, 'close');
    expect(await node.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await closed).toBe(1001);
  });

  it('restarts a running node with a graceful stop first', async () => {
    const cluster = await startCluster({ nodes: 1, factory: ECHO });
    const node = cluster.nodes[0]!;
    const { ws } = await land(node.url);
    const closed = waitForEvent(ws, 'close');
    const exited = node.exited;
    await node.restart();
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(await closed).toBe(1001);
    expect((await land(node.url)).node).toBe('node 0');
  });

  it('ends a node whose close() hangs after closeTimeout, with code 1', async () => {
    const cluster = await startCluster({
      nodes: 1,
      factory: ECHO,
      options: { hangOnClose: true },
      closeTimeout: 200,
    });
    const started = performance.now();
    expect(await cluster.nodes[0]!.kill('SIGTERM')).toEqual({ code: 1, signal: null });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('rejects with the error of a factory that fails or cannot be found', async () => {
    const factory = path.join(os.tmpdir(), `heartline-failing-factory-${process.pid}.mjs`);
    onTestFinished(() => rmSync(factory, { force: true }));
    writeFileSync(
      factory,
      "export default async () => { throw new Error('no Redis at that URL'); };\n",
    );
    await expect(startCluster({ nodes: 2, factory })).rejects.toThrow(
      /node-\d: the server factory failed: Error: no Redis at that URL/,
    );
    await expect(startCluster({ nodes: 1, factory: 'test/support/no-such.mjs' })).rejects.toThrow(
      /Cannot find module/,
    );
  });

  it('runs a TypeScript factory under tsx: a HeartlineServer from src/', async () => {
    const cluster = await startCluster({ nodes: 2, factory: HEARTLINE });
    const [a, b] = cluster.nodes;
    const ws = connect(a!.url);
    await waitForEvent(ws, 'open');
    const echo = waitForEvent<Buffer>(ws, 'message');
    ws.send('hello');
    expect((await echo).toString()).toBe('hello');

    const broadcast = waitForEvent<Buffer>(ws, 'message');
    expect(await a!.command({ type: 'broadcast', text: 'to everyone on node 0' })).toBe(1);
    expect((await broadcast).toString()).toBe('to everyone on node 0');
    // Without a shared engine, node 1 has no clients of its own.
    expect(await b!.command({ type: 'clients' })).toBe(0);
  });

  it('moves a client to another node through fault proxy → balancer → cluster', async () => {
    const cluster = await startCluster({ nodes: 3, factory: ECHO });
    const balancer = await startBalancer(cluster.ports, { mode: 'avoid-previous' });
    const proxy = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.6' });
    const first = await land(proxy.url);

    // Crash that node: the client's reconnect lands on a live one, and never the same.
    const index = Number(first.node.split(' ')[1]);
    const closed = waitForEvent(first.ws, 'close');
    await cluster.nodes[index]!.kill();
    expect(await closed).toBe(1006);
    const second = await land(proxy.url);
    expect(second.node).not.toBe(first.node);

    await cluster.nodes[index]!.restart();
    proxy.reset();
    const third = await land(proxy.url);
    expect(third.node).not.toBe(second.node);
  });

  it('kills every node on close(), idempotently', async () => {
    const cluster = await startCluster({ nodes: 2, factory: ECHO });
    const pids = cluster.nodes.map((n) => n.pid);
    await Promise.all([cluster.close(), cluster.close()]);
    await cluster.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(cluster.nodes[0]!.restart()).rejects.toThrow(/the cluster is closed/);
  });

  it('leaves no node behind when the process that started it is SIGKILLed', async () => {
    const script = [
      "const { startCluster } = await import('./test/support/cluster.ts');",
      `const cluster = await startCluster({ nodes: 2, factory: '${ECHO}' });`,
      'console.log(JSON.stringify(cluster.nodes.map((n) => n.pid)));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const { child, first: pids } = await spawnScript<number[]>(script);
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await waitFor(() => !pids.some(alive), {
      timeout: 5_000,
      message: 'the orphaned nodes to exit',
    });
  });

  it('leaves no node process of this test file running', () => {
    // Every cluster started above closed itself when its test finished.
    const nodes = childProcesses().filter((p) => p.command.includes('cluster-node.mjs'));
    expect(nodes).toEqual([]);
  });
});
