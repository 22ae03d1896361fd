/**
 * A real browser for tests: Debian's `chromium` driven by `playwright-core` (which ships no
 * browser of its own), and a tiny static file server on 127.0.0.1 for the pages it loads.
 *
 * The skip rule: without a Chromium executable, browser tests are skipped with a visible
 * message, so that a contributor without Chromium can still run `npm test`. On CI
 * (`CI=true`) a missing Chromium fails the run instead, so that browser tests can never be
 * skipped there without anyone noticing.
 *
 * The executable is `$CHROMIUM_PATH`, else `/usr/bin/chromium`. Playwright gives every
 * launch a fresh temporary profile (`--user-data-dir`) and deletes it on close.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it, onTestFinished } from 'vitest';

/** Flags for a quiet, headless, deterministic Chromium in a container. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** `$CHROMIUM_PATH`, else `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Whether the Chromium executable exists and is executable. */
export function browserAvailable(): boolean {
  try {
    accessSync(chromiumPath(), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isCI(): boolean {
  return process.env.CI === 'true';
}

function missingMessage(): string {
  return isCI()
    ? `Chromium not found at ${chromiumPath()}; CI=true requires the browser tests to run. Install: apt-get install chromium (or set CHROMIUM_PATH)`
    : `Chromium not found at ${chromiumPath()}; browser tests skipped. Install: apt-get install chromium`;
}

/**
 * Launches headless Chromium. Resolves with `null` when there is no Chromium (after
 * printing why), except on CI where it rejects. Inside a test the browser is closed when
 * the test finishes; elsewhere the caller closes it.
 *
 * @example
 * const browser = await launchBrowser();
 * if (!browser) return;
 */
export async function launchBrowser(): Promise<Browser | null> {
  if (!browserAvailable()) {
    if (isCI()) throw new Error(missingMessage());
    console.warn(missingMessage());
    return null;
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 30_000,
  });
  try {
    onTestFinished(() => browser.close());
  } catch {
    // Not inside a test (a beforeAll hook or a script): the caller closes the browser.
  }
  return browser;
}

export interface BrowserSuite {
  /** The suite's browser, launched in `beforeAll`; throws if read before that. */
  readonly browser: Browser;
  /**
   * Opens a page in a fresh context (its own cookies and storage), closed when the test
   * finishes. Uncaught page errors and console errors are printed to the test output.
   */
  newPage(): Promise<Page>;
}

/**
 * `describe` for tests that need Chromium: one browser for the whole block, launched in
 * `beforeAll` and closed in `afterAll`. Without Chromium the block is skipped with a
 * message, or fails on CI.
 *
 * @example
 * describeBrowser('the browser bundle', (suite) => {
 *   it('connects', async () => {
 *     const page = await suite.newPage();
 *     await page.goto(site.url);
 *   });
 * });
 */
export function describeBrowser(name: string, fn: (suite: BrowserSuite) => void): void {
  let browser: Browser | undefined;
  const suite: BrowserSuite = {
    get browser() {
      if (!browser) throw new Error('describeBrowser: the browser is launched in beforeAll');
      return browser;
    },
    async newPage() {
      const context = await suite.browser.newContext();
      try {
        onTestFinished(() => context.close());
      } catch {
        // Called from a hook: the context closes with the browser in afterAll.
      }
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') console.error(`[page console] ${message.text()}`);
      });
      return page;
    },
  };

  if (!browserAvailable()) {
    if (isCI()) {
      describe(name, () => {
        it('has a Chromium executable to run on', () => {
          throw new Error(missingMessage());
        });
      });
      return;
    }
    console.warn(missingMessage());
    describe.skip(name, () => fn(suite));
    return;
  }

  describe(name, () => {
    beforeAll(async () => {
      browser = (await launchBrowser()) ?? undefined;
    });
    afterAll(async () => {
      await browser?.close();
      browser = undefined;
    });
    fn(suite);
  });
}

/** What `serveStatic()` serves at one URL path: a file on disk, or inline content. */
export type StaticEntry = string | { body: string | Uint8Array; type?: string };

export interface StaticServer {
  readonly port: number;
  /** `http://127.0.0.1:${port}` (no trailing slash) */
  readonly url: string;
  /** Stops listening and drops keep-alive connections. Idempotent. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Resolves a request path to a body and type, or `undefined` for 404. */
function lookup(
  source: string | Record<string, StaticEntry>,
  urlPath: string,
): { body: string | Uint8Array; type: string } | undefined {
  if (typeof source === 'string') {
    const root = path.resolve(source);
    const relative = urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath;
    const file = path.resolve(root, `.${relative}`);
    // Never serve outside the root (`/../../etc/passwd`).
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) return undefined;
    try {
      return { body: readFileSync(file), type: contentType(file) };
    } catch {
      return undefined;
    }
  }
  const key = urlPath.endsWith('/') && !(urlPath in source) ? `${urlPath}index.html` : urlPath;
  const entry = source[key];
  if (entry === undefined) return undefined;
  if (typeof entry === 'string') {
    try {
      return { body: readFileSync(entry), type: contentType(entry) };
    } catch {
      return undefined;
    }
  }
  return { body: entry.body, type: entry.type ?? contentType(key) };
}

/**
 * Serves static files on 127.0.0.1, port 0: either a directory, or a map from URL path to
 * a file path or to inline content. Files are read on every request (no cache), so a
 * rebuilt bundle is served as is. Inside a test it closes itself when the test finishes.
 *
 * @example
 * const site = await serveStatic({
 *   '/heartline.min.js': 'dist/browser/heartline.min.js',
 *   '/index.html': { body: '<script type="module" src="/heartline.min.js"></script>' },
 * });
 * await page.goto(`${site.url}/`);
 */
export async function serveStatic(
  source: string | Record<string, StaticEntry>,
): Promise<StaticServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const found = lookup(source, urlPath);
    if (!found && urlPath === '/favicon.ico') {
      // Chromium asks for it on every page; a 404 would print a console error.
      response.writeHead(204).end();
      return;
    }
    if (!found) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found');
      return;
    }
    response.writeHead(200, {
      'Content-Type': found.type,
      'Content-Length': Buffer.byteLength(found.body),
      'Cache-Control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : found.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const site: StaticServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  try {
    onTestFinished(() => site.close());
  } catch {
    // Not inside a test: the caller closes the server.
  }
  return site;
}

/** The one-file browser bundle `npm run build` makes, as the pages load it. */
export const BUNDLE_PATH = fileURLToPath(
  new URL('../../dist/browser/heartline.min.js', import.meta.url),
);

/**
 * Serves `html` as the index page next to the bundle (`/heartline.min.js`), opens it in a new
 * page and waits for its script to set `document.title` to `'ready'`.
 */
export async function openBundlePage(newPage: () => Promise<Page>, html: string): Promise<Page> {
  const site = await serveStatic({
    '/index.html': { body: html },
    '/heartline.min.js': BUNDLE_PATH,
  });
  const page = await newPage();
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 5000 });
  return page;
}
