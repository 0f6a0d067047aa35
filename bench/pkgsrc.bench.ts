// Micro-benchmark of the pkgsrc hot paths: dewey comparison and pkg_match. Wired into `npm run bench`.
import { compareVersions, matchPattern } from '../src/pkgsrc/index.js';

export interface BenchResult {
  name: string;
  ops: number;
  seconds: number;
}

// Realistic inputs: versions and names as found in pkgsrc repositories and in the reference vectors.
const VERSIONS = [
  '2.7',
  '2.7nb1',
  '2.8',
  '3.0.13',
  '3.0.15',
  '1.0rc1',
  '1.0alpha2',
  '1.0beta1',
  '1.0pl1',
  '1.0_1',
  '1.0a',
  '6.30.02',
  '6.30.2',
  '20170419',
  '20091115',
  '2024.01',
  '1.26.4',
  '3.11.7',
  '3.11.9',
  '1.2.13',
  '1.3.1',
  '1.14.3',
  '1.12.2nb3',
  '11.2.0',
];
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['gsl>=2.7', 'gsl-2.8'],
  ['gsl>=2.7<3', 'gsl-2.7nb1'],
  ['openssl<3.0.14', 'openssl-3.0.13'],
  ['openssl<3.0.15', 'zlib-1.3.1'],
  ['python311>=3.11', 'python311-3.11.7'],
  ['py311-numpy>=1.26<2', 'py311-numpy-1.26.4'],
  ['gsl', 'gsl-2.8'],
  ['gsl', 'fftw-3.3.10'],
  ['gsl-2.7*', 'gsl-2.7nb1'],
  ['gsl-[0-9]*', 'gsl-2.8'],
  ['{gsl,fftw}-[0-9]*', 'fftw-3.3.10'],
  ['{gsl,fftw}>=3', 'gsl-2.8'],
  ['zlib<1.3', 'zlib-1.2.13'],
  ['root-6.30.02', 'root-6.30.02'],
  ['p5-Net-SSLeay>=1.0', 'p5-Net-SSLeay-1.0z'],
  ['hdf5>=1.12<1.14', 'hdf5-1.14.3'],
];

function time(name: string, ops: number, body: (i: number) => number): BenchResult {
  let sink = 0;
  for (let i = 0; i < 10_000; i++) sink += body(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) sink += body(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keep the loop observable
  return { name, ops, seconds };
}

export async function runPkgsrcBench(): Promise<BenchResult[]> {
  // More distinct versions than the parse cache holds, so every comparison parses both sides: the worst case.
  const cold = Array.from(
    { length: 10_007 },
    (_, i) => `${i % 13}.${i % 101}.${i}${i % 3 === 0 ? `nb${i % 5}` : ''}`,
  );
  const n = VERSIONS.length;
  const p = PAIRS.length;
  return [
    time('pkgsrc: compareVersions (dewey)', 1_000_000, (i) =>
      compareVersions(VERSIONS[i % n] as string, VERSIONS[(i * 7 + 3) % n] as string),
    ),
    time('pkgsrc: compareVersions, uncached', 1_000_000, (i) =>
      compareVersions(cold[i % cold.length] as string, cold[(i * 7 + 3) % cold.length] as string),
    ),
    time('pkgsrc: matchPattern (pkg_match)', 1_000_000, (i) => {
      const [pattern, pkg] = PAIRS[i % p] as readonly [string, string];
      return matchPattern(pattern, pkg) ? 1 : 0;
    }),
  ];
}

// Run directly: `npx tsx bench/pkgsrc.bench.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runPkgsrcBench()) {
    console.log(
      `${r.name}: ${r.ops} ops in ${r.seconds.toFixed(3)} s (${Math.round(r.ops / r.seconds)} ops/s)`,
    );
  }
}
