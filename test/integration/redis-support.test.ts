import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { expect, it, onTestFinished } from 'vitest';
import { childProcesses } from '../support/cluster.js';
import { alive, spawnScript } from '../support/processes.js';
import { describeRedis, redisServerPath, startRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** A node-redis client that is destroyed when the test finishes. */
async function connect(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  onTestFinished(() => {
    if (client.isOpen) client.destroy();
  });
  await client.connect();
  return client;
}

/** The state letter of /proc/<pid>/stat: R, S, T (stopped)… */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

describeRedis('startRedis', (suite) => {
  it('answers node-redis on its unix socket, with no TCP listener by default', async () => {
    const { redis } = suite;
    expect(redis.port).toBeUndefined();
    expect(redis.url).toBe(`unix://${redis.socketPath}`);
    expect(redis.pid).toBeGreaterThan(0);
    expect(redis.running).toBe(true);
    const client = await connect(redis.url);
    expect(await client.ping()).toBe('PONG');
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    // Nothing on disk, and no TCP port configured.
    expect(await client.configGet('save')).toEqual({ save: '' });
    expect(await client.configGet('appendonly')).toEqual({ appendonly: 'no' });
    expect(await client.configGet('port')).toEqual({ port: '0' });
  });

  it('answers ioredis on the socket path', async () => {
    const client = new Redis({ path: suite.redis.socketPath, lazyConnect: true });
    onTestFinished(() => client.disconnect());
    await client.connect();
    expect(await client.ping()).toBe('PONG');
  });

  it('runs one command on a fresh connection with command()', async () => {
    const { redis } = suite;
    expect(await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')).toBe('OK');
    // node-redis 6 speaks RESP3: CONFIG GET answers a map.
    expect(await redis.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual({
      'maxmemory-policy': 'noeviction',
    });
    const started = performance.now();
    expect(await redis.command('DEBUG', 'SLEEP', '0.1')).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it("kills subscribers with command('CLIENT', 'KILL', 'TYPE', 'pubsub')", async () => {
    const subscriber = await connect(suite.redis.url);
    const lost = new Promise<Error>((resolve) => subscriber.once('error', resolve));
    await subscriber.subscribe('news', () => {});
    expect(await suite.redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(1);
    expect((await lost).message).toMatch(/closed unexpectedly/i);
    expect(subscriber.isOpen).toBe(false);
  });
});

describeRedis(
  'startRedis, one server per test',
  () => {
    it('listens on a free TCP port on 127.0.0.1 with tcp: true', async () => {
      const redis = await startRedis({ tcp: true });
      expect(redis.port).toBeGreaterThan(0);
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      const client = await connect(redis.url);
      expect(await client.ping()).toBe('PONG');
      const viaPort = new Redis(redis.port!, '127.0.0.1', { lazyConnect: true });
      onTestFinished(() => viaPort.disconnect());
      await viaPort.connect();
      expect(await viaPort.ping()).toBe('PONG');
    });

    it('is down after kill() and comes back empty on the same socket and port', async () => {
      const redis = await startRedis({ tcp: true });
      const { port, socketPath, pid } = redis;
      const client = await connect(redis.url);
      await client.set('k', 'v');

      const exit = await redis.kill();
      expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
      expect(redis.running).toBe(false);
      expect(redis.pid).toBe(-1);
      expect(alive(pid)).toBe(false);
      const refused = net.connect({ port: port!, host: '127.0.0.1' });
      const error = await new Promise<NodeJS.ErrnoException>((resolve) =>
        refused.once('error', resolve),
      );
      expect(error.code).toBe('ECONNREFUSED');

      await redis.restart();
      expect(redis.port).toBe(port);
      expect(redis.socketPath).toBe(socketPath);
      expect(redis.pid).not.toBe(pid);
      const again = await connect(redis.url);
      expect(await again.dbSize()).toBe(0);
      expect(await again.get('k')).toBeNull();
    });

    it('shuts down cleanly on SIGTERM', async () => {
      const redis = await startRedis();
      expect(await redis.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(redis.log.some((line) => /ready to exit, bye bye/.test(line))).toBe(true);
    });

    it("keeps acknowledged writes across a SIGKILL with persistence: 'aof'", async () => {
      const redis = await startRedis({ persistence: 'aof' });
      const client = await connect(redis.url);
      for (let i = 0; i < 100; i++) await client.incr('counter');
      client.destroy();
      await redis.kill('SIGKILL');
      await redis.restart();
      const again = await connect(redis.url);
      expect(await again.get('counter')).toBe('100');
    });

    it('answers nothing while paused, and everything after resume()', async () => {
      const redis = await startRedis();
      const client = await connect(redis.url);
      redis.pause();
      await waitFor(() => processState(redis.pid) === 'T', { message: 'Redis to be stopped' });
      let answeredAt = 0;
      const reply = client.ping().then((pong) => {
        answeredAt = performance.now();
        return pong;
      });
      // Stopped (state T) before the PING was sent: no reply can come before resume().
      const resumedAt = performance.now();
      redis.resume();
      expect(await reply).toBe('PONG');
      expect(answeredAt).toBeGreaterThanOrEqual(resumedAt);
    });

    it('kills its server and removes its directory on close(), idempotently', async () => {
      const redis = await startRedis();
      const { pid, socketPath } = redis;
      await Promise.all([redis.close(), redis.close()]);
      await redis.close();
      expect(alive(pid)).toBe(false);
      expect(existsSync(path.dirname(socketPath))).toBe(false);
    });

    it('leaves no redis-server behind when its process is SIGKILLed', async () => {
      // A separate Node process starts Redis, prints its pid, and is then killed without warning.
      const script = [
        "const { startRedis } = await import('./test/support/redis.ts');",
        'const redis = await startRedis();',
        'console.log(JSON.stringify({ pid: redis.pid, socketPath: redis.socketPath }));',
        'setInterval(() => {}, 1000);',
      ].join('\n');
      const { child, first: started } = await spawnScript<{ pid: number; socketPath: string }>(
        script,
      );
      expect(alive(started.pid)).toBe(true);
      child.kill('SIGKILL');
      await waitFor(() => !alive(started.pid), {
        timeout: 5_000,
        message: 'the orphaned redis-server to be killed by its guard',
      });
    });

    it('fails loudly when there is no redis-server', async () => {
      const saved = process.env.REDIS_SERVER;
      process.env.REDIS_SERVER = '/nonexistent/redis-server';
      onTestFinished(() => {
        if (saved === undefined) delete process.env.REDIS_SERVER;
        else process.env.REDIS_SERVER = saved;
      });
      expect(redisServerPath()).toBeUndefined();
      await expect(startRedis()).rejects.toThrow(/redis-server not found at REDIS_SERVER=/);
    });

    it('leaves no redis-server of this test file running', () => {
      // Every server started above closed itself when its test finished; each ran under a guard
      // shell, a child of this process whose command line names redis-server.
      const guards = childProcesses().filter((p) => p.command.includes('redis-server'));
      expect(guards).toEqual([]);
    });
  },
  { shared: false },
);
