import { describe, expect, it } from 'vitest';
import { type BeatState, nextBeat } from '../../src/client/heartbeat.js';

const o = { interval: 1000, timeout: 500 };
const state = (s: Partial<BeatState> = {}): BeatState => ({
  heard: 0,
  pinged: -1,
  lastPing: 0,
  ...s,
});

describe('nextBeat', () => {
  it('pings after an interval of inbound silence, then waits the timeout for life', () => {
    expect(nextBeat(state(), 1000, o)).toEqual({ do: 'ping', in: 500 });
    expect(nextBeat(state(), 1700, o)).toEqual({ do: 'ping', in: 500 }); // a late timer still pings
  });

  it('never pings a busy link: it waits until an interval after the last message', () => {
    expect(nextBeat(state({ heard: 800 }), 1000, o)).toEqual({ do: 'wait', in: 800 });
    expect(nextBeat(state({ heard: 999 }), 1000, o)).toEqual({ do: 'wait', in: 999 });
  });

  it('declares the link dead when nothing at all arrived since the ping', () => {
    const pinged = state({ heard: 100, pinged: 1000, lastPing: 1000 });
    expect(nextBeat(pinged, 1500, o)).toEqual({ do: 'dead', in: 0 });
  });

  it('counts any message since the ping as proof of life, pong or not', () => {
    // An echo of the ping (not a pong) arrived at 1200: alive; look again an interval after it.
    const echoed = state({ heard: 1200, pinged: 1000, lastPing: 1000 });
    expect(nextBeat(echoed, 1500, o)).toEqual({ do: 'wait', in: 700 });
    // A message in the same millisecond as the ping counts too.
    const same = state({ heard: 1000, pinged: 1000, lastPing: 1000 });
    expect(nextBeat(same, 1500, o).do).toBe('wait');
  });

  it('honors always: pings every interval whatever arrives, timed from the last ping', () => {
    const always = { ...o, always: true };
    expect(nextBeat(state({ heard: 999 }), 1000, always)).toEqual({ do: 'ping', in: 500 });
    const answered = state({ heard: 1400, pinged: 1000, lastPing: 1000 });
    expect(nextBeat(answered, 1500, always)).toEqual({ do: 'wait', in: 500 });
    const silent = state({ heard: 900, pinged: 1000, lastPing: 1000 });
    expect(nextBeat(silent, 1500, always)).toEqual({ do: 'dead', in: 0 });
  });

  it('bounds detection by interval + timeout after the last message', () => {
    // Walk a silent link through its timer: a ping at interval, dead at interval + timeout.
    const s = state({ heard: 0 });
    const first = nextBeat(s, 400, o);
    expect(first).toEqual({ do: 'wait', in: 600 });
    const ping = nextBeat(s, 400 + first.in, o);
    expect(ping).toEqual({ do: 'ping', in: 500 });
    const sent = { ...s, pinged: 1000, lastPing: 1000 };
    expect(nextBeat(sent, 1000 + ping.in, o).do).toBe('dead');
  });
});
