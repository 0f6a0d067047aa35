/**
 * `npm run bench`: performance goals are checked here, never in timed unit tests. Prints one line per benchmark;
 * the README's performance section records the figures.
 */
import { runPkgsrcBench } from './pkgsrc.bench.js';
import { runPlanBench } from './plan.bench.js';
import { runProbeBench } from './probe.bench.js';
import { runSpecBench } from './spec.bench.js';

const results = [
  ...(await runPkgsrcBench()),
  ...(await runSpecBench()),
  ...(await runPlanBench()),
  ...(await runProbeBench()),
];
const width = Math.max(...results.map((r) => r.name.length));
for (const { name, ops, seconds } of results) {
  const rate = ops / seconds;
  console.log(
    `${name.padEnd(width)}  ${ops.toLocaleString('en-US').padStart(11)} ops  ${seconds.toFixed(3).padStart(7)} s  ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s`,
  );
}
