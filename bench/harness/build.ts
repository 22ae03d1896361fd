/**
 * Compiles src/ into bench/.build/ with the package's own tsconfig.build.json (the same modules
 * as dist/, without declarations or maps). The bench imports this private copy so that a
 * concurrent `npm run build` (which deletes dist/ first) cannot break a run, and so that a run
 * measures the source as it was when the run began.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));

export function buildForBench(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      BUILD_DIR,
      '--declaration',
      'false',
      '--declarationMap',
      'false',
      '--sourceMap',
      'false',
      '--inlineSources',
      'false',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
