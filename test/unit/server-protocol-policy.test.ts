import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  negotiateProtocol,
  parseProtocolHeader,
  resolveProtocolPolicy,
} from '../../src/server/upgrade/protocol-policy.js';

const request = {} as IncomingMessage;

describe('parseProtocolHeader', () => {
  it('splits and trims, and refuses empty elements, non-tokens and repeats', () => {
    expect(parseProtocolHeader(undefined)).toEqual([]);
    expect(parseProtocolHeader('a.v2, a.v1')).toEqual(['a.v2', 'a.v1']);
    expect(parseProtocolHeader('a,,b')).toBeUndefined();
    expect(parseProtocolHeader('a b')).toBeUndefined();
    expect(parseProtocolHeader('a, a')).toBeUndefined();
  });
});

describe('negotiateProtocol', () => {
  const list = resolveProtocolPolicy(['chat.v2', 'chat.v1']);

  it("picks the server's most preferred protocol among those offered", () => {
    expect(negotiateProtocol('chat.v1, chat.v2', list, false, request)).toEqual({
      ok: true,
      protocol: 'chat.v2',
      appProtocol: 'chat.v2',
    });
    expect(negotiateProtocol('x, chat.v1', list, false, request)).toEqual({
      ok: true,
      protocol: 'chat.v1',
      appProtocol: 'chat.v1',
    });
  });

  it('refuses offers of unsupported protocols only, and names both sides', () => {
    const verdict = negotiateProtocol('mqtt', list, false, request);
    expect(verdict).toEqual({
      ok: false,
      message:
        'Unsupported sub-protocol: offered "mqtt"; this server supports "chat.v2", "chat.v1"',
    });
  });

  it('accepts no offer unless a protocol is required', () => {
    expect(negotiateProtocol(undefined, list, false, request)).toEqual({
      ok: true,
      protocol: undefined,
      appProtocol: '',
    });
    expect(negotiateProtocol(undefined, list, true, request)).toMatchObject({ ok: false });
  });

  it('refuses any offer when the server supports none', () => {
    expect(negotiateProtocol('chat', resolveProtocolPolicy([]), false, request)).toMatchObject({
      ok: false,
    });
  });

  it('never echoes a protocol a selector returns that was not offered', () => {
    const rogue = resolveProtocolPolicy(() => 'admin');
    expect(negotiateProtocol('chat', rogue, false, request)).toMatchObject({ ok: false });
    const good = resolveProtocolPolicy((offered: readonly string[]) => offered.at(-1));
    expect(negotiateProtocol('a, b', good, false, request)).toEqual({
      ok: true,
      protocol: 'b',
      appProtocol: 'b',
    });
  });
});

describe('resolveProtocolPolicy', () => {
  it('rejects names that are not tokens, naming the entry', () => {
    expect(() => resolveProtocolPolicy(['ok', 'not ok'])).toThrow(
      /Expected `protocols\[1\]` to be/,
    );
    expect(() => resolveProtocolPolicy('chat')).toThrow(/Expected `protocols` to be/);
  });
});

describe('negotiateProtocol with a HeartlineSocket offer', () => {
  const none = resolveProtocolPolicy([]);
  const chat = resolveProtocolPolicy(['chat']);

  it('selects the plain marker when the app offered nothing, reporting no app protocol', () => {
    expect(negotiateProtocol('heartline.plain, heartline.v1', none, false, request)).toEqual({
      ok: true,
      protocol: 'heartline.plain',
      appProtocol: '',
    });
  });

  it("selects the app's protocol and never heartline.v1", () => {
    expect(negotiateProtocol('chat, heartline.v1', chat, false, request)).toEqual({
      ok: true,
      protocol: 'chat',
      appProtocol: 'chat',
    });
    expect(negotiateProtocol('mqtt, heartline.v1', chat, false, request)).toMatchObject({
      ok: false,
      message: 'Unsupported sub-protocol: offered "mqtt"; this server supports "chat"',
    });
  });

  it('refuses a bare heartline.v1 offer and a marker when a protocol is required', () => {
    expect(negotiateProtocol('heartline.v1', none, false, request)).toMatchObject({ ok: false });
    expect(negotiateProtocol('heartline.plain, heartline.v1', chat, true, request)).toMatchObject({
      ok: false,
    });
  });
});
