/**
 * CPU profiles of one echo-throughput peer (harness/peers.ts), client and server each in its own
 * process as in the bench, and the functions with the most self time on each side. The profile
 * covers the measured window only (after the warm-up), so that a run before and a run after a
 * change compare like with like. Compiles src/ into bench/.build/ first, as `npm run bench` does.
 *
 *   npm run bench:profile -- <peer> [client|server|both] [--window=3000] [--top=15] [--no-build]
 *   npm run bench:profile -- heartline-plain               both sides of plain mode
 *   npm run bench:profile -- heartline-session server
 *
 * Writes bench/results/profiles/<peer>-<side>-<commit>.cpuprofile (open it in Chrome DevTools,
 * Performance → Load profile) and prints one table per side.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildForBench } from './harness/build.js';
import { fixed, int } from './harness/format.js';
import { PEERS } from './harness/peers.js';
import { type Child, killAll } from './harness/processes.js';
import { echoRound } from './scenarios/throughput.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
};
const [id, side = 'both'] = args.filter((a) => !a.startsWith('--'));
const peer = PEERS.find((p) => p.id === id);
if (!peer || !['client', 'server', 'both'].includes(side)) {
  console.error(
    `usage: npm run bench:profile -- <${PEERS.map((p) => p.id).join('|')}> [client|server|both] ` +
      '[--window=3000] [--top=15] [--no-build]',
  );
  process.exit(2);
}
const windowMs = option('window', 3_000);
const top = option('top', 15);
const sides = (side === 'both' ? ['client', 'server'] : [side]) as ('client' | 'server')[];

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIR = fileURLToPath(new URL('./results/profiles/', import.meta.url));
mkdirSync(DIR, { recursive: true });
const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
const commit =
  git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--', 'src') ? '-dirty' : '');

if (!args.includes('--no-build')) {
  console.error('compiling src/ into bench/.build/ …');
  buildForBench();
}
process.on('exit', killAll);

const files = Object.fromEntries(
  sides.map((s) => [s, `${DIR}${peer.id}-${s}-${commit}.cpuprofile`]),
) as Record<'client' | 'server', string>;
const both = (client: Child, server: Child) => ({ client, server });
const r = await echoRound(peer, 1_000, 500, windowMs, {
  async start(client, server) {
    const children = both(client, server);
    for (const s of sides) children[s].send({ type: 'profile-start' });
    await Promise.all(sides.map((s) => children[s].next('profile-started')));
  },
  async stop(client, server) {
    const children = both(client, server);
    for (const s of sides) children[s].send({ type: 'profile-stop', file: files[s] });
    await Promise.all(sides.map((s) => children[s].next('profile-stopped', 30_000)));
  },
});
console.log(
  `${peer.label} at ${commit}: ${int(r.rate)} msgs/s over ${windowMs / 1000} s (profiler on: ` +
    `${sides.join(' and ')}); CPU µs per message: client ${fixed(r.clientCpu, 2)}, server ` +
    `${fixed(r.serverCpu, 2)}`,
);

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A script's place, short: heartline/…, ws/lib/…, node:internal/…. */
function where(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(`${ROOT}bench/.build/`, 'heartline/')
    .replace(`${ROOT}bench/`, 'bench/')
    .replace(/^.*\/node_modules\//, '');
}

for (const s of sides) {
  const profile = JSON.parse(readFileSync(files[s], 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((sample, i) => {
    const t = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = nodes.get(sample)!;
    if (frame.functionName === '(idle)') {
      idle += t;
      return;
    }
    busy += t;
    const place = frame.url ? ` ${where(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${place}`;
    self.set(key, (self.get(key) ?? 0) + t);
  });
  console.log('');
  console.log(
    `${s}: ${files[s].replace(ROOT, '')}; ${int(busy)} ms busy, ${int(idle)} ms idle; ` +
      `top ${top} by self time (share of busy time):`,
  );
  console.log('');
  console.log('| self | ms | function |');
  console.log('| ---: | ---: | --- |');
  for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${fixed((t / busy) * 100)} % | ${int(t)} | \`${key}\` |`);
  }
}
process.exit(0);
