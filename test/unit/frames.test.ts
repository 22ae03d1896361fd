import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  encodeControl,
  encodeData,
  encodeVolatile,
  FrameError,
  type HelloFrame,
  MAX_CONTROL_LENGTH,
  parseFrame,
} from '../../src/protocol/frames.js';

const hello: HelloFrame = {
  t: 'hello',
  v: 1,
  sid: 's1',
  token: 'secret',
  epoch: 'e1',
  offset: 7,
  resumed: false,
  reason: 'expired',
  ack: 0,
  protocol: '',
  heartbeat: { interval: 25_000, timeout: 10_000 },
  window: 120_000,
};

describe('parseFrame', () => {
  it('round-trips text and binary data frames, payload untouched', () => {
    expect(parseFrame(encodeData(12, 'hello: world'))).toEqual({
      t: 'data',
      n: 12,
      payload: 'hello: world',
    });
    expect(parseFrame(encodeData(0, ''))).toEqual({ t: 'data', n: 0, payload: '' });
    expect(parseFrame(encodeVolatile('{"x":1}'))).toEqual({
      t: 'data',
      n: undefined,
      payload: '{"x":1}',
    });
    const bytes = new Uint8Array([0, 58, 255, 109]);
    const frame = parseFrame(encodeData(2 ** 53 - 1, bytes));
    expect(frame).toMatchObject({ t: 'data', n: 2 ** 53 - 1 });
    expect([...(frame as { payload: Uint8Array }).payload]).toEqual([0, 58, 255, 109]);
    expect([...(parseFrame(encodeVolatile(bytes)) as { payload: Uint8Array }).payload]).toEqual([
      0, 58, 255, 109,
    ]);
  });

  it('round-trips every control frame', () => {
    for (const frame of [
      hello,
      { t: 'connect', v: 1 },
      { t: 'connect', v: 1, sid: 's1', token: 'k', epoch: 'e1', offset: 3 },
      { t: 'connect', v: 1, batch: 1_048_576 },
      { ...hello, batch: 65_536 },
      { t: 'ping', ts: 12.5, ack: 4 },
      { t: 'pong', ts: 12.5 },
      { t: 'ack', seq: 99 },
    ] as const) {
      expect(parseFrame(encodeControl(frame))).toEqual(frame);
    }
  });

  it.each([
    ['x12:hi', 'must be a control frame or start with m<number>: or v:'],
    ['m:hi', 'must be m<number>: or v:'],
    ['m01:hi', 'must be m<number>: or v:'],
    ['m12hi', 'must be a control frame'],
    ['m99999999999999999:x', 'must be m<number>: or v:'],
    ['m9999999999999999:x', 'must be a safe integer, got 9999999999999999'],
    ['m1a2:x', 'must be m<number>: or v:, got "1a2"'],
    ['m-1:x', 'must be m<number>: or v:'],
    ['{"t":"nope"}', 'unknown control frame type "nope"'],
    ['{not json', 'must be a JSON object'],
    ['[1]', 'must be a control frame'],
    ['{"t":"ack","seq":-1}', 'needs seq, a count'],
    ['{"t":"ping"}', 'needs a numeric ts'],
    ['{"t":"connect","v":1,"sid":"s"}', 'needs sid, token, epoch'],
    [
      `{"t":"connect","v":1,"sid":"${'s'.repeat(65)}","token":"k","epoch":"e","offset":0}`,
      'each of 1–64 characters',
    ],
    ['{"t":"connect","v":1,"sid":"s/x","token":"k","epoch":"e","offset":0}', 'base64url'],
    [
      '{"t":"connect","v":1,"sid":"s","token":"k","epoch":"e\\u0007","offset":0}',
      'printable ASCII',
    ],
    ['{"t":"connect","v":1,"token":"k"}', 'without sid carries no token, epoch or offset'],
    ['{"t":"connect","v":1,"sent":-1}', 'sent must be a count'],
    ['{"t":"connect","v":1,"from":1}', 'from must be a count from 1 to sent + 1, given with sid'],
    [
      '{"t":"connect","v":1,"sid":"s","token":"k","epoch":"e","offset":0,"sent":4,"from":6}',
      'from must be a count from 1 to sent + 1',
    ],
    [
      '{"t":"connect","v":1,"sid":"s","token":"k","epoch":"e","offset":0,"sent":4,"from":0}',
      'from must be a count from 1 to sent + 1',
    ],
    ['{"t":"hello","v":1,"sid":"s"}', 'a hello frame needs'],
    ['{"t":"connect","v":1,"batch":-1}', "a connect frame's batch must be a count"],
    [`${encodeControl(hello).slice(0, -1)},"batch":"16384"}`, "a hello frame's batch must be"],
  ])('rejects %j as malformed (1002)', (raw, message) => {
    const error = (() => {
      try {
        parseFrame(raw);
      } catch (e) {
        return e;
      }
    })() as FrameError;
    expect(error).toBeInstanceOf(FrameError);
    expect(error.code).toBe(1002);
    expect(error.message).toContain(message);
  });

  it('rejects a control frame over MAX_CONTROL_LENGTH before parsing it (1002)', () => {
    const padded = `{"t":"ping","ts":1,"pad":"${'x'.repeat(MAX_CONTROL_LENGTH)}"}`;
    expect(() => parseFrame(padded)).toThrow(
      expect.objectContaining({ code: 1002, message: expect.stringContaining('at most 4096') }),
    );
    const fits = `{"t":"ping","ts":1,"pad":"${'x'.repeat(MAX_CONTROL_LENGTH - 28)}"}`;
    expect(fits.length).toBe(MAX_CONTROL_LENGTH);
    expect(parseFrame(fits)).toMatchObject({ t: 'ping', ts: 1 });
  });

  it('rejects another protocol version as a policy matter (1008)', () => {
    expect(() => parseFrame('{"t":"connect","v":2}')).toThrow(
      expect.objectContaining({ code: 1008 }),
    );
  });

  it('rejects binary frames without a header', () => {
    expect(() => parseFrame(new Uint8Array([1, 2, 3]))).toThrow(FrameError);
    expect(() => parseFrame(new Uint8Array([109, 49, 50]))).toThrow(FrameError);
  });

  it('says less in production builds, still naming the frame and the field, with the same code', () => {
    vi.stubEnv('NODE_ENV', 'production');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    expect(() => parseFrame('{"t":"ping"}')).toThrow(
      expect.objectContaining({ code: 1002, message: 'bad ts' }),
    );
    expect(() => parseFrame('{"t":"hello","v":2}')).toThrow(
      expect.objectContaining({ code: 1008, message: 'unsupported protocol version' }),
    );
    expect(() => parseFrame('x12:a')).toThrow(
      expect.objectContaining({ code: 1002, message: 'bad frame start' }),
    );
  });
});
