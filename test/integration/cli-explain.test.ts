import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeClose } from '../../src/client/index.js';
import { runCli } from './cli-fixtures.js';

describe('heartline explain', () => {
  it('prints the catalog entry of a code and whether to retry', async () => {
    const run = await runCli(['explain', '1008']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const entry = describeClose(1008);
    expect(run.stdout).toContain('1008 PolicyViolation');
    expect(run.stdout).toContain(entry.explanation);
    expect(run.stdout).toContain('Should a client retry? no: retrying cannot fix this');
  });

  it('accepts catalog names and prints JSON with --json', async () => {
    const run = await runCli(['explain', 'serviceRestart', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(describeClose(1012));
  });

  it('lists the whole catalog without a code', async () => {
    const run = await runCli(['explain']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^1000 {2}retry {2}NormalClosure/m);
    expect(run.stdout).toMatch(/^1008 {2}stop {3}PolicyViolation/m);
    expect(run.stdout).toMatch(/^4408 {2}retry {2}HeartbeatTimeout/m);
  });

  it('exits with 2 and says what it expected for input that is not a close code', async () => {
    for (const bad of ['abc', '70000', '-1']) {
      const run = await runCli(['explain', bad]);
      expect(run.code, bad).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/Expected a close code|unknown option/);
    }
  });
});

describe('heartline', () => {
  it('prints its version with --version', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const run = await runCli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('lists its commands and exit codes in --help, and each command has examples', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['serve', 'connect', 'probe', 'explain', 'demo'])
      expect(run.stdout).toContain(command);
    expect(run.stdout).toMatch(/Exit codes:[\s\S]*\b3 +could not connect/);
    for (const command of ['serve', 'connect', 'probe', 'explain', 'demo']) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain(`$ heartline ${command}`);
      expect(help.stdout, command).toContain('Exit codes:');
    }
  });

  it('wraps every help at 80 columns without ragged lines, and lists only its own exit codes', async () => {
    for (const command of [[], ['serve'], ['connect'], ['probe'], ['explain'], ['demo']]) {
      const help = await runCli([...command, '--help']);
      const lines = help.stdout.split('\n');
      for (const line of lines) expect(line.length, `${command}: ${line}`).toBeLessThanOrEqual(80);
      // The description: every line but a paragraph's last fills most of the width.
      const description = help.stdout.split('\n\n')[1]!.split('\n');
      for (const line of description.slice(0, -1))
        expect(line.length, `${command}: ragged "${line}"`).toBeGreaterThan(60);
    }
    const explain = await runCli(['explain', '--help']);
    expect(explain.stdout).not.toContain('could not connect');
    expect(explain.stdout).toMatch(/Exit codes:\n {2}0 +done\n {2}2 +usage error/);
  });

  it("mentions 'off' when a heartbeat duration is 0", async () => {
    const run = await runCli(['serve', '--heartbeat-interval', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Expected a duration above 0, or 'off' for none, got '0'");
  });

  it('exits with 2 for an unknown command or option', async () => {
    const command = await runCli(['frobnicate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'frobnicate'");
    const option = await runCli(['explain', '1000', '--loud']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--loud'");
  });
});
