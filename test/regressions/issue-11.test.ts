/**
 * Regressions of issue 11 ("Hardening: every buffer bounded on every path, every protocol edge
 * answered"), one per item, each failing before its fix.
 */
import { describe, expect, it } from 'vitest';
import type { ResumeEvent } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

describe('issue 11: protocol edges', () => {
  it('never delivers an offset twice, even when a resume hello claims a lower position', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    await peer.frames(0, 1);
    const first = peer.links[0]!.socket;
    first.send(peer.hello({ offset: 0 }));
    await waitForEvent(ws, 'open');
    const received = collect<MessageEvent>(ws, 'message');
    for (const [n, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      first.send(`m${n}:${text}`);
    await waitFor(() => received.events.length === 3);
    first.terminate();
    await peer.frames(1, 1);
    const resumed = waitForEvent<ResumeEvent>(ws, 'resume');
    // A server that says the client is at 0 and replays from there: a,b,c again, then d.
    const second = peer.links[1]!.socket;
    second.send(peer.hello({ offset: 0, resumed: true }));
    expect(await resumed).toMatchObject({ resumed: true });
    for (const [n, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ] as const) {
      second.send(`m${n}:${text}`);
    }
    await waitFor(() => received.events.length >= 4);
    second.send('m5:barrier');
    await waitFor(() => received.events.at(-1)?.data === 'barrier');
    expect(received.events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd', 'barrier']);
  });
});
