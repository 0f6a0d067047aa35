import { describe, expect, it } from 'vitest';
import { SiteSelectionError, selectSites } from '../../src/cli/site-selection.js';
import type { DesiredState } from '../../src/spec/types.js';
import { desired } from '../reconcile/fixtures.js';

const site = (name: string, labels: string[]): DesiredState => ({ ...desired([], name), labels });
const SITES = [site('nikhef', ['physics', 'el9']), site('sara', ['physics', 'legacy']), site('kit', ['el9'])];
const names = (selection: Parameters<typeof selectSites>[1]) =>
  selectSites(SITES, selection).map((s) => s.site);

describe('choosing sites on the command line', () => {
  it('takes every site without flags', () => {
    expect(names({})).toEqual(['nikhef', 'sara', 'kit']);
  });

  it('takes only the named sites (--site, repeatable), minus the excluded ones', () => {
    expect(names({ site: ['kit', 'sara'] })).toEqual(['sara', 'kit']);
    expect(names({ exclude: ['sara'] })).toEqual(['nikhef', 'kit']);
    expect(names({ site: ['kit', 'sara'], exclude: ['sara'] })).toEqual(['kit']);
  });

  it('chooses by the spec label expressions', () => {
    expect(names({ where: 'physics and not legacy' })).toEqual(['nikhef']);
    expect(names({ where: 'el9 or legacy', exclude: ['kit'] })).toEqual(['nikhef', 'sara']);
  });

  it('refuses a name no site has, with a suggestion', () => {
    expect(() => names({ site: ['nikhf'] })).toThrow(
      '--site "nikhf": the spec has no such site (did you mean nikhef?)',
    );
    expect(() => names({ exclude: ['x'] })).toThrow(SiteSelectionError);
  });

  it('refuses a label no site has and a malformed expression, saying where', () => {
    expect(() => names({ where: 'physcs' })).toThrow(
      'no site has the label "physcs" (did you mean physics?)',
    );
    expect(() => names({ where: 'physics && el9' })).toThrow(/at character 9.*write "and" instead of "&&"/);
  });

  it('refuses a selection that leaves nothing', () => {
    expect(() => names({ site: ['kit'], exclude: ['kit'] })).toThrow('no site of the spec is selected');
  });
});
