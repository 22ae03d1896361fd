import { describe, expect, it } from 'vitest';
import { type ClientState, canMove, NEXT } from '../../src/server/client/client-state.js';

const states = ['open', 'closing', 'detached', 'closed'] as const satisfies readonly ClientState[];

/** The lifecycle as client-state.ts documents it, written out here and not read from NEXT. */
const ALLOWED = [
  ['open', 'closing'], // the server or the client began to end the link
  ['open', 'detached'], // a session's link was lost
  ['open', 'closed'], // a plain link closed by the peer ends at once
  ['closing', 'detached'], // a session link the server ended for a reason of the link
  ['closing', 'closed'],
  ['detached', 'open'], // resumed on a new link
  ['detached', 'closed'], // the window passed, the app closed it, or it moved to another node
] as const satisfies readonly (readonly [ClientState, ClientState])[];

const allowed = new Set<string>(ALLOWED.map(([from, to]) => `${from} → ${to}`));
const pairs = states.flatMap((from) => states.map((to) => [from, to] as const));

describe('server client state table', () => {
  it('has a row for every state and no other', () => {
    expect(Object.keys(NEXT).sort()).toEqual([...states].sort());
  });

  it.each(pairs.filter(([from, to]) => allowed.has(`${from} → ${to}`)))(
    'allows %s → %s',
    (from, to) => {
      expect(canMove(from, to)).toBe(true);
    },
  );

  it.each(pairs.filter(([from, to]) => !allowed.has(`${from} → ${to}`)))(
    'refuses %s → %s',
    (from, to) => {
      expect(canMove(from, to)).toBe(false);
    },
  );

  it('lists exactly the documented moves, each once', () => {
    for (const from of states) expect(new Set(NEXT[from]).size).toBe(NEXT[from].length);
    const listed = states.flatMap((from) => NEXT[from].map((to) => `${from} → ${to}`));
    expect(listed.sort()).toEqual([...allowed].sort());
  });

  it('ends in closed from every state, and never leaves it', () => {
    expect(NEXT.closed).toEqual([]);
    for (const from of states) {
      const seen = new Set<ClientState>([from]);
      const queue: ClientState[] = [from];
      while (queue.length) {
        for (const to of NEXT[queue.shift()!]) {
          if (!seen.has(to)) {
            seen.add(to);
            queue.push(to);
          }
        }
      }
      expect(seen.has('closed'), from).toBe(true);
    }
  });
});
