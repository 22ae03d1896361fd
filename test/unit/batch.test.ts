import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, isBatch, MAX_BATCH_ENTRIES } from '../../src/protocol/batch.js';
import { encodeData, FrameError, parseFrame } from '../../src/protocol/frames.js';
import { utf8End, utf8Length } from '../../src/protocol/utf8.js';
import { seededRandom } from '../support/random.js';

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));

/** The FrameError `fn` throws. */
function thrown(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    return error as FrameError;
  }
  throw new Error('nothing was thrown');
}

describe('encodeBatch', () => {
  it('makes a text batch of text frames, each after its size in UTF-8 bytes', () => {
    expect(encodeBatch(['m1:a', 'm2:é', '{"t":"ack","seq":3}'])).toBe(
      'b4:m1:a5:m2:é19:{"t":"ack","seq":3}',
    );
  });

  it('makes a binary batch as soon as one frame is binary, each frame marked : or ;', () => {
    const out = encodeBatch(['m1:é', encodeData(2, new Uint8Array([0, 0x3a, 255]))]);
    expect(out).toBeInstanceOf(Uint8Array);
    expect([...(out as Uint8Array)]).toEqual([...bytes('b5:m1:é6;m2:', [0, 0x3a, 255])]);
  });

  it('takes the sizes when the caller has them', () => {
    expect(encodeBatch(['m1:a', 'm2:b'], [4, 4])).toBe('b4:m1:a4:m2:b');
  });
});

describe('decodeBatch', () => {
  it('round-trips text and binary batches, frames untouched and in order', () => {
    const random = seededRandom(13);
    const pool = ['a', 'é', '€', '😀', '中', ':', ';', 'b', '9', '\n'];
    for (let round = 0; round < 200; round++) {
      const frames: (string | Uint8Array)[] = [];
      const count = 1 + Math.floor(random() * 20);
      for (let i = 0; i < count; i++) {
        let text = '';
        for (let j = Math.floor(random() * 12); j > 0; j--) {
          text += pool[Math.floor(random() * pool.length)];
        }
        const binary = round % 2 === 1 && random() < 0.4;
        frames.push(binary ? encodeData(i + 1, Buffer.from(text)) : encodeData(i + 1, text));
      }
      const out = decodeBatch(encodeBatch(frames));
      expect(out.map((f) => (typeof f === 'string' ? f : [...f]))).toEqual(
        frames.map((f) => (typeof f === 'string' ? f : [...f])),
      );
    }
  });

  it('keeps the frames of a binary batch as views of its bytes, a Buffer as Buffers', () => {
    const raw = Buffer.from(encodeBatch([encodeData(1, new Uint8Array([1])), 'm2:x']));
    const [first, second] = decodeBatch(raw);
    expect(Buffer.isBuffer(first)).toBe(true);
    expect((first as Buffer).buffer).toBe(raw.buffer);
    expect(second).toBe('m2:x');
    expect(parseFrame(first as Buffer)).toMatchObject({ t: 'data', n: 1 });
  });

  it('decodes a text batch given as a string, however the frames mix scripts and emoji', () => {
    const frames = ['v:😀😀', 'm7:中文', 'm8:', 'v:\u{10ffff}x'];
    const raw = encodeBatch(frames) as string;
    expect(decodeBatch(raw)).toEqual(frames);
    // As the receiver gets it: the UTF-8 of the message, decoded.
    expect(decodeBatch(Buffer.from(raw).toString('utf8'))).toEqual(frames);
  });

  it(`takes up to ${MAX_BATCH_ENTRIES} frames and no more (1002)`, () => {
    const frames = Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => encodeData(i + 1, 'x'));
    expect(decodeBatch(encodeBatch(frames))).toHaveLength(MAX_BATCH_ENTRIES);
    const error = thrown(() => decodeBatch(encodeBatch([...frames, 'm0:y'])));
    expect(error.code).toBe(1002);
    expect(error.message).toContain(`1 to ${MAX_BATCH_ENTRIES} frames`);
  });

  it.each([
    ['nothing after b', 'b'],
    ['a size of 0', 'b0:'],
    ['a leading zero', 'b04:m1:a'],
    ['no size', 'b:m1:a'],
    ['no marker', 'b4m1:a'],
    ['a size past the end', 'b5:m1:a'],
    ['a size short of the end', 'b3:m1:a'],
    ['bytes left after the last frame', 'b4:m1:ax'],
    ['a binary frame in a text message', 'b4;m1:a'],
    ['a size of ten digits', `b1000000000:m1:a`],
    ['a size that ends inside a character', 'b4:m1:é'],
  ])('rejects a text batch with %s (1002)', (_, raw) => {
    const error = thrown(() => decodeBatch(raw));
    expect(error.code).toBe(1002);
    expect(error.message).toContain('a batch is b and 1 to 1024 frames');
  });

  it('rejects a binary batch whose sizes do not add up (1002)', () => {
    expect(thrown(() => decodeBatch(bytes('b9;m1:', [1, 2])))).toMatchObject({ code: 1002 });
    expect(thrown(() => decodeBatch(bytes('b2;', [1, 2], '1')))).toMatchObject({ code: 1002 });
    expect(thrown(() => decodeBatch(bytes('b2,', [1, 2])))).toMatchObject({ code: 1002 });
  });

  it('rejects a text frame of a binary batch that is not UTF-8 (1007)', () => {
    const error = thrown(() => decodeBatch(bytes('b5:m1:', [0xc3, 0x28], '1;', [0])));
    expect(error.code).toBe(1007);
    expect(error.message).toBe('a text frame in a batch is not valid UTF-8');
  });

  it('leaves the frames to the per-frame parser: a batch inside a batch is just a bad frame', () => {
    const inner = encodeBatch(['m1:a', 'm2:b']) as string;
    const [frame] = decodeBatch(encodeBatch([inner, 'm3:c']));
    expect(frame).toBe(inner);
    expect(() => parseFrame(frame as string)).toThrow(FrameError);
  });
});

describe('isBatch', () => {
  it('tells a batch from every other frame by its first character', () => {
    expect(isBatch('b4:m1:a')).toBe(true);
    expect(isBatch(bytes('b1;', [0]))).toBe(true);
    for (const frame of ['m1:b', 'v:b', '{"t":"ack","seq":1}', '', new Uint8Array()]) {
      expect(isBatch(frame)).toBe(false);
    }
  });
});

describe('utf8End', () => {
  it('finds where a number of UTF-8 bytes ends, or -1 inside a character or past the end', () => {
    expect(utf8End('aé😀b', 0, 1)).toBe(1);
    expect(utf8End('aé😀b', 0, 3)).toBe(2);
    expect(utf8End('aé😀b', 0, 7)).toBe(4);
    expect(utf8End('aé😀b', 1, 7)).toBe(5);
    expect(utf8End('aé😀b', 0, 2)).toBe(-1);
    expect(utf8End('aé😀b', 0, 5)).toBe(-1);
    expect(utf8End('aé😀b', 0, 9)).toBe(-1);
    expect(utf8End('abc', 3, 0)).toBe(3);
  });

  it('agrees with utf8Length on random text', () => {
    const random = seededRandom(5);
    const pool = ['a', 'é', '€', '😀', '中'];
    for (let i = 0; i < 200; i++) {
      let s = '';
      for (let j = Math.floor(random() * 20); j > 0; j--) s += pool[Math.floor(random() * 5)];
      expect(utf8End(`x${s}y`, 1, utf8Length(s))).toBe(s.length + 1);
    }
  });
});
