import { describe, expect, it } from 'vitest';
import { canMove, NEXT } from '../../src/server/client/client-state.js';
import {
  describeReadError,
  keepsSession,
  TERMINATION_CAUSES,
} from '../../src/server/termination-cause.js';

describe('keepsSession', () => {
  it('keeps a session whose link failed, and ends one that anyone closed on purpose', () => {
    const kept = TERMINATION_CAUSES.filter((cause) => keepsSession(cause, 1006, false));
    expect(kept).toEqual(['connection_lost', 'heartbeat_timeout', 'slow_consumer']);
  });

  it('keeps it when the client closed only to replace the link (4000) or found it dead (4408)', () => {
    expect(keepsSession('client_close', 4000, false)).toBe(true);
    expect(keepsSession('client_close', 4408, false)).toBe(true);
    expect(keepsSession('client_close', 1000, false)).toBe(false);
    expect(keepsSession('client_close', 4001, false)).toBe(false);
  });

  it('keeps it at shutdown only when the engine outlives the process', () => {
    expect(keepsSession('shutdown', 1012, false)).toBe(false);
    expect(keepsSession('shutdown', 1012, true)).toBe(true);
  });
});

describe('describeReadError', () => {
  it('says what the client did, with the ws code', () => {
    expect(describeReadError({ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', message: '' }, 10)).toBe(
      'sent a message over maxPayload (10 bytes) [WS_ERR_UNSUPPORTED_MESSAGE_LENGTH]',
    );
    expect(describeReadError({ code: 'WS_ERR_INVALID_OPCODE', message: 'bad opcode 3' }, 10)).toBe(
      'sent a malformed frame: bad opcode 3 [WS_ERR_INVALID_OPCODE]',
    );
  });
});

describe('ServerClient states', () => {
  it('moves only along the table: a detached session resumes or ends, a closed one stays closed', () => {
    expect(canMove('open', 'detached')).toBe(true);
    expect(canMove('closing', 'detached')).toBe(true);
    expect(canMove('detached', 'open')).toBe(true);
    expect(canMove('closing', 'open')).toBe(false);
    expect(NEXT.closed).toEqual([]);
  });
});
