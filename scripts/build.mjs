// Builds dist/: tsc emits the ESM modules and their .d.ts; esbuild makes the one-file browser
// bundle (dist/browser/heartline.min.js) that the demo page and the browser tests load.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  outfile: 'dist/browser/heartline.min.js',
  logLevel: 'warning',
});
if (existsSync('dist/cli/bin.js')) chmodSync('dist/cli/bin.js', 0o755);
