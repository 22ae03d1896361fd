import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { describeBrowser, serveStatic } from '../support/browser.js';

describeBrowser('launchBrowser and serveStatic', (suite) => {
  it('loads a served page whose module script runs', async () => {
    const site = await serveStatic({
      '/index.html': {
        body: '<!doctype html><title>t</title><script type="module" src="/main.js"></script>',
      },
      '/main.js': { body: 'document.title = String(1 + 1);' },
    });
    const page = await suite.newPage();
    const response = await page.goto(`${site.url}/`);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    await page.waitForFunction(() => document.title === '2', undefined, { timeout: 5000 });
    expect(await page.evaluate(() => 1 + 1)).toBe(2);
  });

  it('serves a directory with content types, index.html for / and 404 outside it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'heartline-static-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'index.html'), '<script type="module" src="/app.js"></script>');
    writeFileSync(path.join(dir, 'app.js'), 'document.title = String(1 + 1);');
    const site = await serveStatic(dir);

    const page = await suite.newPage();
    const response = await page.goto(`${site.url}/`);
    expect(response?.status()).toBe(200);
    await page.waitForFunction(() => document.title === '2', undefined, { timeout: 5000 });

    const script = await fetch(`${site.url}/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${site.url}/nope.js`)).status).toBe(404);
    expect((await fetch(`${site.url}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
  });
});
