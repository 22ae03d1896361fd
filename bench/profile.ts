/**
 * CPU profile of one echo-throughput variant (bench/scenarios/throughput.ts): runs its server and
 * client as the bench does, with `--cpu-prof` on the side asked for, and prints the functions
 * with the most self time. Run `npm run bench -- --only=throughput` (or any run) first: it
 * compiles bench/.build.
 *
 *   npx tsx bench/profile.ts heartline-plain server [messages=300000] [dir=bench/results/profiles]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Child, killAll, type Message } from './harness/processes.js';
import { VARIANTS } from './scenarios/throughput.js';

const [id = 'heartline-plain', side = 'server', total = '300000', dir = 'bench/results/profiles'] =
  process.argv.slice(2);
const variant = VARIANTS.find((v) => v.id === id);
if (!variant || (side !== 'server' && side !== 'client')) {
  console.error(
    `usage: tsx bench/profile.ts <${VARIANTS.map((v) => v.id).join('|')}> <server|client> [messages] [dir]`,
  );
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const prof = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const server = new Child(
  'server.mjs',
  [JSON.stringify(variant.server)],
  ['--expose-gc', ...(side === 'server' ? prof : [])],
);
const { port } = await server.next<Message & { port: number }>('listening');
const client = new Child(
  'echo-client.mjs',
  [
    JSON.stringify({
      ...variant.client,
      url: `ws://127.0.0.1:${port}`,
      total: Number(total),
      window: 1_000,
    }),
  ],
  side === 'client' ? prof : [],
);
const result = await client.next<Message & { rate: number }>('result', 120_000);
await client.exited;
await server.stop(5_000);
killAll();
console.log(`${variant.label}: ${Math.round(result.rate)} msg/s`);

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}
const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile was written');
const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let totalTime = 0;
profile.samples.forEach((sample, i) => {
  const t = profile.timeDeltas[i] ?? 0;
  totalTime += t;
  const { functionName, url, lineNumber } = nodes.get(sample)!.callFrame;
  const where = url.replace(/^.*\/(node_modules|main)\//, '');
  const key = `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`;
  self.set(key, (self.get(key) ?? 0) + t);
});
console.log(`${dir}/${file}: ${(totalTime / 1e6).toFixed(2)} s sampled; self time:`);
for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${((t / totalTime) * 100).toFixed(1).padStart(6)} %  ${key}`);
}
