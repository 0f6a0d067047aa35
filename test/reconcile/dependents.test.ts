// The index behind "which installed packages require PKGNAME" (issue 10, item 6) must answer exactly what a scan
// of every dependency record answers, for every kind of pkg_match pattern.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dependency } from '../../src/grid/protocol/types.js';
import { matchPattern } from '../../src/pkgsrc/index.js';
import { indexDependents } from '../../src/reconcile/dependents.js';

const BASES = ['gsl', 'py311-numpy', 'py311-scipy', 'p5-Net-SSLeay', 'zlib', 'foo', 'foo-2', 'foobar'];
const VERSIONS = ['1.0', '2.7', '2.8nb1', '3', '1.26.4'];
const PATTERNS = [
  'gsl>=2.7',
  'gsl>=2.7<3',
  'gsl-[0-9]*',
  'gsl-2.7*',
  'gsl',
  '{gsl,zlib}>=1',
  'py311-*>=1',
  'py311-numpy>=1.20',
  'py*-numpy-[0-9]*',
  '*-numpy-[0-9]*',
  'p5-Net-SSLeay>=1',
  'foo>=1',
  'foo-[0-9]*',
  'foo-2>=1',
  'foo*',
  'fo?bar-[0-9]*',
  'zlib-1.0',
  '[fg]oo-[0-9]*',
];

function scan(dependencies: readonly Dependency[], pkgname: string): Dependency[] {
  return dependencies.filter((d) => d.pkgname !== pkgname && matchPattern(d.pattern, pkgname));
}

describe('indexDependents', () => {
  it('answers what a scan of every record answers, in the records order', () => {
    const name = fc
      .tuple(fc.constantFrom(...BASES), fc.constantFrom(...VERSIONS))
      .map(([b, v]) => `${b}-${v}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ pkgname: name, pattern: fc.constantFrom(...PATTERNS) }), { maxLength: 40 }),
        fc.array(name, { minLength: 1, maxLength: 10 }),
        (dependencies, asked) => {
          const index = indexDependents(dependencies);
          for (const pkgname of asked)
            expect(index.dependentsOf(pkgname)).toEqual(scan(dependencies, pkgname));
        },
      ),
      { numRuns: 300 },
    );
  });
});
