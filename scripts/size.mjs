// Prints what a browser app pays for Heartline, min+gzip (gzip level 9), and fails with
// --check when the app figure passes the budget (npm test runs it after the build, so CI does).
//
//   app bundle   what an app gets from `import { HeartlineSocket } from 'heartline'`: esbuild
//                bundles an entry that constructs one (so nothing is shaken away) from dist/,
//                minified, ESM, for the browser, with process.env.NODE_ENV defined as
//                "production" (what every bundler's production build does) and, for the
//                development figure, as "development".
//   full bundle  dist/browser/heartline.min.js, everything `heartline` exports (heartline/browser).
//
// Usage: node scripts/size.mjs [--check] [--modules]
//   --check    exit 1 when the production app bundle is over BUDGET bytes min+gzip, or when the
//              README does not quote its figure (in kB of 1,000 bytes, one decimal)
//   --modules  also print each module's minified bytes in the production app bundle (esbuild's
//              metafile; before gzip, so it shows where the bytes are, not their gzip share)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Bytes, min+gzip, the production app bundle may take: the figure reached, plus about 0.5 % for
 * small changes (raised once, 16,640 -> 16,960, for the split of HeartlineSocket into its
 * surface, Lifecycle and Sender: +280 B of class shells and kept names). The goal of issue 13
 * is GOAL; what stands between is in CHANGELOG.md.
 */
export const BUDGET = 16_960;
export const GOAL = 5_120;

const args = new Set(process.argv.slice(2));
const client = path.resolve('dist/client/index.js');
const entry = `import { HeartlineSocket } from ${JSON.stringify(client)};\nglobalThis.socket = new HeartlineSocket('ws://x');\n`;

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

/** Bundles the app entry as an app's bundler would; `env` is process.env.NODE_ENV. */
async function appBundle(env) {
  const result = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: 'app.js', loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    define: { 'process.env.NODE_ENV': JSON.stringify(env) },
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gz: gzip(code), metafile: result.metafile };
}

const prod = await appBundle('production');
const dev = await appBundle('development');
const full = readFileSync('dist/browser/heartline.min.js');
const rows = [
  ['app bundle, production', prod.min, prod.gz],
  ['app bundle, development', dev.min, dev.gz],
  ['dist/browser/heartline.min.js', full.length, gzip(full)],
];
for (const [name, min, gz] of rows)
  console.log(
    `${name.padEnd(32)} ${String(min).padStart(6)} B min  ${String(gz).padStart(6)} B min+gzip (${kB(gz)})`,
  );

if (args.has('--modules')) {
  const [output] = Object.values(prod.metafile.outputs);
  const inputs = Object.entries(output.inputs).sort(
    (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
  );
  console.log('\nproduction app bundle by module (minified bytes, before gzip):');
  for (const [file, { bytesInOutput }] of inputs)
    if (bytesInOutput > 0)
      console.log(`${String(bytesInOutput).padStart(7)}  ${path.relative(process.cwd(), file)}`);
}

if (args.has('--check')) {
  if (prod.gz > BUDGET) {
    console.error(
      `size budget: the production app bundle is ${prod.gz} B min+gzip, over the ${BUDGET} B budget (scripts/size.mjs)`,
    );
    process.exit(1);
  }
  const quoted = `${(prod.gz / 1000).toFixed(1)} kB min+gzip`;
  if (!readFileSync('README.md', 'utf8').includes(quoted)) {
    console.error(
      `size budget: README.md should quote the app bundle as "${quoted}" (scripts/size.mjs)`,
    );
    process.exit(1);
  }
  console.log(`size budget: ${prod.gz} B of ${BUDGET} B (goal ${GOAL} B); README quotes ${quoted}`);
}
