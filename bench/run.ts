/**
 * `npm run bench`: performance goals are checked here, never in timed unit tests. Prints one line per benchmark;
 * the README's performance section records the figures.
 */
import { runListingBench } from './listing-once.bench.js';
import { runPkgsrcBench } from './pkgsrc.bench.js';
import { runProbeBench } from './probe.bench.js';
import { runServeBench, SERVE_BENCH_SIZE } from './serve.bench.js';
import { runSizesBench } from './sizes.bench.js';
import { runSpecBench } from './spec.bench.js';

const results = [...(await runPkgsrcBench()), ...(await runSpecBench()), ...(await runProbeBench())];
const width = Math.max(...results.map((r) => r.name.length));
for (const { name, ops, seconds } of results) {
  const rate = ops / seconds;
  console.log(
    `${name.padEnd(width)}  ${ops.toLocaleString('en-US').padStart(11)} ops  ${seconds.toFixed(3).padStart(7)} s  ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s`,
  );
}

// At real sizes: CPU time is the figure (steady on a shared machine), wall time next to it.
console.log('\nAt real sizes (each in its own process; goals do not fail the run):');
runSizesBench((g) => {
  console.log(`${g.name.padEnd(64)}  ${g.figure}  goal ${g.goal}: ${g.met ? 'met' : 'NOT MET'}`);
});

console.log(
  '\nProbe of a site whose repository lists 25,000 packages (local backend, dash, simulated site):',
);
for (const { name, reportBytes, seconds } of await runListingBench()) {
  console.log(
    `${name.padEnd(52)}  report ${Math.round(reportBytes / 1024).toLocaleString('en-US')} KB  ${seconds.toFixed(2)} s`,
  );
}

const served = await runServeBench();
console.log(
  `\nThe report service under load (loopback, 50 concurrent clients; its own process; state of ${SERVE_BENCH_SIZE}, one report build ${(served.buildMs / 1000).toFixed(1)} s):`,
);
for (const f of served.cases) {
  const builds = f.builds === undefined ? '' : `  ${f.builds} report build(s) finished meanwhile`;
  console.log(
    `${f.name.padEnd(56)}  ${Math.round(f.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p99 ${Math.round(f.p99Ms)} ms  max ${Math.round(f.maxMs)} ms  ${f.failed} failed${builds}`,
  );
}
