import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { BUNDLE_PATH, describeBrowser, openBundlePage } from '../support/browser.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../support/servers.js';

// The page keeps one HeartlineSocket in `window.ws` and logs every event it fires in
// `window.log`, so the test can wait on what the page saw.
const PAGE = `<!doctype html><meta charset="utf-8"><title>heartline</title>
<script type="module">
  import * as heartline from '/heartline.min.js';
  window.heartline = heartline;
  window.log = [];
  window.start = (url, options) => {
    const ws = new heartline.HeartlineSocket(url, [], options);
    for (const type of ['open', 'message', 'close', 'drop', 'reconnecting', 'heartbeat']) {
      ws.addEventListener(type, (e) => window.log.push({ type, at: performance.now(), code: e.code, data: e.data, delay: e.delay, cause: e.cause }));
    }
    window.ws = ws;
  };
  document.title = 'ready';
</script>`;

type Logged = {
  type: string;
  at: number;
  code?: number;
  data?: unknown;
  delay?: number;
  cause?: string;
};

function openPage(newPage: () => Promise<Page>): Promise<Page> {
  return openBundlePage(newPage, PAGE);
}

/** Waits until the page has logged `count` events of `type`, and returns them. */
async function pageEvents(page: Page, type: string, count = 1, timeout = 5000): Promise<Logged[]> {
  await page.waitForFunction(
    ([t, n]) =>
      (window as unknown as { log: Logged[] }).log.filter((e) => e.type === t).length >=
      (n as number),
    [type, count] as const,
    { timeout },
  );
  return page.evaluate(
    (t) => (window as unknown as { log: Logged[] }).log.filter((e) => e.type === t),
    type,
  );
}

it('builds a client bundle that imports nothing from Node', () => {
  const bundle = readFileSync(BUNDLE_PATH, 'utf8');
  expect(bundle).not.toMatch(/\bfrom\s*["'](node:|ws["'])/);
  expect(bundle).not.toMatch(/\brequire\(/);
  expect(bundle).not.toMatch(/\bimport\(\s*["']node:/);
});

describeBrowser('the client bundle in Chromium', (suite) => {
  it('connects, echoes and answers heartbeats with the browser WebSocket', async () => {
    const server = await startServer();
    const page = await openPage(() => suite.newPage());
    await page.evaluate((url) => {
      (window as unknown as { start: (u: string, o: object) => void }).start(url, {
        heartbeat: { interval: 100, timeout: 1000 },
      });
      (window as unknown as { ws: WebSocket }).ws.send('from the page');
    }, server.url);
    const [message] = await pageEvents(page, 'message');
    expect(message!.data).toBe('from the page');
    await pageEvents(page, 'heartbeat');
  });

  it('survives a server restart', async () => {
    const server = await startServer();
    const page = await openPage(() => suite.newPage());
    await page.evaluate((url) => {
      (window as unknown as { start: (u: string, o: object) => void }).start(url, {
        reconnect: { minDelay: 50, maxDelay: 200 },
      });
    }, server.url);
    await pageEvents(page, 'open');
    await server.stop();
    const [drop] = await pageEvents(page, 'drop');
    expect(drop!.code).toBe(1006);
    await server.start();
    await pageEvents(page, 'open', 2);
    await page.evaluate(() => (window as unknown as { ws: WebSocket }).ws.send('after restart'));
    const messages = await pageEvents(page, 'message');
    expect(messages.map((m) => m.data)).toEqual(['after restart']);
  });

  it('notices a cut link as soon as the page goes offline, and reconnects the moment it is online', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    const page = await openPage(() => suite.newPage());
    // A long interval and long retry delays: only the offline and online events can explain
    // a quick detection and a quick return.
    await page.evaluate((url) => {
      (window as unknown as { start: (u: string, o: object) => void }).start(url, {
        heartbeat: { interval: 60_000, timeout: 300 },
        reconnect: { minDelay: 20_000, maxDelay: 30_000 },
      });
    }, proxy.url);
    await pageEvents(page, 'open');
    proxy.blackhole(); // the cut: the browser's socket stays OPEN and hears nothing
    const cutAt = await page.evaluate(() => performance.now());
    await page.context().setOffline(true); // fires `offline`, blocks new connections
    const [drop] = await pageEvents(page, 'drop', 1, 3000);
    expect(drop!.code).toBe(4408);
    expect(drop!.at - cutAt).toBeLessThan(2000);
    // the immediate retry waits for `online`: nothing is dialled while offline
    const waits = await pageEvents(page, 'reconnecting', 1, 5000);
    expect(waits[0]!.delay).toBe(0);
    proxy.heal();
    const onlineAt = await page.evaluate(() => performance.now());
    await page.context().setOffline(false); // fires `online`: retry now
    const opens = await pageEvents(page, 'open', 2, 5000);
    expect(opens[1]!.at - onlineAt).toBeLessThan(2000);
  });
});
