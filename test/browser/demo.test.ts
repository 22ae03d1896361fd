/**
 * The chat demo end to end: `heartline demo` as a real child process, two Chromium pages, each
 * connected through its own fault proxy (`?ws=`). Screenshots of each state go to
 * test-results/demo/ (not committed).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { type CliProcess, freePort, startCli } from '../integration/cli-fixtures.js';
import { describeBrowser } from '../support/browser.js';
import {
  away,
  conn,
  join,
  members,
  messages,
  say,
  waitForConn,
  waitForDelivered,
} from '../support/demo-page.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { delay } from '../support/wait.js';

const SHOTS = fileURLToPath(new URL('../../test-results/demo/', import.meta.url));

/** Starts `heartline demo` on `port` and waits for the URL on stdout. */
async function startDemo(port: number): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(['demo', '--port', String(port), '--host', '127.0.0.1']);
  const [url] = await cli.waitForStdout(/^http:\/\/\S+\/$/m, 10_000);
  return { cli, url };
}

/** Records every `data-state` each of the page's messages takes, from now on. */
async function recordStates(page: Page): Promise<() => Promise<Record<string, string[]>>> {
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (window as unknown as { states: typeof seen }).states = seen;
    const note = (id: string | undefined, state: string | null | undefined) => {
      if (!id || !state) return;
      seen[id] ??= [];
      if (seen[id].at(-1) !== state) seen[id].push(state);
    };
    new MutationObserver((records) => {
      // Every step, those of one task too (the server's receipt and the room's copy can come in
      // one batch frame): the value each change replaced, in order, then the value now.
      const touched = new Set<HTMLElement>();
      for (const r of records) {
        if (r.type === 'attributes') {
          note((r.target as HTMLElement).dataset.id, r.oldValue);
          touched.add(r.target as HTMLElement);
        }
        for (const node of r.addedNodes) if (node instanceof HTMLElement) touched.add(node);
      }
      for (const li of touched) note(li.dataset.id, li.dataset.state);
    }).observe(document.getElementById('messages')!, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeOldValue: true,
      attributeFilter: ['data-state'],
    });
  });
  return () =>
    page.evaluate(() => (window as unknown as { states: Record<string, string[]> }).states);
}

/** Whether two elements' boxes overlap, and whether an element shows its whole text. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
    const brand = box('.brand');
    const me = box('.me');
    const name = document.getElementById('me-name')!;
    return {
      overlap: brand.right > me.left && brand.left < me.right,
      nameWhole: name.scrollWidth <= name.clientWidth + 1,
      fits: document.documentElement.scrollWidth <= document.documentElement.clientWidth,
    };
  });
}

/** No horizontal scroll at the page's current size. */
async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
  );
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `${SHOTS}${name}.png`, type: 'png' });

