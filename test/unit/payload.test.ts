import { describe, expect, it } from 'vitest';
import { byteLength, fromBytes, isOutgoing, toPayload } from '../../src/client/payload.js';

describe('byteLength', () => {
  it('counts text as UTF-8 and binary by byteLength', () => {
    expect(byteLength('héllo €')).toBe(Buffer.byteLength('héllo €'));
    expect(byteLength(new Uint8Array(7))).toBe(7);
    expect(byteLength(new Float64Array(2))).toBe(16);
    expect(byteLength(new ArrayBuffer(9))).toBe(9);
    expect(byteLength(new SharedArrayBuffer(4))).toBe(4);
    expect(byteLength(new Blob(['abc']))).toBe(3);
  });
});

describe('isOutgoing', () => {
  it('accepts what WebSocket#send accepts, and nothing else', () => {
    for (const ok of [
      'x',
      new ArrayBuffer(1),
      new Uint8Array(1),
      new DataView(new ArrayBuffer(1)),
      new Blob(),
    ])
      expect(isOutgoing(ok)).toBe(true);
    for (const bad of [42, null, undefined, {}, [1]]) expect(isOutgoing(bad)).toBe(false);
  });
});

describe('toPayload', () => {
  it('keeps text, views bytes without copying them, and refuses a Blob', () => {
    expect(toPayload('hi')).toBe('hi');
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const view = toPayload(bytes.subarray(1, 3)) as Uint8Array;
    expect([...view]).toEqual([2, 3]);
    expect(view.buffer).toBe(bytes.buffer);
    expect([...(toPayload(bytes.buffer) as Uint8Array)]).toEqual([1, 2, 3, 4]);
    expect(() => toPayload(new Blob(['x']))).toThrow(TypeError);
  });
});

describe('fromBytes', () => {
  it("delivers bytes as the app's binaryType asks, and text as it is", async () => {
    const bytes = new Uint8Array([9, 8, 7]).subarray(1);
    expect(fromBytes('text', 'arraybuffer')).toBe('text');
    expect([...new Uint8Array(fromBytes(bytes, 'arraybuffer') as ArrayBuffer)]).toEqual([8, 7]);
    const blob = fromBytes(bytes, 'blob') as Blob;
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([8, 7]);
    expect([...(fromBytes(bytes, 'nodebuffer') as Buffer)]).toEqual([8, 7]);
  });
});
