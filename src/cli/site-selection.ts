/**
 * Choosing sites on the command line: `--site NAME` (repeatable, like Terraform's -target), `--exclude NAME`
 * (repeatable) and `--where EXPR` (the spec's label expressions: `physics and not legacy`). A name or label that no
 * site has is an error with a suggestion, never a silent empty selection.
 */
import type { Command } from 'commander';
import { TerminalError } from '../model/errors.js';
import { closest } from '../spec/did-you-mean.js';
import { evaluateLabelExpr, parseLabelExpr } from '../spec/index.js';
import { labelsOf } from '../spec/label-expr.js';
import type { DesiredState } from '../spec/types.js';

export interface SiteSelection {
  site?: string[];
  exclude?: string[];
  where?: string;
}

export class SiteSelectionError extends TerminalError {
  override name = 'SiteSelectionError';
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function addSelectionOptions(command: Command): Command {
  return command
    .option('--site <name>', 'only this site (repeatable)', collect)
    .option('--exclude <name>', 'leave this site out (repeatable)', collect)
    .option('--where <expr>', "only sites whose labels match, e.g. 'physics and not legacy'");
}

export function selectSites(sites: readonly DesiredState[], selection: SiteSelection): DesiredState[] {
  const names = sites.map((s) => s.site);
  for (const [flag, list] of [
    ['--site', selection.site],
    ['--exclude', selection.exclude],
  ] as const) {
    for (const name of list ?? []) {
      if (names.includes(name)) continue;
      const guess = closest(name, names);
      throw new SiteSelectionError(
        `${flag} ${JSON.stringify(name)}: the spec has no such site${guess ? ` (did you mean ${guess}?)` : ''}`,
      );
    }
  }
  const matches = whereFilter(sites, selection.where);
  const chosen = sites.filter(
    (s) =>
      (selection.site === undefined || selection.site.includes(s.site)) &&
      !(selection.exclude ?? []).includes(s.site) &&
      matches(s),
  );
  if (chosen.length === 0) throw new SiteSelectionError('no site of the spec is selected; nothing to do');
  return chosen;
}

/** Whether any selection option was given. */
export function isSelecting(selection: SiteSelection): boolean {
  return selection.site !== undefined || selection.exclude !== undefined || selection.where !== undefined;
}

/**
 * The warning a partial run prints (as Terraform's "resource targeting is in effect"): the other sites were neither
 * observed nor changed, so the run says nothing about them. Undefined when every site is chosen.
 */
export function partialRunNote(
  chosen: readonly DesiredState[],
  all: readonly DesiredState[],
): string | undefined {
  if (chosen.length === all.length) return undefined;
  return (
    `Note: only ${chosen.length} of the spec's ${all.length} sites are selected (--site, --exclude, --where); ` +
    'the others are neither observed nor changed by this run.\n'
  );
}

function whereFilter(
  sites: readonly DesiredState[],
  where: string | undefined,
): (site: DesiredState) => boolean {
  if (where === undefined) return () => true;
  const parsed = parseLabelExpr(where);
  if ('error' in parsed) {
    const { offset, message, hint } = parsed.error;
    throw new SiteSelectionError(
      `--where ${JSON.stringify(where)}: ${message} (at character ${offset + 1})${hint ? `; ${hint}` : ''}`,
    );
  }
  const known = [...new Set(sites.flatMap((s) => s.labels ?? []))];
  for (const { name } of labelsOf(parsed.expr)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    throw new SiteSelectionError(
      `--where: no site has the label ${JSON.stringify(name)}${guess ? ` (did you mean ${guess}?)` : ''}`,
    );
  }
  return (site) => evaluateLabelExpr(parsed.expr, new Set(site.labels ?? []));
}
