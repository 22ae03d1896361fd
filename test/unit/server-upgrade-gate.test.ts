import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/server/options.js';
import { checkCapacity, checkUpgrade, pathOf } from '../../src/server/upgrade/upgrade-gate.js';

const request = (url: string, headers: Record<string, string> = {}) =>
  ({ url, headers: { host: 'app.example.com', ...headers } }) as unknown as IncomingMessage;

describe('checkUpgrade', () => {
  const options = resolveOptions({
    noServer: true,
    path: '/ws',
    origins: ['https://app.example.com'],
    protocols: ['chat.v1'],
  });

  it('answers in the order a client should hear: path 404, origin 403, protocol 400', () => {
    const wrong = { origin: 'https://evil.example', 'sec-websocket-protocol': 'mqtt' };
    expect(checkUpgrade(request('/other', wrong), options)).toMatchObject({ status: 404 });
    expect(checkUpgrade(request('/ws?x=1', wrong), options)).toMatchObject({ status: 403 });
    expect(
      checkUpgrade(request('/ws', { ...wrong, origin: 'https://app.example.com' }), options),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/Unsupported sub-protocol/) });
  });

  it('accepts a good request with the protocol to answer and the app protocol', () => {
    const ok = checkUpgrade(
      request('/ws', { origin: 'https://app.example.com', 'sec-websocket-protocol': 'chat.v1' }),
      options,
    );
    expect(ok).toEqual({ ok: true, protocol: 'chat.v1', appProtocol: 'chat.v1' });
  });

  it('accepts a request with no Origin by default and refuses it with allowMissingOrigin: false', () => {
    expect(checkUpgrade(request('/ws'), options)).toMatchObject({ ok: true });
    const strict = resolveOptions({ noServer: true, allowMissingOrigin: false });
    expect(checkUpgrade(request('/'), strict)).toMatchObject({
      ok: false,
      status: 403,
      message: expect.stringMatching(/Missing Origin/),
    });
  });

  it('selects heartline.v1 on the wire with sessions on, and the app protocol beside it', () => {
    const offer = { 'sec-websocket-protocol': 'chat.v1, heartline.v1' };
    expect(checkUpgrade(request('/ws', offer), options)).toEqual({
      ok: true,
      protocol: 'heartline.v1',
      appProtocol: 'chat.v1',
    });
  });

  it('reads the path without its query', () => {
    expect(pathOf(request('/ws?token=abc'))).toBe('/ws');
  });
});

describe('checkCapacity', () => {
  const load = {
    running: true,
    drainRetryAfter: 0,
    connections: 0,
    pending: 0,
    limit: 10,
    retryAfter: 5_000,
  };

  it('lets an upgrade through below the cap', () => {
    expect(checkCapacity(load)).toBeUndefined();
  });

  it('counts links in their handshake against the cap', () => {
    expect(checkCapacity({ ...load, connections: 6, pending: 4 })).toEqual({
      ok: false,
      status: 503,
      message: 'Too many connections',
      headers: { 'Retry-After': '5' },
    });
  });

  it('answers 503 with the drain hint, in whole seconds and at least 1, while draining', () => {
    expect(checkCapacity({ ...load, running: false, drainRetryAfter: 1_200 })).toMatchObject({
      status: 503,
      message: 'Server is shutting down',
      headers: { 'Retry-After': '2' },
    });
    expect(checkCapacity({ ...load, running: false })).toMatchObject({
      headers: { 'Retry-After': '1' },
    });
  });
});
