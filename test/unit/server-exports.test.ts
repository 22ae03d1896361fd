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
