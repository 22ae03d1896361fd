import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../src/server/client/outgoing-message.js';

describe('prepareMessage', () => {
  it('encodes text as UTF-8 and wraps binary data without copying', () => {
    expect(prepareMessage('héllo')).toEqual({ data: Buffer.from('héllo'), binary: false });
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const view = prepareMessage(bytes.subarray(1, 3));
    expect([...view.data]).toEqual([2, 3]);
    expect(view.binary).toBe(true);
    bytes[1] = 9;
    expect(view.data[0]).toBe(9);
    expect(prepareMessage(bytes.buffer).data.length).toBe(4);
  });

  it('rejects anything else with the shared error shape', () => {
    expect(() => prepareMessage({ a: 1 } as never)).toThrow(
      'Expected `data` to be a string, Buffer, ArrayBuffer or ArrayBufferView, got an object',
    );
  });
});
