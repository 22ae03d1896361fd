import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as server from '../../src/server/index.js';

describe('heartline/server exports', () => {
  it('maps ./server to the Node build for import and require, and the browser condition to a stub', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    // `default`, not `import`: Node >= 20.19 also loads this ES module with require().
    expect(pkg.exports['./server']).toEqual({
      browser: './dist/server-browser.js',
      types: './dist/server/index.d.ts',
      default: './dist/server/index.js',
    });
  });

  it('throws a helpful error when the browser stub is imported', async () => {
    await expect(import('../../src/server-browser.js')).rejects.toThrow(
      /heartline\/server runs on Node.js only .* import \{ HeartlineSocket \} from 'heartline'/,
    );
  });

  it('exports the server, its engines and its errors', () => {
    expect(Object.keys(server).sort()).toEqual(
      [
        'CallbackError',
        'ClientViolationError',
        'CloseCode',
        'DEFAULTS',
        'EngineError',
        'ErrorCode',
        'HeartlineError',
        'HeartlineServer',
        'InvalidOptionError',
        'MemoryEngine',
        'RequestFailedError',
        'RequestLostError',
        'RequestTimeoutError',
        'RequestUnsupportedError',
        'RoomTarget',
        'ServerClient',
        'SocketError',
        'TERMINATION_CAUSES',
        'channels',
        'describeClose',
        'formatRetryAfter',
        'isHeartlineError',
        'memoryEngine',
        'parseRetryAfter',
      ].sort(),
    );
  });
});

describe('heartline/redis exports', () => {
  it('maps ./redis to the Node build, and the browser condition to a stub', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./redis']).toEqual({
      browser: './dist/redis-browser.js',
      types: './dist/redis/index.d.ts',
      default: './dist/redis/index.js',
    });
    // The app brings its own client: neither library is a dependency, both are optional peers.
    expect(pkg.dependencies).not.toHaveProperty('redis');
    expect(pkg.dependencies).not.toHaveProperty('ioredis');
    expect(pkg.peerDependenciesMeta).toEqual({
      redis: { optional: true },
      ioredis: { optional: true },
    });
  });

  it('throws a helpful error when the browser stub is imported', async () => {
    await expect(import('../../src/redis-browser.js')).rejects.toThrow(
      /heartline\/redis runs on Node.js only/,
    );
  });

  it('exports the engine, the emitter and its defaults', async () => {
    const redis = await import('../../src/redis/index.js');
    expect(Object.keys(redis).sort()).toEqual(
      ['HeartlineEmitter', 'REDIS_DEFAULTS', 'RedisEngine', 'redisEngine'].sort(),
    );
  });

  it('names what it expected when the client is not a Redis client', async () => {
    const { redisEngine } = await import('../../src/redis/index.js');
    expect(() => redisEngine({ client: {} })).toThrow(
      /Expected `client` to be a connected node-redis client .* or an ioredis client, got an object/,
    );
    expect(() => redisEngine({ client: undefined })).toThrow(TypeError);
  });
});

describe('docs/server.md, Scaling out', () => {
  it('lists the same redisEngine() defaults as REDIS_DEFAULTS', async () => {
    const { REDIS_DEFAULTS } = await import('../../src/redis/index.js');
    const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Redis'), doc.indexOf('## Writing an engine'));
    const rows = new Map<string, string>();
    for (const m of section.matchAll(/^\| `([\w.]+)` \| ([^|]+) \|/gm))
      rows.set(m[1]!, m[2]!.trim());
    const expected: [string, unknown][] = [
      ['prefix', REDIS_DEFAULTS.prefix],
      ['maxPending.messages', REDIS_DEFAULTS.maxPending.messages],
      ['maxPending.bytes', REDIS_DEFAULTS.maxPending.bytes],
      ['handoffTimeout', REDIS_DEFAULTS.handoffTimeout],
      ['probeInterval', REDIS_DEFAULTS.probeInterval],
    ];
    for (const [name, value] of expected) {
      expect(rows.get(name), name).toBe(
        typeof value === 'string' ? `\`'${value}'\`` : `\`${value}\``,
      );
    }
  });
});
