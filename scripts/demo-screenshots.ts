// Makes the README's pictures of the chat demo: docs/demo.png (desktop: Ada's page a few
// seconds into a network cut) and docs/demo-phone.png (375 px wide: a long name, a full
// room). Two more go to test-results/screenshots/ for a look, not for the docs: the other
// tab seeing Ada away, and the phone at 320 px. Real parts only: the demo server, Debian's
// Chromium through playwright-core, and the test suite's fault proxy for the cut.
//
//   npm run build && npx tsx scripts/demo-screenshots.ts [out-dir]     (default: docs/)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startDemoServer } from '../src/cli/demo-server.js';
import { CHROMIUM_ARGS, chromiumPath } from '../test/support/browser.js';
import { startFaultProxy } from '../test/support/fault-proxy.js';

const out = process.argv[2] ?? 'docs';
const extra = 'test-results/screenshots';
mkdirSync(out, { recursive: true });
mkdirSync(extra, { recursive: true });

async function waitForConn(page: Page, kind: string, timeout = 15_000): Promise<void> {
  await page.waitForFunction((k) => document.getElementById('conn')?.dataset.conn === k, kind, {
    timeout,
    polling: 50,
  });
}

async function join(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill('#name-input', name);
  await page.press('#name-input', 'Enter');
  await waitForConn(page, 'connected');
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text-input', text);
  await page.press('#text-input', 'Enter');
}

/** Waits until the page shows `count` messages in the state `state`. */
async function waitForState(page: Page, state: string, count: number): Promise<void> {
  await page.waitForFunction(
    ([s, n]) => document.querySelectorAll(`#messages > li[data-state="${s}"]`).length >= n,
    [state, count] as const,
    { timeout: 15_000, polling: 50 },
  );
}

const demo = await startDemoServer({ port: 0, host: '127.0.0.1', retrySpread: 0 });
const proxy = await startFaultProxy({ port: demo.port });
let browser: Browser | undefined;
try {
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  const context = (width: number, height: number) =>
    browser!.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const viaProxy = `${demo.url}?ws=${encodeURIComponent(`${proxy.url}/ws`)}`;

  // Desktop: Ada chats with Grace, then her link is cut; a few seconds in, her page says why.
  const ada = await (await context(1100, 700)).newPage();
  const grace = await (await context(1100, 700)).newPage();
  await join(ada, viaProxy, 'Ada');
  await join(grace, demo.url, 'Grace');
  await say(ada, 'Hi Grace! I am on the train, the tunnel is coming.');
  await waitForState(ada, 'delivered', 1);
  await say(grace, 'No problem, I will keep writing. You will get everything.');
  await waitForState(ada, 'delivered', 2);
  await say(ada, 'Great, see you on the other side.');
  await waitForState(ada, 'delivered', 3);
  proxy.blackhole();
  await ada.context().setOffline(true);
  await say(grace, 'Here is the address: 12 Analytical Street.');
  await say(ada, 'Can you send me the address?');
  await ada.waitForSelector('#banner:not([hidden])', { timeout: 10_000 });
  await ada.waitForTimeout(1_500); // time is the scenario: "a few seconds into the cut"
  await ada.screenshot({ path: path.join(out, 'demo.png') });
  // The other side: Ada is away.
  await grace.waitForSelector('#members li.away', { timeout: 15_000 });
  await grace.screenshot({ path: path.join(extra, 'demo-away.png') });
  proxy.heal();
  await ada.context().setOffline(false);
  await waitForConn(ada, 'connected');

  // A phone, 375 px: a long name, five people in the room, sent and delivered.
  const names = ['Margaret Hamilton', 'Ada Lovelace', 'Grace Hopper', 'Katherine Johnson'];
  const phones: Page[] = [];
  for (const name of names) {
    const page = await (await context(375, 740)).newPage();
    await join(page, demo.url, name);
    phones.push(page);
  }
  const [margaret, adaPhone] = phones as [Page, Page];
  await say(adaPhone, 'Margaret, is the landing code ready?');
  await say(margaret, 'Yes: the 1202 alarms are handled. Pushing it now.');
  await waitForState(margaret, 'delivered', 5);
  // The first heartbeat's round trip (about 5 s after joining) fills in the RTT.
  await margaret.waitForFunction(
    () => /RTT \d/.test(document.getElementById('rtt')!.textContent!),
    undefined,
    {
      timeout: 15_000,
    },
  );
  await margaret.screenshot({ path: path.join(out, 'demo-phone.png') });
  await margaret.setViewportSize({ width: 320, height: 640 });
  await margaret.screenshot({ path: path.join(extra, 'demo-phone-320.png') });
} finally {
  await browser?.close();
  await proxy.close();
  await demo.close();
}
console.log(
  `wrote ${out}/demo.png and demo-phone.png; ${extra}/demo-away.png and demo-phone-320.png`,
);
