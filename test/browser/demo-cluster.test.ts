/**
 * The chat demo as a cluster (issue 10): two `heartline demo --redis` processes on one real
 * redis-server are one room; a page whose link is cut comes back through a balancer that sends
 * it to the other server, and resumes there with nothing lost.
 */
import { expect, it } from 'vitest';
import { freePort, startCli } from '../integration/cli-fixtures.js';
import { startBalancer } from '../support/balancer.js';
import { describeBrowser } from '../support/browser.js';
import {
  join,
  members,
  messages,
  say,
  waitForConn,
  waitForDelivered,
} from '../support/demo-page.js';
import { freshId } from '../support/engine-contract.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startRedis } from '../support/redis.js';

describeBrowser('heartline demo on two servers and one Redis', (suite) => {
  it('is one room, and a page moved from one server to the other resumes its session', async () => {
    const redis = await startRedis();
    const ports = [await freePort(), await freePort()];
    const prefix = freshId('demo');
    // Each server lets the other's page in: the pages come from either origin.
    const servers = ports.map((port, i) =>
      startCli([
        'demo',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--redis',
        redis.unixUrl,
        '--prefix',
        prefix,
        '--origin',
        `http://127.0.0.1:${ports[1 - i]}`,
      ]),
    );
    const urls = await Promise.all(
      servers.map(async (cli) => (await cli.waitForStdout(/^http:\/\/\S+\/$/m, 10_000))[0]!),
    );
    const balancer = await startBalancer(ports, { mode: 'avoid-previous' });
    const proxyA = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.2' });
    const proxyB = await startFaultProxy({ port: balancer.port }, { localAddress: '127.0.0.3' });
    const a = await suite.newPage();
    const b = await suite.newPage();
    await join(a, urls[0]!, proxyA, 'Ada');
    await join(b, urls[1]!, proxyB, 'Grace');
    await a.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
    expect(await members(b)).toEqual(['Ada', 'Grace (you)']);
    await say(a, 'hello from Ada');
    await say(b, 'hello from Grace');
    await waitForDelivered(a, 2);
    const before = await waitForDelivered(b, 2);

    // Ada's link is cut; the balancer sends her next one to the other server.
    const given = () => [...balancer.counts.values()].reduce((n, c) => n + c, 0);
    const connections = given();
    proxyA.reset();
    await say(b, 'said while Ada moved');
    await a.waitForFunction(
      () => document.getElementById('session')?.textContent === 'session resumed: nothing lost',
      undefined,
      { timeout: 10_000 },
    );
    await waitForConn(a, 'connected');
    expect(given()).toBeGreaterThan(connections); // a new link, on the other server
    await say(a, 'Ada, from the other server');
    const afterA = await waitForDelivered(a, 4);
    const afterB = await waitForDelivered(b, 4);
    expect(afterA.map((m) => m.text)).toEqual(afterB.map((m) => m.text));
    expect(afterA.map((m) => m.text).slice(0, 2)).toEqual(before.map((m) => m.text));
    expect(await members(b)).toEqual(['Ada', 'Grace (you)']);
    expect((await messages(a)).map((m) => m.text)).toContain('said while Ada moved');
  });
});
