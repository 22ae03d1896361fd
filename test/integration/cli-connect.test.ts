import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import { openClient } from '../support/client.js';
import { freshId } from '../support/engine-contract.js';
import { describeRedis } from '../support/redis.js';
import { startServer } from '../support/servers.js';
import { collect, waitFor, waitForEvent } from '../support/wait.js';
import { freePort, runCli, startCli, startServe } from './cli-fixtures.js';

describe('heartline connect', () => {
  it('sends stdin lines through serve and prints the echoes on stdout, then exits 0', async () => {
    const { url } = await startServe();
    const run = await runCli(['connect', url], { input: 'hello\nworld\n{"a":1}\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('hello\nworld\n{"a":1}\n');
    expect(run.stderr).toContain(`connected to ${url}`);
    // Diagnostics in a pipe: plain text, no colour or cursor codes.
    expect(run.stderr).not.toContain('\x1b');
  });

  it('survives a server restart: the reconnect shows on stderr and piping goes on', async () => {
    const first = await startServe(['--retry-spread', '300ms']);
    const client = startCli(['connect', first.url]);
    client.write('one\n');
    await client.waitForStdout(/^one\n/);

    first.cli.kill('SIGTERM');
    expect(await first.cli.exit()).toMatchObject({ code: 0 });
    await client.waitForStderr(/connection lost: 1012 ServiceRestart/);
    await client.waitForStderr(/reconnecting in \d+\.\d s \(attempt 1\) as the server asked/);
    client.write('two\n'); // queued while the server is down

    const second = startCli(['serve', '--port', String(first.port)]);
    await second.waitForStderr(/listening on/);
    await client.waitForStderr(/reconnected after/, 15_000);
    await client.waitForStdout(/^one\ntwo\n/, 5_000);
    client.write('three\n');
    await client.waitForStdout(/^one\ntwo\nthree\n/);
    client.end();
    expect(await client.exit()).toMatchObject({ code: 0 });
    expect(client.stdout()).toBe('one\ntwo\nthree\n');
    expect(second.stderr()).toMatch(/\+ \S+ from 127\.0\.0\.1/);
  });

  it('sends -H headers and --auth with the upgrade, as wscat does', async () => {
    const server = await startServer();
    const seen = server.nextConnection();
    const run = await runCli([
      'connect',
      server.url,
      '--no-session',
      '-H',
      'X-Token: abc 123',
      '--header',
      'X-Team:  core',
      '--auth',
      'ada:s3cret',
      '-x',
      'hello',
      '-w',
      '0.2',
    ]);
    const { request } = await seen;
    expect(request.headers['x-token']).toBe('abc 123');
    expect(request.headers['x-team']).toBe('core');
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from('ada:s3cret').toString('base64')}`,
    );
    expect(run).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('sends -x messages once connected, prints replies for -w, then exits 0 without reading stdin', async () => {
    const { url } = await startServe();
    const cli = startCli(['connect', url, '-x', 'one', '-x', 'two', '-w', '300ms']);
    // stdin stays open: -x does not read it.
    const exit = await cli.exit(5_000);
    expect(exit).toMatchObject({ code: 0 });
    expect(cli.stdout()).toBe('one\ntwo\n');
  });

  it("prints the server's protocol-level pings with -P", async () => {
    const { url } = await startServe(['--heartbeat-interval', '200ms']);
    const cli = startCli(['connect', url, '-P', '--no-session', '--heartbeat', 'off']);
    await cli.waitForStderr(/^< ping/m);
    cli.kill('SIGINT');
    expect(await cli.exit()).toMatchObject({ code: 0 });
    expect(cli.stdout()).toBe(''); // diagnostics, not data
  });

  it('refuses a bad -H and a -w without -x with 2', async () => {
    const bad = await runCli(['connect', 'ws://127.0.0.1:1/', '-H', 'no colon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Expected a header such as 'Authorization: Bearer abc'");
    const wait = await runCli(['connect', 'ws://127.0.0.1:1/', '-w', '2']);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('-w/--wait goes with -x/--execute');
  });

  it('exits 0 at once when stdin ends while the link is down and nothing is queued (issue #12)', async () => {
    const served = await startServe(['--retry-spread', '200ms']);
    const client = startCli(['connect', served.url]);
    client.write('one\n');
    await client.waitForStdout(/^one\n/);
    served.cli.kill('SIGTERM');
    await client.waitForStderr(/connection lost: 1012/);
    const ended = performance.now();
    client.end();
    expect(await client.exit(5_000)).toMatchObject({ code: 0 });
    expect(performance.now() - ended).toBeLessThan(3_000);
    expect(client.stderr()).toContain('input ended and nothing is left to send');
  });

  it('prints a failed reconnect attempt on the countdown line, not as an error line of its own', async () => {
    const served = await startServe(['--retry-spread', '100ms']);
    const client = startCli(['connect', served.url]);
    await client.waitForStderr(/connected to/);
    served.cli.kill('SIGTERM');
    await client.waitForStderr(/last attempt: connect ECONNREFUSED/, 10_000);
    expect(client.stderr()).not.toMatch(/^error: /m);
  });

  it('reaches a wss: server with a self-signed certificate with --ca or --no-check, and not without', async () => {
    // A certificate for 127.0.0.1, made for this test by openssl.
    const dir = mkdtempSync(path.join(tmpdir(), 'heartline-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
        ...['-keyout', key, '-out', cert],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(String(data))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      for (const client of wss.clients) client.terminate();
      server.close();
    });
    const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const refused = await runCli(['connect', url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('self-signed certificate');
    for (const trust of [['--ca', cert], ['--no-check']]) {
      const run = await runCli([
        'connect',
        url,
        '--no-session',
        ...trust,
        '-x',
        'over tls',
        '-w',
        '0.2',
      ]);
      expect(run, trust.join(' ')).toMatchObject({ code: 0, stdout: 'over tls\n' });
    }
  });

  it('exits with 2 for a bad URL, naming what it expected', async () => {
    const run = await runCli(['connect', 'ftp://127.0.0.1/']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Expected a ws:, wss:, http: or https: URL, got 'ftp:'");
    const spaced = await runCli(['connect', 'ws://local host/']);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('Expected a WebSocket URL');
  });

  it('exits with 3 when nothing listens, with the reason', async () => {
    const port = await freePort();
    const run = await runCli(['connect', `ws://127.0.0.1:${port}/`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`could not connect to ws://127.0.0.1:${port}/`);
    expect(run.stderr).toContain('ECONNREFUSED');
  });

  it('exits with 3 when the server refuses the handshake, with its status and words', async () => {
    const { url } = await startServe(['--no-allow-missing-origin']);
    const run = await runCli(['connect', url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/the server refused the upgrade: HTTP 403 Forbidden: \S+/);
  });

  it('exits with 4 when the server closes with a code retrying cannot fix', async () => {
    const server = await startServer({
      onConnection: (socket) => socket.close(1008, 'not allowed'),
    });
    const run = await runCli(['connect', server.url, '--linger', 'forever']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('connection lost: 1008 PolicyViolation "not allowed"');
    expect(run.stderr).toContain('closed for good: 1008 PolicyViolation');
  });
});

describe('heartline serve', () => {
  it('prints its URL on stdout, logs clients on stderr, and shuts down with 1012 on SIGTERM', async () => {
    const { cli, url } = await startServe(['--mode', 'broadcast', '--retry-spread', '200ms']);
    expect(cli.stdout()).toBe(`${url}\n`);
    const listener = startCli(['connect', url, '--heartbeat', 'off']);
    await listener.waitForStderr(/connected to/);
    const speaker = await runCli(['connect', url], { input: 'to everyone\n' });
    expect(speaker.stdout).toBe(''); // broadcast: not back to the sender
    await listener.waitForStdout(/^to everyone\n/);
    await cli.waitForStderr(/\+ \S+ from 127\.0\.0\.1 \(\w+ mode; 2 clients\)/);
    cli.kill('SIGTERM');
    expect(await cli.exit()).toMatchObject({ code: 0 });
    expect(cli.stderr()).toMatch(/SIGTERM: shutting down/);
    await listener.waitForStderr(/connection lost: 1012 ServiceRestart/);
  });

  it('exits with 1 when the port is taken', async () => {
    const { port } = await startServe();
    const run = await runCli(['serve', '--port', String(port)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`127.0.0.1:${port} is already in use`);
  });
});

describeRedis('heartline serve --redis', (suite) => {
  it('relays a broadcast mode message to the clients of every serve on the same Redis and prefix', async () => {
    const args = ['--mode', 'broadcast', '--redis', suite.redis.unixUrl, '--prefix'];
    const prefix = freshId('cli');
    const [one, two] = await Promise.all([
      startServe([...args, prefix]),
      startServe([...args, prefix]),
    ]);
    const a = openClient(one.url);
    const b = openClient(two.url);
    await Promise.all([a, b].map((s) => waitForEvent(s, 'open')));
    const [toA, toB] = [a, b].map((s) => collect<MessageEvent>(s, 'message'));
    a.send('from a, on the first serve');
    await waitFor(() => toB!.events.length === 1, { message: "a's message at b" });
    b.send('from b, on the second serve');
    await waitFor(() => toA!.events.length === 1, { message: "b's message at a" });
    // Not back to its sender: b's reply went into the log after a's message, so a copy of
    // a's message to a would have come first.
    expect(toA!.events.map((e) => e.data)).toEqual(['from b, on the second serve']);
    expect(toB!.events.map((e) => e.data)).toEqual(['from a, on the first serve']);
    for (const served of [one, two]) {
      served.cli.kill('SIGTERM');
      expect(await served.cli.exit()).toMatchObject({ code: 0 });
    }
  });
});
