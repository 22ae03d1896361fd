/**
 * Issue #9: in session mode the client kept a second queue beside its outbox, and broke two
 * promises plain mode keeps: `bufferedAmount` read 0 while messages waited for a link, and
 * `outbox: false` no longer made `send()` throw while not open. Each is checked in both modes,
 * the same way.
 */
import { describe, expect, it } from 'vitest';
import type { HeartlineSocketOptions } from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startFakePeer } from '../support/fake-peer.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startHeartline } from '../support/server-fixtures.js';
import { startServer } from '../support/servers.js';
import { waitFor, waitForEvent } from '../support/wait.js';

const fast = { reconnect: { minDelay: 5, maxDelay: 20 } } as const;
const invalidState = expect.objectContaining({ name: 'InvalidStateError' });

/** A client whose link to a server of `mode` opened and was then cut; new links are refused. */
async function cutLink(mode: 'plain' | 'session', options: HeartlineSocketOptions = {}) {
  const { port } = mode === 'session' ? await startHeartline() : await startServer();
  const proxy = await startFaultProxy({ port });
  const ws = openClient(proxy.url, { ...fast, ...options });
  const resumes: unknown[] = [];
  ws.addEventListener('resume', (e) => resumes.push(e));
  await waitForEvent(ws, 'open');
  await proxy.refuse();
  proxy.reset();
  await waitForEvent(ws, 'drop');
  return { ws, proxy, resumes };
}

describe('issue #9: session mode queues as plain mode does', () => {
  it.each(['plain', 'session'] as const)(
    'counts what waits for the link in bufferedAmount, until it is sent (%s mode)',
    async (mode) => {
      const { ws, proxy, resumes } = await cutLink(mode);
      ws.send('héllo'); // 6 bytes of UTF-8
      ws.send(new Uint8Array(4));
      expect(ws.bufferedAmount).toBe(10);
      await proxy.accept();
      await waitForEvent(ws, 'open');
      expect(resumes).toHaveLength(mode === 'session' ? 1 : 0);
      await waitFor(() => ws.bufferedAmount === 0, { message: 'the outbox to be sent' });
    },
  );

  it.each(['plain', 'session'] as const)(
    'throws InvalidStateError from send() while not open with outbox: false (%s mode)',
    async (mode) => {
      const { ws } = await cutLink(mode, { outbox: false });
      expect(() => ws.send('lost')).toThrow(invalidState);
      expect(ws.bufferedAmount).toBe(0);
    },
  );

  it('counts again, once the link is lost, what the server never acknowledged, and resends it', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, fast);
    await peer.open(ws);
    ws.send('one');
    ws.send('two');
    await peer.frames(0, 3);
    expect(ws.bufferedAmount).toBe(0); // written, only awaiting an ack: not buffered
    const acked = waitForEvent(ws, 'ack');
    peer.links[0]!.socket.send('{"t":"ack","seq":1}');
    await acked;
    peer.links[0]!.socket.terminate();
    await waitForEvent(ws, 'drop');
    expect(ws.bufferedAmount).toBe(3); // 'two', to be sent again
    await peer.frames(1, 1);
    peer.links[1]!.socket.send(peer.hello({ resumed: true, ack: 1 }));
    expect((await peer.frames(1, 2))[1]).toBe('m2:two');
    expect(ws.bufferedAmount).toBe(0);
  });

  it('with outbox: false, still keeps what an open session link was sent until it is acknowledged', async () => {
    const peer = await startFakePeer();
    const ws = openClient(peer.url, { ...fast, outbox: false });
    await peer.open(ws);
    ws.send('kept');
    await peer.frames(0, 2);
    peer.links[0]!.socket.terminate();
    await waitForEvent(ws, 'drop');
    expect(() => ws.send('refused')).toThrow(invalidState);
    await peer.frames(1, 1);
    peer.links[1]!.socket.send(peer.hello({ resumed: true, ack: 0 }));
    expect((await peer.frames(1, 2))[1]).toBe('m1:kept');
  });
});
