import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { ServerClient } from '../../src/server/index.js';
import { describeBrowser, serveStatic } from '../support/browser.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startHeartline } from '../support/server-fixtures.js';
import { waitFor } from '../support/wait.js';

const bundlePath = fileURLToPath(new URL('../../dist/browser/heartline.min.js', import.meta.url));

// The page sends one numbered message every 10 ms for as long as `window.sending` is true,
// and records what it receives and every resume.
const PAGE = `<!doctype html><meta charset="utf-8"><title>session</title>
<script type="module">
  import { HeartlineSocket } from '/heartline.min.js';
  window.received = []; window.resumes = []; window.sent = 0; window.sending = true;
  window.start = (url) => {
    const ws = new HeartlineSocket(url, [], {
      heartbeat: { interval: 60000, timeout: 300 }, reconnect: { minDelay: 20000, maxDelay: 30000 } });
    ws.onmessage = (e) => window.received.push(e.data);
    ws.onresume = (e) => window.resumes.push({ resumed: e.resumed, reason: e.reason });
    const tick = () => { if (!window.sending) return; ws.send('p' + window.sent++); setTimeout(tick, 10); };
    ws.onopen = () => { if (window.sent === 0) tick(); };
    window.ws = ws;
  };
  document.title = 'ready';
</script>`;

interface PageState {
  received: string[];
  resumes: { resumed: boolean; reason?: string }[];
  sent: number;
  sending: boolean;
}

describeBrowser('session mode in Chromium', (suite) => {
  it('resumes after a network cut while the page keeps sending: nothing lost, nothing twice', async () => {
    const site = await serveStatic({
      '/index.html': { body: PAGE },
      '/heartline.min.js': bundlePath,
    });
    const { server, port } = await startHeartline({ origins: [site.url] });
    const proxy = await startFaultProxy({ port });
    const fromPage: string[] = [];
    const connected = new Promise<ServerClient>((resolve) =>
      server.once('connection', (client) => {
        client.on('message', (d) => fromPage.push(String(d)));
        resolve(client);
      }),
    );
    const page = await suite.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => document.title === 'ready');
    await page.evaluate(
      (url) => (window as unknown as { start: (u: string) => void }).start(url),
      proxy.url,
    );
    const client = await connected;
    await waitFor(() => fromPage.length >= 20, { message: 'the page to be sending' });

    proxy.blackhole(); // the cut
    await page.context().setOffline(true); // `offline`: the page probes at once, finds the link dead
    await waitFor(() => client.state === 'detached' || fromPage.length > 0, { timeout: 100 }).catch(
      () => {},
    );
    for (let i = 0; i < 30; i++) client.send(`s${i}`); // written into the dead link, or logged
    await new Promise((r) => setTimeout(r, 500)); // the page keeps sending into its outbox
    proxy.heal();
    await page.context().setOffline(false); // `online`: retry now, resume

    await page.waitForFunction(
      () => (window as unknown as PageState).resumes.length > 0,
      undefined,
      { timeout: 5000 },
    );
    await page.evaluate(() => {
      (window as unknown as PageState).sending = false;
    });
    const { sent, resumes } = await page.evaluate(() => {
      const w = window as unknown as PageState;
      return { sent: w.sent, resumes: w.resumes };
    });
    await waitFor(() => fromPage.length === sent, {
      timeout: 5000,
      message: `all ${sent} page messages at the server`,
    });
    expect(fromPage).toEqual(Array.from({ length: sent }, (_, i) => `p${i}`));
    expect(resumes).toEqual([{ resumed: true }]);
    await page.waitForFunction(
      () => (window as unknown as PageState).received.length === 30,
      undefined,
      { timeout: 5000 },
    );
    const received = await page.evaluate(() => (window as unknown as PageState).received);
    expect(received).toEqual(Array.from({ length: 30 }, (_, i) => `s${i}`));
  });

  it('ends the session when the page is unloaded, instead of leaving it to the resume window', async () => {
    const site = await serveStatic({
      '/index.html': { body: PAGE },
      '/heartline.min.js': bundlePath,
    });
    const { server } = await startHeartline({ origins: [site.url] });
    const address = server.address() as { port: number };
    const connected = new Promise<ServerClient>((resolve) => server.once('connection', resolve));
    const page = await suite.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => document.title === 'ready');
    await page.evaluate(
      (url) => (window as unknown as { start: (u: string) => void }).start(url),
      `ws://127.0.0.1:${address.port}`,
    );
    const client = await connected;
    const ended = new Promise<number>((resolve) => client.once('close', resolve));
    const drops: number[] = [];
    client.on('drop', (code) => drops.push(code));
    await page.goto('about:blank'); // a real unload: pagehide with persisted false
    expect(await ended).toBe(1000);
    expect(drops).toEqual([]);
  });
});
