// Builds dist/: tsc emits the ESM modules and their .d.ts; esbuild makes the one-file browser
// bundle (dist/browser/heartline.min.js, exported as heartline/browser) that the demo page and
// the browser tests load.
//
// What is published is what a user can use: source maps carry their sources (src/ is not
// published, so a map pointing at it would lead nowhere), there are no declaration maps (they
// would point at src/ too), and only the .d.ts files that an exported entry reaches are kept:
// the CLI's, and those of modules no public type mentions, could never be imported.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    stdio: 'inherit',
  },
);
await build({
  entryPoints: ['src/client/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  // A production build, as an app's bundler makes one: the development-only sentences of
  // errors are left out (esbuild would assume this of a minified build anyway).
  define: { 'process.env.NODE_ENV': '"production"' },
  outfile: 'dist/browser/heartline.min.js',
  logLevel: 'warning',
});
pruneDeclarations();
if (existsSync('dist/cli/bin.js')) chmodSync('dist/cli/bin.js', 0o755);

/** Deletes each .d.ts under dist/ that no `types` entry of the exports imports, directly or not. */
function pruneDeclarations() {
  const { exports } = JSON.parse(readFileSync('package.json', 'utf8'));
  const queue = Object.values(exports)
    .flatMap((entry) => (typeof entry === 'string' ? [entry] : Object.values(entry)))
    .filter((target) => target.endsWith('.d.ts'))
    .map((target) => path.posix.normalize(target));
  const reached = new Set();
  while (queue.length > 0) {
    const file = queue.pop();
    if (reached.has(file) || !existsSync(file)) continue;
    reached.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(
      /(?:from |import\()'(\.\.?\/[^']+)'/g,
    ))
      queue.push(path.posix.join(path.posix.dirname(file), specifier).replace(/\.js$/, '.d.ts'));
  }
  for (const entry of readdirSync('dist', { recursive: true })) {
    const file = path.posix.join('dist', entry.split(path.sep).join('/'));
    if (file.endsWith('.d.ts') && !reached.has(file)) rmSync(file);
  }
}
