/**
 * `npm run bench`: Heartline next to ws, socket.io, reconnecting-websocket and partysocket, all
 * measured in one run on this machine, in under 10 minutes on 2 cores. Writes bench/RESULTS.md
 * and bench/results/latest.json.
 *
 *   npm run bench                      the full run (writes RESULTS.md and latest.json)
 *   npm run bench -- --quick           a reduced run in 1–2 minutes, for development
 *                                      (writes bench/results/quick.json and quick.md)
 *   npm run bench -- --only=idle,storm some scenarios (writes bench/results/partial.json and .md);
 *                                      `--only throughput` works too
 *   npm run bench -- --no-build        reuse bench/.build from the last run
 *
 * Scenarios: throughput, latency, fanout, idle, detection, stall, storm, churn, and cluster
 * (heartline/redis against socket.io's Redis adapters, with a real redis-server); the goals
 * of issues 10 and 13 and the earlier targets still in force head the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildForBench } from './harness/build.js';
import { cpuBusy, describeEnvironment } from './harness/environment.js';
import { ms } from './harness/format.js';
import { killAll } from './harness/processes.js';
import { renderReport } from './harness/report.js';
import type { Scenario, ScenarioResult } from './harness/types.js';
import { churn } from './scenarios/churn.js';
import { cluster } from './scenarios/cluster.js';
import { detection } from './scenarios/detection.js';
import { fanout } from './scenarios/fanout.js';
import { idle } from './scenarios/idle.js';
import { latency } from './scenarios/latency.js';
import { stall } from './scenarios/stall.js';
import { reconnectStorm } from './scenarios/storm.js';
import { throughput } from './scenarios/throughput.js';

const SCENARIOS: readonly Scenario[] = [
  throughput,
  latency,
  fanout,
  idle,
  detection,
  stall,
  reconnectStorm,
  churn,
  cluster,
];
// A full run on a quiet 2-core machine: about 12 minutes since issue 13's interleaved rounds
// (echo 5 rounds of 9 peers, the storm's Heartline rows 3 rounds of 5,000 clients).
const BUDGET = 15 * 60_000;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.findIndex((a) => a === '--only' || a.startsWith('--only='));
const onlyArg =
  args[onlyAt] === '--only' ? args[onlyAt + 1] : args[onlyAt]?.slice('--only='.length);
const only = onlyAt < 0 ? undefined : (onlyArg ?? '').split(',');
const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
if (unknown.length > 0) {
  console.error(
    `Unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`,
  );
  process.exit(2);
}
const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
const full = !quick && !only;

const log = (message: string) => console.error(message);
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

const started = performance.now();
const environment = await describeEnvironment();
log(
  `heartline bench${quick ? ' (quick)' : ''}: ${environment.machine.cpus} CPUs, Node ${environment.node}, ` +
    `load ${environment.loadavgAtStart.join(' ')}, CPUs ${Math.round(environment.cpuBusyAtStart * 100)} % busy now, ` +
    `ulimit -n ${environment.openFilesLimit}`,
);
if (environment.cpuBusyAtStart > 0.25) {
  log(
    `warning: other processes keep ${Math.round(environment.cpuBusyAtStart * 100)} % of the CPUs busy; figures will be noisy`,
  );
}
const needFiles = quick ? 2_500 : 10_500;
if (Number(environment.openFilesLimit) < needFiles) {
  log(
    `warning: ulimit -n is ${environment.openFilesLimit}; the idle scenario needs about ${needFiles}`,
  );
}

if (!args.includes('--no-build')) {
  log('compiling src/ into bench/.build/ …');
  buildForBench();
}

const results: ScenarioResult[] = [];
for (const scenario of selected) {
  // Our processes are idle between scenarios: what keeps the CPUs busy now is other work.
  const busyBefore = await cpuBusy();
  log(`${scenario.title} … (other work: ${Math.round(busyBefore * 100)} % of the CPUs)`);
  const t0 = performance.now();
  const result = await scenario.run({ quick, log });
  result.durationMs = performance.now() - t0;
  result.busyBefore = busyBefore;
  log(`${scenario.title}: ${ms(result.durationMs)}`);
  results.push(result);
}
killAll();

environment.loadavgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
const totalMs = performance.now() - started;
const run = {
  environment,
  quick,
  totalMs,
  scenarios: results,
};
const markdown = renderReport(run);
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const name = full ? 'latest' : quick && !only ? 'quick' : 'partial';
writeFileSync(`${resultsDir}${name}.json`, `${JSON.stringify(run, null, 2)}\n`);
if (full) writeFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), markdown);
else writeFileSync(`${resultsDir}${name}.md`, markdown);
console.log(markdown);
log(
  `done in ${ms(totalMs)}${full && totalMs > BUDGET ? ` — OVER the ${ms(BUDGET)} budget` : ''}; ` +
    `wrote ${full ? 'bench/RESULTS.md and bench/results/latest.json' : `bench/results/${name}.json and .md`}`,
);
process.exit(0);
