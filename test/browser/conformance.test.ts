/**
 * HeartlineSocket against Chromium's own WebSocket, scenario by scenario: each scenario runs
 * in the page once with `WebSocket` and once with a one-shot HeartlineSocket (no session,
 * heartbeat, reconnection or outbox), and the two logs must be equal. Then what the defaults
 * change on purpose, and what they must not (a strict server still gets plain mode).
 *
 * The scenarios are the project's own, written from the WHATWG WebSockets standard for the
 * incompatibilities the Web Platform Tests found (shared/research/2026-12/wpt.md).
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, openBundlePage } from '../support/browser.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startGate } from '../support/gate.js';
import { startServer, type TestServer } from '../support/servers.js';

// `make(kind, url, protocols)` builds the socket under test: 'native' (the browser's own),
// 'dropin' (a one-shot HeartlineSocket) or 'defaults'. `until(f)` waits for a condition.
const PAGE = `<!doctype html><meta charset="utf-8"><title>conformance</title>
<script type="module">
  import * as heartline from '/heartline.min.js';
  const oneShot = { session: false, heartbeat: false, reconnect: false, outbox: false };
  window.heartline = heartline;
  window.make = (kind, ...args) =>
    kind === 'native'
      ? new WebSocket(...args)
      : new heartline.HeartlineSocket(args[0], args[1], kind === 'dropin' ? oneShot : args[2]);
  window.until = (f, ms = 4000) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = () => f() ? resolve() : performance.now() - t0 > ms ? reject(new Error('until: timed out')) : setTimeout(tick, 5);
    tick();
  });
  document.title = 'ready';
</script>`;

type Kind = 'native' | 'dropin' | 'defaults';
interface Env {
  kind: Kind;
  /** An echo server: `ws://127.0.0.1:port/` */
  echo: string;
  /** A server that breaks every link with a frame of reserved opcode 3. */
  broken: string;
  /** The echo server's port, for scheme-relative URLs. */
  port: number;
}
type Scenario = (env: Env) => Promise<unknown>;
declare const make: (kind: Kind, url: unknown, protocols?: unknown, options?: unknown) => WebSocket;
declare const until: (f: () => boolean, ms?: number) => Promise<void>;

