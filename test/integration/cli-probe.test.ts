import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { ProbeReport } from '../../src/cli/probe.js';
import { startServer } from '../support/servers.js';
import { freePort, runCli, startServe } from './cli-fixtures.js';

/** Closes a connection after `ms` without anything from the client, as an idle-cutting server does. */
function cutIdleAfter(ms: number) {
  return (socket: WebSocket) => {
    let timer = setTimeout(() => socket.close(1001, 'idle timeout'), ms);
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(() => socket.close(1001, 'idle timeout'), ms);
    };
    socket.on('message', reset);
    socket.on('ping', reset);
    socket.on('close', () => clearTimeout(timer));
  };
}

describe('heartline probe', () => {
  it('measures an idle timeout of 2 s within 20 % and recommends a heartbeat', async () => {
    const server = await startServer({ echo: false, onConnection: cutIdleAfter(2_000) });
    const run = await runCli(['probe', server.url, '--max', '10s', '--json'], { timeout: 15_000 });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ProbeReport;
    expect(report.idle).toMatchObject({
      cut: true,
      code: 1001,
      reason: 'idle timeout',
      name: 'GoingAway',
      serverPings: 0,
      serverMessages: 0,
    });
    expect(report.idle.after).toBeGreaterThanOrEqual(1_600);
    expect(report.idle.after).toBeLessThanOrEqual(2_400);
    expect(report.recommendedHeartbeat).toBe(1_000);
    expect(report.rtt.samples).toHaveLength(5);
    expect(report.handshake).toBeGreaterThan(0);
    expect(run.stderr).toContain('holding an idle connection for up to 10.0 s');
  });

  it('prints a report for people, and says so when nothing cut the link within --max', async () => {
    const { url } = await startServe(['--heartbeat-interval', 'off']);
    const run = await runCli(['probe', url, '--max', '1s', '--samples', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^url +ws:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(run.stdout).toMatch(/^handshake +\d+(\.\d)? ms$/m);
    expect(run.stdout).toMatch(
      /^rtt +min [\d.]+ ms, avg [\d.]+ ms, max [\d.]+ ms \(2 protocol pings\)$/m,
    );
    expect(run.stdout).toMatch(/^idle cut +none within 1\.0 s$/m);
    expect(run.stderr).not.toContain('\x1b');
  });

  it('closes its idle connection with a close frame, so the server logs no lost link (issue #12)', async () => {
    const served = await startServe(['--heartbeat-interval', 'off']);
    const run = await runCli(['probe', served.url, '--max', '300ms', '--samples', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ProbeReport;
    // Figures to a tenth of a millisecond, not 5.922141999999994.
    for (const n of [report.handshake, ...report.rtt.samples, report.rtt.avg!])
      expect(Math.round(n * 10) / 10).toBe(n);
    expect(Number.isInteger(report.idle.after)).toBe(true);
    await served.cli.waitForStderr(/link dropped: 1000 .*\n[\s\S]*link dropped: 1000 /);
    expect(served.cli.stderr()).not.toContain('1006');
  });

  it('does not call the default heartbeat unsafe when --max is short', async () => {
    const { url } = await startServe(['--heartbeat-interval', 'off']);
    const run = await runCli(['probe', url, '--max', '500ms', '--samples', '0']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^heartbeat +no cut within 500 ms, too short to judge/m);
  });

  it('exits with 3 when nothing listens, and with 2 for a bad --max', async () => {
    const port = await freePort();
    const refused = await runCli(['probe', `ws://127.0.0.1:${port}/`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`could not connect to ws://127.0.0.1:${port}/`);
    const bad = await runCli(['probe', `ws://127.0.0.1:${port}/`, '--max', '10 minutes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a duration such as 1500ms, 90s, 10m or 1m30s');
  });
});
