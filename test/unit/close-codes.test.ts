import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  canSendCloseCode,
  closeReasonFits,
  describeClose,
  formatRetryAfter,
  isAppCloseCode,
  parseRetryAfter,
} from '../../src/protocol/close-codes.js';

describe('describeClose', () => {
  it('names every code of RFC 6455 from 1000 to 1015', () => {
    for (let code = 1000; code <= 1015; code++) {
      const d = describeClose(code);
      expect(d.code).toBe(code);
      expect(CloseCode[d.name as keyof typeof CloseCode]).toBe(code);
      expect(d.explanation.length).toBeGreaterThan(20);
    }
  });

  it('names the ranges for codes it does not list', () => {
    expect(describeClose(500).name).toBe('Unused');
    expect(describeClose(1016).name).toBe('ReservedForProtocol');
    expect(describeClose(2500).name).toBe('ReservedForExtensions');
    expect(describeClose(3500).name).toBe('Registered');
    expect(describeClose(4999).name).toBe('Application');
    expect(describeClose(5000).name).toBe('Invalid');
    expect(describeClose(1.5).name).toBe('Invalid');
  });

  it('mirrors the HTTP refusals of an opening handshake as 4000 + the status', () => {
    for (const status of [400, 401, 403, 404, 429, 503]) {
      const d = describeClose(4000 + status);
      expect(d.name).toMatch(/^Http/);
      expect(d.explanation).toContain(`HTTP ${status}`);
      // An answer is not a network blip: only "too many" and "unavailable" can change by waiting.
      expect(d.retry).toBe(status === 429 || status === 503);
    }
  });

  it('gives every catalog entry a name equal to its CloseCode key', () => {
    for (const [name, code] of Object.entries(CloseCode))
      expect(describeClose(code).name).toBe(name);
  });
});

describe('parseRetryAfter', () => {
  it('reads the retry-after=<ms> token anywhere in the reason', () => {
    expect(parseRetryAfter('retry-after=4200')).toBe(4200);
    expect(parseRetryAfter('Service restart; retry-after=4200')).toBe(4200);
    expect(parseRetryAfter('busy, Retry-After=15')).toBe(15);
    expect(parseRetryAfter(formatRetryAfter('Service restart', 1234.4))).toBe(1234);
  });

  it('ignores anything else', () => {
    for (const reason of [
      '',
      'retry-after',
      'retry-after=',
      'retry-after=1.5',
      'retry-after=-3',
      'xretry-after=5',
      'retry-after=5s',
    ]) {
      expect(parseRetryAfter(reason), reason).toBeUndefined();
    }
  });
});

describe('isAppCloseCode', () => {
  it('allows 1000 and 3000–4999 only, as WebSocket.close() does', () => {
    expect([1000, 3000, 4999].every(isAppCloseCode)).toBe(true);
    expect([999, 1001, 1006, 2999, 5000, 4000.5].some(isAppCloseCode)).toBe(false);
  });
});

describe('canSendCloseCode', () => {
  it('allows what RFC 6455 lets an endpoint send: 1000–1003, 1007–1014, 3000–4999', () => {
    expect([1000, 1003, 1007, 1014, 3000, 4408, 4999].every(canSendCloseCode)).toBe(true);
    expect([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 4000.5].some(canSendCloseCode)).toBe(
      false,
    );
  });
});

describe('closeReasonFits', () => {
  it('counts UTF-8 bytes against the 123-byte limit of a close frame', () => {
    expect(closeReasonFits('x'.repeat(123))).toBe(true);
    expect(closeReasonFits('x'.repeat(124))).toBe(false);
    expect(closeReasonFits('é'.repeat(61))).toBe(true); // 122 bytes
    expect(closeReasonFits('é'.repeat(62))).toBe(false); // 124 bytes
    expect(closeReasonFits('😀'.repeat(30))).toBe(true); // 120 bytes in 60 UTF-16 units
    expect(closeReasonFits('😀'.repeat(31))).toBe(false);
  });
});