const scenarios: Record<string, Scenario> = {
  'close() while connecting: CLOSING at once, then error and close 1006 once CLOSED': async ({
    kind,
    echo,
  }) => {
    const log: string[] = [];
    const ws = make(kind, echo);
    ws.onerror = (e) => log.push(`error ${ws.readyState} ${String(e)}`);
    ws.onclose = (e) => log.push(`close ${ws.readyState} ${e.code} ${e.wasClean} ${e.reason}`);
    ws.close();
    log.push(`after close() ${ws.readyState}`);
    ws.close(); // nothing more
    await until(() => log.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    return log;
  },
  'send() after close(): discarded, counted in bufferedAmount, never thrown': async ({
    kind,
    echo,
  }) => {
    const ws = make(kind, echo);
    await new Promise((r) => {
      ws.onopen = r;
    });
    ws.close();
    ws.send('12345');
    const closing = ws.bufferedAmount;
    await new Promise((r) => {
      ws.onclose = r;
    });
    ws.send('678');
    return [closing, ws.bufferedAmount];
  },
  'a scheme-relative URL resolves against the document and connects': async ({ kind, port }) => {
    const ws = make(kind, `//127.0.0.1:${port}/path?q`);
    const url = ws.url;
    await new Promise((r) => {
      ws.onopen = r;
    });
    ws.close();
    return url;
  },
  'a relative URL resolves against the document base URL': async ({ kind }) => {
    const ws = make(kind, '/ws?€');
    const url = ws.url;
    ws.onerror = () => {};
    ws.close();
    return url.replace(/:\d+\//, ':PORT/');
  },
  'a bad URL throws a SyntaxError DOMException': async ({ kind }) => {
    return [
      'ftp://127.0.0.1/',
      'mailto:a@b',
      'about:blank',
      'ws://127.0.0.1/#',
      'ws://h/#x',
      '#x',
      'http://[::',
    ].map((url) => {
      try {
        make(kind, url).close();
        return 'no throw';
      } catch (e) {
        const d = e as DOMException;
        return `${d.constructor === DOMException} ${d.name} ${d.code}`;
      }
    });
  },
  'URL-like arguments are stringified': async ({ kind, echo }) => {
    const a = document.createElement('a');
    a.href = echo;
    const urls = [new URL(echo), { toString: () => echo }, a].map((value) => {
      const ws = make(kind, value);
      ws.onerror = () => {};
      ws.close();
      return ws.url;
    });
    return urls;
  },
  'close() codes and reasons are converted as WebIDL does': async ({ kind, echo }) => {
    const codes: unknown[] = [];
    for (const code of ['1000', 1000.4, '4000', 3000]) {
      const ws = make(kind, echo);
      await new Promise((r) => {
        ws.onopen = r;
      });
      const closed = new Promise<CloseEvent>((r) => {
        ws.onclose = r;
      });
      ws.close(code as number, 42 as unknown as string);
      const e = await closed;
      codes.push(`${e.code} ${e.reason}`);
    }
    for (const code of [999, 1001, 2999, 5000, 'x']) {
      try {
        make(kind, echo).close(code as number);
        codes.push('no throw');
      } catch (e) {
        codes.push((e as DOMException).name);
      }
    }
    return codes;
  },
  'binaryType ignores values outside blob and arraybuffer': async ({ kind, echo }) => {
    const ws = make(kind, echo);
    const seen = [ws.binaryType];
    ws.binaryType = 'notBlobOrArrayBuffer' as BinaryType;
    seen.push(ws.binaryType);
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'nodebuffer' as BinaryType;
    seen.push(ws.binaryType);
    ws.onerror = () => {};
    ws.close();
    return seen;
  },
  'missing arguments throw TypeErrors; send(undefined) sends "undefined"': async ({
    kind,
    echo,
  }) => {
    const thrown: string[] = [];
    try {
      (make as unknown as (k: Kind) => void)(kind);
    } catch (e) {
      thrown.push(`${(e as Error).constructor === TypeError}`);
    }
    const ws = make(kind, echo);
    await new Promise((r) => {
      ws.onopen = r;
    });
    try {
      (ws.send as () => void)();
    } catch (e) {
      thrown.push(`${(e as Error).constructor === TypeError}`);
    }
    ws.send(undefined as unknown as string);
    const echoed = await new Promise<MessageEvent>((r) => {
      ws.onmessage = r;
    });
    ws.close();
    return [...thrown, echoed.data];
  },
  'events are the platform’s MessageEvent and CloseEvent; the socket is [object WebSocket]':
    async ({ kind, echo }) => {
      const ws = make(kind, echo);
      const seen: string[] = [String(ws)];
      const describe = (e: Event) =>
        `${e.type} ${String(e)} ${e instanceof MessageEvent} ${e instanceof CloseEvent} ${e.bubbles} ${e.cancelable}`;
      ws.onopen = (e) => {
        seen.push(describe(e));
        ws.send('x');
      };
      ws.onmessage = (e) => {
        seen.push(describe(e));
        ws.close();
      };
      ws.onclose = (e) => seen.push(describe(e));
      await until(() => seen.length === 4);
      return seen;
    },
  'a link the server breaks fires error once CLOSED, then close 1006': async ({ kind, broken }) => {
    const log: string[] = [];
    const ws = make(kind, broken);
    ws.onopen = () => log.push(`open ${ws.readyState}`);
    ws.onerror = (e) => log.push(`error ${ws.readyState} ${String(e)}`);
    ws.onclose = (e) => log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
    await until(() => log.length === 3);
    return log;
  },
  'a throwing onmessage reaches window.onerror, never the socket’s error': async ({
    kind,
    echo,
  }) => {
    const log: string[] = [];
    const bug = new Error('app bug');
    const onWindowError = (e: ErrorEvent) => {
      log.push(`window ${e.error === bug}`);
      e.preventDefault();
    };
    addEventListener('error', onWindowError);
    const ws = make(kind, echo);
    ws.onopen = () => {
      ws.send('x');
      ws.send('y');
    };
    ws.onerror = () => log.push('socket error');
    ws.onmessage = (e) => {
      log.push(`message ${e.data}`);
      throw bug;
    };
    await until(() => log.length === 4);
    ws.close();
    removeEventListener('error', onWindowError);
    return log;
  },
  'on* properties keep any object, and null for anything else': async ({ kind, echo }) => {
    const ws = make(kind, echo);
    const handler = { handleEvent() {} };
    const seen: unknown[] = [];
    for (const name of ['onopen', 'onmessage', 'onerror', 'onclose'] as const) {
      (ws as unknown as Record<string, unknown>)[name] = handler;
      seen.push((ws as unknown as Record<string, unknown>)[name] === handler);
      (ws as unknown as Record<string, unknown>)[name] = 'not a function';
      seen.push((ws as unknown as Record<string, unknown>)[name]);
    }
    ws.close();
    return seen;
  },
};

function openPage(newPage: () => Promise<Page>): Promise<Page> {
  return openBundlePage(newPage, PAGE);
}

/** A server whose links break at once: a frame with reserved opcode 3 (RFC 6455 §5.2). */
async function startBrokenServer(): Promise<TestServer> {
  return startServer({
    echo: false,
    onConnection: (socket) =>
      (socket as unknown as { _socket: { write(b: Buffer): void } })._socket.write(
        Buffer.from([0x83, 0x00]),
      ),
  });
}

describeBrowser('HeartlineSocket as a drop-in, against Chromium’s WebSocket', (suite) => {
  it.each(Object.keys(scenarios))('%s', async (name) => {
    const echo = await startServer();
    const broken = await startBrokenServer();
    const env = { echo: `${echo.url}/`, broken: `${broken.url}/`, port: echo.port };
    const page = await openPage(() => suite.newPage());
    const scenario = scenarios[name]!;
    const native = await page.evaluate(scenario, { ...env, kind: 'native' as const });
    const dropin = await page.evaluate(scenario, { ...env, kind: 'dropin' as const });
    expect(dropin).toEqual(native);
  });
});

describeBrowser('HeartlineSocket’s defaults in Chromium', (suite) => {
  it('opens in plain mode against a strict server that refuses Heartline’s offer (HTTP 400)', async () => {
    const gate = await startGate((request) =>
      request.headers['sec-websocket-protocol'] ? { status: 400 } : null,
    );
    const page = await openPage(() => suite.newPage());
    const seen = await page.evaluate(async (url) => {
      const ws = make('defaults', url, [], { heartbeat: false });
      const log: string[] = [];
      for (const type of ['error', 'drop', 'reconnecting', 'close'])
        ws.addEventListener(type, () => log.push(type));
      await new Promise((r) => ws.addEventListener('open', r));
      const result = [ws.protocol, (ws as unknown as { mode: string }).mode, ...log];
      ws.close();
      return result;
    }, gate.url);
    expect(seen).toEqual(['', 'plain']);
    expect([gate.offer(0), gate.offer(1)]).toEqual(['heartline.plain, heartline.v1', undefined]);
  });

  it('warns once when a server that sends messages never answers the text "ping"', async () => {
    const server = await startServer({ pong: false }); // echoes "ping", never says "pong"
    const page = await openPage(() => suite.newPage());
    const seen = await page.evaluate(async (url) => {
      const ws = make('defaults', url, [], { heartbeat: { interval: 50, timeout: 50 } });
      const errors: string[] = [];
      const messages: string[] = [];
      ws.addEventListener('error', (e) =>
        errors.push((e as unknown as { error: { code: string } }).error.code),
      );
      ws.addEventListener('message', (e) => messages.push(e.data));
      await until(() => messages.length >= 4);
      ws.close();
      return { errors, messages: [...new Set(messages)] };
    }, server.url);
    expect(seen).toEqual({ errors: ['HL_ERR_HEARTBEAT'], messages: ['ping'] });
  });

  it('waits for the online event instead of dialling while the browser is offline', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy({ port: server.port });
    let connections = 0;
    server.wss.on('connection', () => connections++);
    const page = await openPage(() => suite.newPage());
    await page.evaluate((url) => {
      const ws = make('defaults', url, [], {
        heartbeat: { interval: 60_000, timeout: 200 },
        reconnect: { minDelay: 20, maxDelay: 50 },
      });
      const w = window as unknown as { ws: WebSocket; log: string[] };
      w.ws = ws;
      w.log = [];
      for (const type of ['open', 'drop', 'reconnecting'])
        ws.addEventListener(type, () => w.log.push(type));
    }, proxy.url);
    await page.waitForFunction(() => (window as unknown as { log: string[] }).log.length === 1);
    proxy.blackhole();
    await page.context().setOffline(true); // `offline`: the link is probed, and found dead
    await page.waitForFunction(() =>
      (window as unknown as { log: string[] }).log.includes('reconnecting'),
    );
    // Retries of 20–50 ms would have dialled dozens of times by now; none may.
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as unknown as { log: string[] }).log)).toEqual([
      'open',
      'drop',
      'reconnecting',
    ]);
    proxy.heal();
    await page.context().setOffline(false);
    await page.waitForFunction(
      () => (window as unknown as { log: string[] }).log.filter((t) => t === 'open').length === 2,
    );
    expect(connections).toBe(2);
  });
});
