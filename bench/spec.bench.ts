/**
 * Spec speed: a generated 1,000-site x 200-package spec with labels, sets (with includes) and selections, parsed,
 * schema-validated and resolved from YAML text (parseSpecText, the pure core: no file I/O). Goal: under 1 s.
 */
import { parseSpecText } from '../src/spec/index.js';

const SITES = 1000;
const PACKAGES = 200;
const SETS = 20; // 10 packages each
const LABELS = ['el8', 'el9', 'physics', 'chemistry', 'gpu', 'legacy', 'test', 'tier1', 'tier2', 'cvmfs'];

export function generateSpec(): string {
  const out: string[] = ['apiVersion: gridpkg/v1', 'sets:'];
  for (let s = 0; s < SETS; s++) {
    out.push(`  set${s}:`);
    if (s % 5 !== 0) out.push(`    include: [set${s - 1}]`);
    out.push('    packages:');
    for (let p = s * 10; p < s * 10 + 10; p++) {
      if (p % 7 === 0) out.push(`      - { pkgpath: cat${p % 20}/pkg${p}, pattern: "pkg${p}>=1.${p % 5}" }`);
      else if (p % 31 === 0) out.push(`      - { pkgpath: cat${p % 20}/pkg${p}, state: latest }`);
      else out.push(`      - cat${p % 20}/pkg${p}`);
    }
  }
  out.push(
    'defaults:',
    '  vo: pvier',
    '  repository: /data/sw/pvier/packages/All',
    '  lockStaleAfter: 30m',
    '  sets: [set4, set9, set14, set19]', // with their includes: all 20 sets, all 200 packages
    'selections:',
    '  - { where: "physics and not legacy", sets: [set14] }',
    '  - { where: "el8 or el9", sets: [set19] }',
    '  - { where: "(gpu or tier1) and not test", sets: [set10, set15] }',
    '  - where: legacy',
    '    packages: [{ pkgpath: cat1/pkg1, pattern: "pkg1-1.0*" }, { pkgpath: cat3/pkg3, state: absent }]',
    '    exclude: [cat2/pkg2]',
    '  - { where: "chemistry or cvmfs", sets: [set0, set5] }',
    '  - where: tier2 and not (gpu or legacy)',
    '    packages: [{ pkgpath: cat8/pkg8, state: latest }]',
    'sites:',
  );
  for (let i = 0; i < SITES; i++) {
    const labels = [LABELS[i % 2], LABELS[2 + (i % 4)], LABELS[6 + (i % 4)]];
    out.push(`  site-${i}:`, `    labels: [${labels.join(', ')}]`, `    softwareArea: /data/sw/site-${i}`);
    out.push('    packages:');
    // Each site overrides a few entries with its own pattern, and adds its own package.
    for (let k = 0; k < 4; k++) {
      const p = (i * 7 + k * 13) % PACKAGES;
      out.push(`      - { pkgpath: cat${p % 20}/pkg${p}, pattern: "pkg${p}>=1.${i % 9}" }`);
    }
    out.push(`      - local/site${i}-tools`);
  }
  return `${out.join('\n')}\n`;
}

export async function runSpecBench(): Promise<Array<{ name: string; ops: number; seconds: number }>> {
  const text = generateSpec();
  parseSpecText(generateSpecSmall(), 'warmup.yaml', { today: '2026-11-23' }); // compile the schema, warm the JIT
  const started = process.hrtime.bigint();
  const sites = parseSpecText(text, 'bench.yaml', { today: '2026-11-23' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sites.length !== SITES) throw new Error(`resolved ${sites.length} sites`);
  const requirements = sites.reduce((n, s) => n + s.requirements.length, 0);
  if (requirements < SITES * PACKAGES) throw new Error(`only ${requirements} requirements`);
  return [
    {
      name: `spec of ${SITES} sites x ${PACKAGES} packages (labels, sets, selections): parse, validate, resolve`,
      ops: SITES,
      seconds,
    },
  ];
}

function generateSpecSmall(): string {
  return 'apiVersion: gridpkg/v1\nsets:\n  a: { packages: [x/y] }\nsites:\n  s: { labels: [l], sets: [a] }\n';
}
