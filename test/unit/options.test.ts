import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveOptions } from '../../src/client/options.js';

describe('resolveOptions', () => {
  it('returns the defaults, frozen, when given nothing', () => {
    const r = resolveOptions(undefined);
    expect(r.heartbeat).toEqual(DEFAULTS.heartbeat);
    expect(r.reconnect).toEqual(DEFAULTS.reconnect);
    expect(r.outbox).toEqual(DEFAULTS.outbox);
    expect(Object.isFrozen(r) && Object.isFrozen(r.reconnect)).toBe(true);
  });

  it('expands a bare number as the heartbeat interval, and false as off', () => {
    const r = resolveOptions({ heartbeat: 2500 });
    expect(r.heartbeat ? r.heartbeat.interval : 0).toBe(2500);
    expect(r.heartbeat ? r.heartbeat.timeout : 0).toBe(DEFAULTS.heartbeat.timeout);
    expect(resolveOptions({ heartbeat: false, outbox: false }).heartbeat).toBe(false);
  });

  it('keeps the default bounds with outbox: false, for what session mode must keep until acknowledged', () => {
    expect(resolveOptions(undefined)).toMatchObject({ outbox: DEFAULTS.outbox, queue: true });
    expect(resolveOptions({ outbox: false })).toMatchObject({
      outbox: DEFAULTS.outbox,
      queue: false,
    });
    expect(resolveOptions({ outbox: { maxMessages: 5 } }).outbox.maxMessages).toBe(5);
  });

  it('turns reconnect: false into zero retries and no connect timeout, as a WebSocket has', () => {
    expect(resolveOptions({ reconnect: false }).reconnect).toMatchObject({
      maxRetries: 0,
      connectTimeout: 0,
    });
  });

  it('leaves the ping to the platform unless heartbeat.ping is given', () => {
    expect(DEFAULTS.heartbeat.ping).toBeNull();
    expect(resolveOptions(undefined).heartbeat).toMatchObject({ ping: null });
    expect(resolveOptions({ heartbeat: { ping: 'ping' } }).heartbeat).toMatchObject({
      ping: 'ping',
    });
    expect(resolveOptions({ heartbeat: { ping: null } }).heartbeat).toMatchObject({ ping: null });
  });

  it("honors session: 'auto' (the default) and false", () => {
    expect(resolveOptions(undefined).session).toBe('auto');
    expect(resolveOptions({ session: false }).session).toBe(false);
    expect(resolveOptions({ session: 'auto' }).session).toBe('auto');
  });

  it('treats undefined fields as defaults', () => {
    expect(resolveOptions({ reconnect: { minDelay: undefined } }).reconnect.minDelay).toBe(
      DEFAULTS.reconnect.minDelay,
    );
  });

  it.each([
    [
      { heartbeat: { interval: -1 } },
      'Expected `heartbeat.interval` to be an integer from 1 to 2147483647, got -1',
    ],
    [
      { heartbeat: { timeout: '5s' } },
      'Expected `heartbeat.timeout` to be an integer from 1 to 2147483647, got "5s"',
    ],
    [
      { heartbeat: { ping: 42 } },
      'Expected `heartbeat.ping` to be a string, ArrayBuffer, typed array, Blob, function or null, got 42',
    ],
    [
      { reconnect: { minDelay: 1000, maxDelay: 10 } },
      'Expected `reconnect.maxDelay` to be a number >= minDelay (1000), got 10',
    ],
    [
      { reconnect: { maxRetries: 1.5 } },
      'Expected `reconnect.maxRetries` to be an integer >= 0 (or Infinity), got 1.5',
    ],
    [
      { reconnect: { jitter: 'equal' } },
      "Expected `reconnect.jitter` to be one of 'full', 'none', got \"equal\"",
    ],
    [
      { reconnect: { factor: Number.NaN } },
      'Expected `reconnect.factor` to be a finite number from 1 to 1000, got NaN',
    ],
    [
      { outbox: { overflow: 'drop-newest' } },
      "Expected `outbox.overflow` to be one of 'drop-oldest', 'reject', got \"drop-newest\"",
    ],
    [{ outbox: 5 }, 'Expected `outbox` to be an object, got 5'],
    [{ WebSocket: 'ws' }, 'Expected `WebSocket` to be a function, got "ws"'],
    [{ heartbeat: { intervall: 5 } }, 'Unknown option `heartbeat.intervall`'],
    [{ reconect: {} }, 'Unknown option `reconect`'],
    [{ session: 'always' }, 'Expected `session` to be \'auto\' or false, got "always"'],
  ])('rejects %j with a TypeError that names the option', (options, message) => {
    expect(() => resolveOptions(options as never)).toThrow(TypeError);
    expect(() => resolveOptions(options as never)).toThrow(message);
  });
});
