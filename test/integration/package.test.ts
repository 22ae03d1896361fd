/**
 * The package as npm publishes it (`npm pack --dry-run --json`, after `npm run build`): every
 * file in it is one a user can use, and it loads the ways users load it: `import`, CommonJS
 * `require` (Node >= 20.19 loads ES modules with require) and TypeScript's older resolution.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  typesVersions: Record<string, Record<string, string[]>>;
};

/** Every exported file: `{ '.': ['./dist/client/index.d.ts', …], … }`. */
function exportTargets(): Map<string, string[]> {
  const targets = new Map<string, string[]>();
  for (const [subpath, entry] of Object.entries(pkg.exports))
    targets.set(subpath, typeof entry === 'string' ? [entry] : Object.values(entry));
  return targets;
}

/** A project that depends on this package (linked, as `npm link` would), removed afterwards. */
function consumer(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'heartline-consumer-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'heartline'), 'dir');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('the published package', () => {
  let files: string[] = [];

  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      timeout: 30_000,
    });
    files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  }, 40_000);

  it('holds the documents a user reads', () => {
    for (const doc of [
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'PROTOCOL.md',
      'docs/cli.md',
      'docs/server.md',
    ])
      expect(files, doc).toContain(doc);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('holds every file its exports and its bin name', () => {
    for (const [subpath, targets] of exportTargets())
      for (const target of targets)
        expect(files, `${subpath}: ${target}`).toContain(target.slice(2));
    expect(files).toContain('dist/cli/bin.js');
    expect(files).toContain('dist/browser/heartline.min.js');
  });

  it('ships no source map that points at a file it does not ship', () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(
        readFileSync(path.join(ROOT, map), 'utf8'),
      ) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      sources.forEach((source, i) => {
        const shipped = files.includes(path.posix.join(path.posix.dirname(map), source));
        expect(shipped || typeof sourcesContent?.[i] === 'string', `${map}: ${source}`).toBe(true);
      });
    }
    expect(files.some((f) => f.endsWith('.d.ts.map'))).toBe(false);
  });

  it('ships only declaration files that an exported entry reaches', () => {
    const declarations = files.filter((f) => f.endsWith('.d.ts'));
    const reached = new Set<string>();
    const queue = [...exportTargets().values()]
      .flat()
      .filter((t) => t.endsWith('.d.ts'))
      .map((t) => t.slice(2));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from |import\()'(\.\.?\/[^']+)'/g))
        queue.push(path.posix.join(path.posix.dirname(file), specifier!).replace(/\.js$/, '.d.ts'));
    }
    expect(declarations.filter((f) => !reached.has(f))).toEqual([]);
    expect(declarations.some((f) => f.startsWith('dist/cli/'))).toBe(false);
  });

  it('loads with require() from CommonJS on this Node, and with import', async () => {
    const dir = consumer({
      'check.cjs': `
const { HeartlineSocket, CloseCode } = require('heartline');
const { HeartlineServer } = require('heartline/server');
console.log(typeof HeartlineSocket, CloseCode.PolicyViolation, typeof HeartlineServer);
console.log(require.resolve('heartline/browser').endsWith('dist/browser/heartline.min.js'));
`,
      'check.mjs': `
import { HeartlineSocket } from 'heartline';
import { HeartlineServer } from 'heartline/server';
import * as browser from 'heartline/browser';
console.log(typeof HeartlineSocket, typeof HeartlineServer, typeof browser.HeartlineSocket);
`,
    });
    const cjs = await run(process.execPath, ['check.cjs'], { cwd: dir, timeout: 10_000 });
    expect(cjs.stdout).toBe('function 1008 function\ntrue\n');
    const esm = await run(process.execPath, ['check.mjs'], { cwd: dir, timeout: 10_000 });
    expect(esm.stdout).toBe('function function function\n');
  });

  it('type-checks heartline/server under TypeScript’s node10 resolution, and CommonJS nodenext', async () => {
    const source = `import { HeartlineSocket } from 'heartline';
import { HeartlineServer } from 'heartline/server';
export const both: [typeof HeartlineSocket, typeof HeartlineServer] = [HeartlineSocket, HeartlineServer];
`;
    const dir = consumer({ 'node10.ts': source, 'commonjs.cts': source });
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--skipLibCheck', '--types', 'node', '--typeRoots'];
    const typeRoots = path.join(ROOT, 'node_modules/@types');
    await run(
      process.execPath,
      [
        tsc,
        ...common,
        typeRoots,
        '--module',
        'commonjs',
        '--moduleResolution',
        'node10',
        'node10.ts',
      ],
      { cwd: dir, timeout: 30_000 },
    );
    await run(
      process.execPath,
      [tsc, ...common, typeRoots, '--module', 'nodenext', 'commonjs.cts'],
      { cwd: dir, timeout: 30_000 },
    );
  }, 40_000);
});
