import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  type CloseEvent,
  HeartlineSocket,
  isHeartlineError,
  NoWebSocketError,
  type StateChangeEvent,
} from '../../src/client/index.js';
import { openClient } from '../support/client.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('HeartlineSocket as a WebSocket', () => {
  it('has the readyState constants on the class and on instances', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
      expect(HeartlineSocket[name as 'OPEN']).toBe(value);
      expect(ws[name as 'OPEN']).toBe(value);
    }
    expect(ws).toBeInstanceOf(EventTarget);
  });

  it('runs code written for WebSocket unchanged: on* handlers, readyState, url, protocol', async () => {
    const server = await startServer({
      handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false),
    });
    const ws = openClient(`${server.url}/room?x=1`, {}, ['chat', 'superchat']);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.url).toBe(`${server.url}/room?x=1`);
    const log: string[] = [];
    ws.onopen = () => {
      log.push(`open ${ws.readyState} ${ws.protocol}`);
      ws.send('hi');
    };
    ws.onmessage = (e) => {
      log.push(`message ${e.data}`);
      ws.close(1000, 'bye');
    };
    ws.onclose = (e) => log.push(`close ${e.code} ${e.reason} ${e.wasClean}`);
    await waitFor(() => log.length === 3);
    expect(log).toEqual(['open 1 chat', 'message hi', 'close 1000 bye true']);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(ws.onopen).toBeTypeOf('function');
    ws.onopen = null;
    expect(ws.onopen).toBeNull();
  });

  it('honors binaryType on every link', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    ws.binaryType = 'arraybuffer';
    await waitForEvent(ws, 'open');
    ws.send(new Uint8Array([1, 2, 3]));
    const e = await waitForEvent<MessageEvent>(ws, 'message');
    expect(e.data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(e.data as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(ws.binaryType).toBe('arraybuffer');
  });

  it('fires statechange for every move, with its cause', async () => {
    const server = await startServer();
    const ws = openClient(server.url, { reconnect: { minDelay: 5, maxDelay: 10 } });
    const moves = collect<StateChangeEvent>(ws, 'statechange');
    await waitForEvent(ws, 'open');
    for (const s of server.sockets) s.terminate();
    await waitForEvent(ws, 'open');
    ws.close();
    await waitForEvent(ws, 'close');
    expect(moves.events.map((e) => `${e.from}>${e.to}`)).toEqual([
      'connecting>open',
      'open>reconnecting',
      'reconnecting>open',
      'open>closing',
      'closing>closed',
    ]);
    expect(moves.events[1]!.cause).toBe('network_error');
  });

  it('throws what a browser throws for bad close() arguments', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    expect(() => ws.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(2999)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(
      expect.objectContaining({ name: 'SyntaxError' }),
    );
    expect(() => new HeartlineSocket(server.url, ['a', 'a'], { WebSocket })).toThrow(
      expect.objectContaining({ name: 'SyntaxError' }),
    );
  });

  it('fires close once however often close() is called; close() while connecting fails the attempt as WebSocket does', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    const seen: string[] = [];
    for (const type of ['error', 'close'])
      ws.addEventListener(type, (e) =>
        seen.push(`${type} ${ws.readyState} ${(e as CloseEvent).code ?? ''}`),
      );
    ws.close(4001, 'changed my mind');
    expect(ws.readyState).toBe(ws.CLOSING);
    ws.close();
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['error 3 ', 'close 3 1006']);
    expect(server.sockets.size).toBe(0);
  });

  it('throws a SyntaxError DOMException for bad URLs, and says how to pass a WebSocket in Node', () => {
    const syntaxError = expect.objectContaining({ name: 'SyntaxError', code: 12 });
    expect(() => new HeartlineSocket('ftp://x', [], { WebSocket })).toThrow(syntaxError);
    expect(() => new HeartlineSocket('not a url', [], { WebSocket })).toThrow(/Invalid URL/);
    expect(() => new HeartlineSocket('ws://x/#frag', [], { WebSocket })).toThrow(/fragment/);
    expect(() => new HeartlineSocket('ws://x/#', [], { WebSocket })).toThrow(syntaxError);
    expect(() => new HeartlineSocket('not a url', [], { WebSocket })).toThrow(DOMException);
    const err = (() => {
      try {
        new HeartlineSocket('ws://127.0.0.1:1');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NoWebSocketError);
    expect(isHeartlineError(err)).toBe(true);
    expect((err as Error).message).toMatch(/import\('ws'\)/);
  });

  it('turns http(s) URLs into ws(s), as WebSocket does', async () => {
    const server = await startServer();
    const ws = openClient(server.url.replace('ws:', 'http:'));
    expect(ws.url.startsWith('ws:')).toBe(true);
    await waitForEvent(ws, 'open');
  });

  it('survives a throwing listener: other listeners run, the link stays up, and the throw is reported as the app’s, not as a socket error', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => printed.mockRestore());
    const server = await startServer();
    const ws = openClient(server.url);
    const seen: string[] = [];
    ws.addEventListener('message', () => {
      throw new Error('app bug');
    });
    ws.addEventListener('message', (e) => seen.push(String(e.data)));
    const errors = collect<ErrorEvent>(ws, 'error');
    await waitForEvent(ws, 'open');
    ws.send('one');
    ws.send('two');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['one', 'two']);
    expect(ws.state).toBe('open');
    expect(errors.events).toEqual([]);
    // Node has no reportError(): printed, with what was thrown, instead of ending the process.
    expect(printed).toHaveBeenCalledTimes(2);
    expect(printed).toHaveBeenCalledWith(
      'HeartlineSocket: A "message" listener threw:',
      expect.objectContaining({ message: 'app bug' }),
    );
  });

  it('hands what a listener threw to the logger, when there is one', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => printed.mockRestore());
    const server = await startServer();
    const logged: unknown[][] = [];
    const ws = openClient(server.url, {
      logger: (level, message, data) => level === 'error' && logged.push([message, data]),
    });
    const bug = new Error('app bug');
    ws.onopen = () => {
      throw bug;
    };
    await waitForEvent(ws, 'open');
    await waitFor(() => logged.length > 0);
    expect(logged).toEqual([['A "open" listener threw', { error: bug }]]);
    expect(printed).not.toHaveBeenCalled();
  });

  it('removes a listener added twice only once, as EventTarget does', async () => {
    const server = await startServer();
    const ws = openClient(server.url);
    let n = 0;
    const listener = () => n++;
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener);
    await waitForEvent(ws, 'open');
    ws.send('x');
    await waitForEvent(ws, 'message');
    ws.removeEventListener('message', listener);
    ws.send('y');
    await waitForEvent(ws, 'message');
    expect(n).toBe(1);
  });

  it('lets a Node process exit by itself after close(), even from a dead link', () => {
    const script = `
      import { WebSocketServer, WebSocket } from 'ws';
      import { HeartlineSocket } from './dist/client/index.js';
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
      await new Promise((r) => wss.on('listening', r));
      wss.on('connection', (s) => s.on('message', () => {})); // never answers pings of any kind
      const ws = new HeartlineSocket('ws://127.0.0.1:' + wss.address().port, [], {
        WebSocket, heartbeat: { interval: 50, timeout: 50 }, reconnect: { minDelay: 20 } });
      ws.onreconnecting = () => { ws.close(); wss.close(); for (const c of wss.clients) c.terminate(); };
      ws.onclose = (e) => console.log('closed', e.code);
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      timeout: 10_000,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('closed 1005');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