describeBrowser('heartline demo in Chromium', (suite) => {
  it('keeps two pages in the same order, exactly once, through a cut and a server restart', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const port = await freePort();
    let demo = await startDemo(port);
    const proxyA = await startFaultProxy({ port });
    const proxyB = await startFaultProxy({ port });
    const a = await suite.newPage();
    const b = await suite.newPage();

    // Two pages join and chat.
    await join(a, demo.url, proxyA, 'Ada');
    await join(b, demo.url, proxyB, 'Grace');
    await a.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
    expect(await members(b)).toEqual(['Ada', 'Grace (you)']);
    expect(await a.textContent('#session')).toBe('new session');
    const states = await recordStates(a);
    await say(a, 'Hi Grace, I am cutting my cable in a moment.');
    await waitForDelivered(b, 1);
    // pending (not on the server yet) → sent ✓ (the server has it) → delivered ✓✓ (the room's copy).
    await waitForDelivered(a, 1);
    expect(Object.values(await states())).toEqual([['pending', 'sent', 'delivered']]);
    await say(b, 'Go ahead, I will keep talking.');
    const start = await waitForDelivered(a, 2);
    await waitForDelivered(b, 2);
    expect(start.map((m) => m.text)).toEqual([
      'Hi Grace, I am cutting my cable in a moment.',
      'Go ahead, I will keep talking.',
    ]);
    await shot(a, '1-joined');

    // Page A is cut off for 5 s or more: its link is blackholed (nothing passes, nothing
    // closes) and the browser goes offline. B says 20 things meanwhile, A says 5.
    const refused: string[] = [];
    a.on('console', (message) => {
      if (/ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(message.text()))
        refused.push(message.text());
    });
    const cut = Date.now();
    proxyA.blackhole();
    await a.context().setOffline(true);
    const fromB = Array.from({ length: 20 }, (_, i) => `from Grace ${i + 1}`);
    const fromA = Array.from({ length: 5 }, (_, i) => `from Ada ${i + 1}`);
    for (let i = 0; i < 20; i++) {
      await say(b, fromB[i]!);
      if (i % 4 === 0) await say(a, fromA[i / 4]!);
    }
    await waitForDelivered(b, 22); // B's own, all delivered; A's are stuck on A's side
    // A notices within the heartbeat timeout (the `offline` event makes it probe at once).
    await a.waitForSelector('#banner:not([hidden])', { timeout: 6_000 });
    expect(await a.textContent('#banner-title')).toMatch(
      /^Connection lost: (4408 HeartbeatTimeout|1006 AbnormalClosure)$/,
    );
    expect(await conn(a)).toBe('offline');
    expect(await a.textContent('#rtt')).toBe('RTT —'); // no RTT of a link that is gone
    const during = await messages(a);
    expect(during.filter((m) => m.state === 'pending').map((m) => m.text)).toEqual(fromA);
    await shot(a, '2-cut-off');
    // B sees A away once the server's heartbeat (3 s + 2 s) notices the dead link.
    await b.waitForSelector('#members li.away', { timeout: 10_000 });
    expect(await away(b)).toEqual(['Ada']);
    await shot(b, '2-grace-sees-ada-away');
    await delay(Math.max(0, 5_000 - (Date.now() - cut)));
    // While offline the page dials nothing: no attempt that could only fail.
    expect(refused).toEqual([]);

    // A is back: its session resumes, the gap is replayed, its own 5 go out.
    proxyA.heal();
    await a.context().setOffline(false);
    await waitForConn(a, 'connected');
    const afterA = await waitForDelivered(a, 27);
    const afterB = await waitForDelivered(b, 27);
    expect(await a.isHidden('#banner')).toBe(true);
    expect(await a.textContent('#session')).toBe('session resumed: nothing lost');
    // Exactly once, the same order on both pages, each sender's messages in the order sent.
    expect(afterA.map((m) => m.id)).toEqual(afterB.map((m) => m.id));
    expect(new Set(afterA.map((m) => m.id)).size).toBe(27);
    const texts = afterA.map((m) => m.text);
    expect(texts.filter((t) => t.startsWith('from Grace'))).toEqual(fromB);
    expect(texts.filter((t) => t.startsWith('from Ada'))).toEqual(fromA);
    expect(texts.slice(0, 2)).toEqual(start.map((m) => m.text));
    expect(await members(a)).toEqual(['Ada (you)', 'Grace']); // a resumed session never left
    await b.waitForFunction(() => document.querySelectorAll('#members li.away').length === 0);
    await shot(a, '3-back');

    // The server restarts: its memory is gone, so both pages start new sessions and rejoin.
    demo.cli.kill('SIGTERM');
    expect(await demo.cli.exit(10_000)).toEqual({ code: 0, signal: null });
    await waitForConn(a, 'reconnecting');
    await waitForConn(b, 'reconnecting');
    expect(await b.textContent('#banner-title')).toBe('Connection lost: 1012 ServiceRestart');
    await shot(b, '4-reconnecting');
    demo = await startDemo(port);
    await waitForConn(a, 'connected', 15_000);
    await waitForConn(b, 'connected', 15_000);
    for (const page of [a, b]) {
      expect(await page.textContent('#session')).toMatch(/^new session: /);
      await page.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
    }
    await say(a, 'Ada, after the restart.');
    await say(b, 'Grace, after the restart.');
    const finalA = await waitForDelivered(a, 29);
    const finalB = await waitForDelivered(b, 29);
    expect(finalA.map((m) => m.id)).toEqual(finalB.map((m) => m.id));
    expect(finalA.slice(0, 27)).toEqual(afterA);
    expect(
      finalA
        .slice(27)
        .map((m) => m.text)
        .sort(),
    ).toEqual(['Ada, after the restart.', 'Grace, after the restart.']);
    expect(await fitsWidth(a)).toBe(true);
    // One divider where the restarted server's messages begin, after the 27 from before.
    for (const page of [a, b]) {
      const order = await page.$$eval('#messages > li', (items) =>
        items.map((li) => (li.classList.contains('divider') ? 'divider' : 'msg')),
      );
      expect(order.indexOf('divider')).toBe(27);
      expect(order.filter((kind) => kind === 'divider')).toHaveLength(1);
    }
    await shot(a, '5-after-restart');

    // A reload rejoins under the same name (sessionStorage), as a new session that gets the
    // restarted server's history, and still knows which messages are its own.
    await b.reload();
    await waitForConn(b, 'connected');
    expect(await b.isHidden('#entry')).toBe(true);
    const reloaded = await waitForDelivered(b, 2);
    expect(reloaded.map((m) => m.id)).toEqual(finalB.slice(27).map((m) => m.id));
    expect(
      await b.$$eval('#messages > li.own .text', (els) => els.map((e) => e.textContent)),
    ).toEqual(['Grace, after the restart.']);
    await a.waitForFunction(() => document.querySelectorAll('#members li').length === 2);

    // A phone-sized screen: one column, nothing wider than the screen.
    await a.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(a)).toBe(true);
    await shot(a, '6-phone');
  });

  it('works on a phone at 320–375 px with a long name: no overlap, the whole name, a hint that the members scroll', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const port = await freePort();
    const demo = await startDemo(port);
    const proxy = await startFaultProxy({ port });
    const pages: Page[] = [];
    for (const name of ['Margaret Hamilton', 'Ada Lovelace', 'Grace Hopper', 'Katherine Johnson']) {
      const page = await suite.newPage();
      await join(page, demo.url, proxy, name);
      pages.push(page);
    }
    const margaret = pages[0]!;
    await margaret.waitForFunction(() => document.querySelectorAll('#members li').length === 4);
    for (const width of [375, 320]) {
      await margaret.setViewportSize({ width, height: 640 });
      expect(await layout(margaret), `${width} px`).toEqual({
        overlap: false,
        nameWhole: true,
        fits: true,
      });
      // The member row is wider than the screen, and its end fades out.
      await margaret.waitForFunction(() =>
        document.getElementById('members')!.dataset.more?.includes('end'),
      );
      await shot(margaret, `7-phone-${width}`);
    }
    await margaret.$eval('#members', (list) => list.scrollBy(1_000, 0));
    await margaret.waitForFunction(
      () => !document.getElementById('members')!.dataset.more?.includes('end'),
    );
  });
});
