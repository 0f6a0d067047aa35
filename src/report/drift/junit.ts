/**
 * The drift report as JUnit XML, as CI systems read it (GitHub test reporters, GitLab `artifacts:reports:junit`,
 * Jenkins): one test suite per site, one test case per requirement of the spec — failure = drift, error = unknown,
 * skipped = ignored — with `file` and `line` of the requirement's spec line so annotations land on the YAML. Items
 * that belong to no requirement (vulnerabilities, undeclared packages under prune, pkgsrc itself) are test cases
 * of their own. Every string goes through escapeXml.
 */
import { escapeXml } from '../markup.js';
import {
  type DriftItem,
  type DriftReport,
  describeItem,
  type RequirementCheck,
  type SiteDrift,
} from './model.js';

/**
 * escapeXml, remembering its answers: a thousand sites repeat the same requirement names and spec files, and a
 * million test cases would otherwise escape them a million times. Bounded, so unique messages cannot grow it.
 */
function memoEscape(): (text: string, max?: number) => string {
  const known = new Map<string, string>();
  return (text, max) => {
    if (max !== undefined) return escapeXml(text, max);
    let escaped = known.get(text);
    if (escaped === undefined) {
      escaped = escapeXml(text);
      if (known.size < 100_000) known.set(text, escaped);
    }
    return escaped;
  };
}

interface Case {
  name: string;
  file?: string;
  line?: number;
  outcome?: { tag: 'failure' | 'error' | 'skipped'; message: string; type?: string };
}

export function renderDriftJunit(report: DriftReport): string {
  const x = memoEscape();
  const suites = report.sites.map((site) => ({ site, cases: casesOf(site, report.specFile) }));
  const count = (cases: Case[], tag: string) => cases.filter((c) => c.outcome?.tag === tag).length;
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gridpkg drift" tests="${all.length}" failures="${count(all, 'failure')}" ` +
      `errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" timestamp="${x(report.generatedAt)}">`,
  ];
  for (const { site, cases } of suites) {
    lines.push(
      `  <testsuite name="${x(site.site)}" tests="${cases.length}" failures="${count(cases, 'failure')}" ` +
        `errors="${count(cases, 'error')}" skipped="${count(cases, 'skipped')}" timestamp="${x(report.generatedAt)}" ` +
        `file="${x(report.specFile)}">`,
      '    <properties>',
      `      <property name="sync" value="${site.sync}"/>`,
      `      <property name="health" value="${site.health}"/>`,
      ...(site.observation
        ? [
            `      <property name="observedAt" value="${x(site.observation.at)}"/>`,
            ...(site.observation.byJob
              ? [`      <property name="observedBy" value="${x(site.observation.byJob)}"/>`]
              : []),
          ]
        : []),
      '    </properties>',
    );
    for (const c of cases) lines.push(...caseXml(c, site.site, x));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function casesOf(site: SiteDrift, specFile: string): Case[] {
  const cases = site.requirements.map(requirementCase);
  // Items of no requirement (pkgsrc, undeclared packages, vulnerable dependencies) are cases of their own.
  const required = new Set(site.requirements.map((r) => r.pkgpath));
  const siteLevel = site.items.filter((i) => i.pkgpath === undefined || !required.has(i.pkgpath));
  if (site.sync === 'unknown' && site.requirements.length === 0)
    cases.push({
      name: 'observation',
      file: specFile,
      outcome: { tag: 'error', message: site.unknownReason ?? 'unknown' },
    });
  for (const item of siteLevel) {
    const outcome = itemOutcome(item);
    if (outcome) cases.push({ name: itemName(item), ...fileOf(item, specFile), outcome });
  }
  return cases;
}

function requirementCase(check: RequirementCheck): Case {
  const base = { name: `${check.pkgpath} ${check.wanted}`, file: check.source.file, line: check.source.line };
  const message = check.message ?? check.result;
  switch (check.result) {
    case 'ok':
      return base;
    case 'drift':
      return { ...base, outcome: { tag: 'failure', message, type: 'drift' } };
    case 'unknown':
      return { ...base, outcome: { tag: 'error', message, type: 'unknown' } };
    case 'ignored':
      return { ...base, outcome: { tag: 'skipped', message: `ignored: ${message}` } };
  }
}

/** Drift fails and unknown errs; warnings and information make no case. */
function itemOutcome(item: DriftItem): Case['outcome'] {
  const message = describeItem(item);
  if (item.severity === 'drift') return { tag: 'failure', message, type: item.kind };
  if (item.severity === 'unknown') return { tag: 'error', message, type: item.kind };
  return undefined;
}

function itemName(item: DriftItem): string {
  return `${item.kind}${item.pkgpath ? ` ${item.pkgpath}` : ''}${item.installed ? ` ${item.installed}` : ''}`;
}

function fileOf(item: DriftItem, specFile: string): Pick<Case, 'file' | 'line'> {
  return item.source ? { file: item.source.file, line: item.source.line } : { file: specFile };
}

function caseXml(c: Case, site: string, x: (text: string, max?: number) => string): string[] {
  const attributes =
    `classname="${x(site)}" name="${x(c.name)}"` +
    `${c.file !== undefined ? ` file="${x(c.file)}"` : ''}${c.line !== undefined && c.line > 0 ? ` line="${c.line}"` : ''}`;
  if (!c.outcome) return [`    <testcase ${attributes}/>`];
  const { tag, message, type } = c.outcome;
  return [
    `    <testcase ${attributes}>`,
    `      <${tag} message="${x(message)}"${type ? ` type="${x(type)}"` : ''}>${x(message, 4000)}</${tag}>`,
    '    </testcase>',
  ];
}
