import { chmod, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { Observation } from '../../reconcile/observation.js';
import { printableLines, siteName, siteText } from '../../report/safe-output.js';
import { closest } from '../../spec/did-you-mean.js';
import {
  type ExportEntry,
  fragmentFromObservation,
  mergeIntoSpecText,
  renderFragments,
  type SpecFragment,
} from '../../spec/export.js';
import { type DesiredState, loadSpec } from '../../spec/index.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { FileError } from '../../state/fs-errors.js';
import { ObservationStore } from '../../state/observations.js';
import { stateDirFor } from '../common.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export interface ImportOptions {
  file: string;
  stateDir?: string;
  site?: string[];
  all?: boolean;
  write?: boolean;
  pin?: boolean;
}

export function registerImportCommand(
  program: Command,
  io: CliIO,
  setExit: (code: ExitCodeValue) => void,
): void {
  program
    .command('import')
    .summary("turn a site's installed packages into spec entries")
    .description(
      'Reads the last observation of a site from the state directory (made by plan or apply; nothing is ' +
        'submitted) and prints its user-installed packages by PKGPATH as a spec fragment, like pkg_chk -g or ' +
        'pkgin export, so an existing installation can be brought under management. Packages installed ' +
        'automatically as dependencies and the packages of the pkgsrc bootstrap are left out; packages that ' +
        'record no PKGPATH are listed as comments. With --write the packages are added to the site entry of ' +
        'the spec file instead, keeping the rest of the file as it is.',
    )
    .option('-f, --file <spec>', 'desired-state spec file', 'desired-state.yaml')
    .option(
      '--state-dir <dir>',
      'state directory holding the observations (default: .gridpkg/ beside the spec)',
    )
    .option('--site <name>', 'the site to import (repeatable)', collect)
    .option('--all', 'every site of the spec that has an observation')
    .option(
      '--pin',
      'pin each package to its installed version or newer: { pkgpath, pattern: base>=version }',
    )
    .option(
      '--write',
      'add the packages to the site entry in the spec file (atomically; already required packages are skipped)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gridpkg plan -f desired-state.yaml          # probe the sites first\n' +
        '  gridpkg import --site NIKHEF-ELPROD          # the fragment on stdout\n' +
        '  gridpkg import --site NIKHEF-ELPROD --pin --write\n' +
        '  gridpkg import --all --write',
    )
    .action(async (options: ImportOptions) => setExit(await runImport(options, io)));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export async function runImport(options: ImportOptions, io: CliIO): Promise<ExitCodeValue> {
  const requested = options.site ?? [];
  if (options.all && requested.length > 0) {
    io.err('gridpkg import: give either --site NAME or --all, not both\n');
    return ExitCode.error;
  }
  if (!options.all && requested.length === 0) {
    io.err('gridpkg import: which site? give --site NAME (repeatable) or --all\n');
    return ExitCode.error;
  }
  const spec = await loadSpec(options.file);
  const stateDir = stateDirFor(options.file, options.stateDir);
  const store = new ObservationStore(stateDir);
  const specSites = spec.sites.map((s) => s.site);
  const problems: string[] = [];
  const fragments: SpecFragment[] = [];

  for (const name of options.all ? specSites : requested) {
    let observation: Observation | undefined;
    try {
      observation = await store.load(name);
    } catch (error) {
      // A damaged or foreign file says what is wrong with it; the other sites are still imported.
      if (!(error instanceof FileError)) throw error;
      io.err(`gridpkg import: ${error.message}\n`);
      problems.push(name);
      continue;
    }
    const inSpec = specSites.includes(name);
    if (!inSpec && !observation) {
      const suggestion = closest(name, specSites);
      io.err(
        `gridpkg import: unknown site "${siteName(name)}": it is not in ${spec.file} and has no observation\n`,
      );
      io.err(
        suggestion
          ? `  hint: did you mean "${suggestion}"?\n`
          : `  hint: the spec's sites are ${specSites.join(', ')}\n`,
      );
      problems.push(name);
      continue;
    }
    const unusable = unusableReason(name, observation);
    if (unusable) {
      if (options.all) {
        io.err(`gridpkg import: ${siteName(name)}: skipped, ${siteText(unusable)}\n`);
        continue;
      }
      io.err(`gridpkg import: ${siteText(unusable)}\n`);
      io.err(
        `  hint: run \`gridpkg plan -f ${options.file}\` to probe the site (it records an observation in ` +
          `${stateDir}), then import again\n`,
      );
      problems.push(name);
      continue;
    }
    if (observation?.state !== 'known') continue;
    if (!inSpec) io.err(`gridpkg import: warning: site ${siteName(name)} is not in ${spec.file}\n`);
    const fragment = fragmentFromObservation(observation, { pin: options.pin === true });
    for (const warning of fragment.warnings) io.err(`gridpkg import: warning: ${siteText(warning)}\n`);
    fragments.push(withPrintableComments(fragment));
  }

  if (options.all && fragments.length === 0) {
    io.err(`gridpkg import: no site of ${spec.file} has a usable observation in ${stateDir}\n`);
    io.err(`  hint: run \`gridpkg plan -f ${options.file}\` to probe the sites, then import again\n`);
    return ExitCode.error;
  }
  if (options.write) {
    const written = await writeFragments(options.file, spec.sites, includedFiles(spec), fragments, io);
    return written && problems.length === 0 ? ExitCode.ok : ExitCode.error;
  }
  if (fragments.length > 0) {
    // Comments in the fragment name what the site holds (packages without PKGPATH, the job id): escaped per line.
    io.out(printableLines(renderFragments(fragments, `gridpkg import: spec fragment for ${spec.file}`)));
  }
  return problems.length === 0 ? ExitCode.ok : ExitCode.error;
}

/**
 * The fragment with the texts that become YAML comments (in the printed fragment and in the spec file --write
 * edits) made printable: names and times from an observation file are untrusted like anything a site says.
 */
function withPrintableComments(fragment: SpecFragment): SpecFragment {
  return {
    ...fragment,
    observedAt: siteName(fragment.observedAt),
    jobId: siteName(fragment.jobId),
    withoutPkgpath: fragment.withoutPkgpath.map(siteName),
    bootstrap: fragment.bootstrap.map(siteName),
  };
}

/** The spec's included files (the loader lists every file, the root first), if it says. */
function includedFiles(spec: object): { file: string; text: string }[] {
  if (!('files' in spec) || !Array.isArray(spec.files)) return [];
  return spec.files
    .slice(1)
    .filter(
      (f: unknown): f is { file: string; text: string } =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as { file?: unknown }).file === 'string' &&
        typeof (f as { text?: unknown }).text === 'string',
    );
}

function unusableReason(site: string, observation: Observation | undefined): string | undefined {
  if (!observation) return `there is no observation of ${site} yet`;
  if (observation.state === 'unknown') {
    return `the last observation of ${site} (${observation.observedAt}) could not see its packages: ${observation.reason}`;
  }
  return undefined;
}

/** Merges every fragment into the spec text, then writes the file once, atomically. False on a refusal. */
async function writeFragments(
  file: string,
  desired: readonly DesiredState[],
  included: readonly { file: string; text: string }[],
  fragments: readonly SpecFragment[],
  io: CliIO,
): Promise<boolean> {
  const original = await readFile(file, 'utf8');
  let text = original;
  let ok = true;
  let preservedLayout = true;
  const report: string[] = [];
  for (const fragment of fragments) {
    const required = new Map(
      (desired.find((d) => d.site === fragment.site)?.requirements ?? []).map((r) => [r.pkgpath, r]),
    );
    const fresh: ExportEntry[] = [];
    const already: string[] = [];
    for (const pkg of fragment.packages) {
      const requirement = required.get(pkg.pkgpath);
      if (requirement === undefined) {
        fresh.push(pkg.entry);
      } else if (requirement.state === 'absent') {
        io.err(
          `gridpkg import: warning: ${siteName(fragment.site)}: ${siteName(pkg.pkgpath)} is installed but the spec requires it ` +
            `absent (${requirement.source.file}:${requirement.source.line}:${requirement.source.column}); ` +
            'not added — the next apply removes it\n',
        );
      } else {
        already.push(pkg.pkgpath);
      }
    }
    const merged = mergeIntoSpecText(
      text,
      fragment.site,
      fresh,
      `imported by gridpkg import from the observation of ${fragment.observedAt}`,
    );
    if (!merged.ok) {
      io.err(
        `gridpkg import: cannot add the packages of ${siteName(fragment.site)} to ${file}: ${siteText(merged.reason)}\n`,
      );
      const definedIn = desired.some((d) => d.site === fragment.site)
        ? included.find((f) => mergeIntoSpecText(f.text, fragment.site, []).ok)
        : undefined;
      io.err(
        definedIn
          ? `  hint: the site is defined in ${definedIn.file}, which --write does not edit; run import without ` +
              '--write and add the packages there\n'
          : `  hint: ${merged.hint}\n`,
      );
      ok = false;
      continue;
    }
    text = merged.text;
    preservedLayout &&= merged.preservedLayout;
    const site = siteName(fragment.site);
    const added = fresh.map((e) => siteName(typeof e === 'string' ? e : `${e.pkgpath} (${e.pattern})`));
    report.push(
      added.length > 0
        ? `${site}: added ${added.length} package(s): ${added.join(', ')}`
        : `${site}: nothing to add`,
    );
    if (already.length > 0) report.push(`${site}: already in the spec: ${already.map(siteName).join(', ')}`);
    for (const name of fragment.withoutPkgpath) {
      report.push(`${site}: not added, records no PKGPATH: ${siteName(name)}`);
    }
  }
  if (text !== original) {
    if (!(await replaceSpec(file, original, text, io))) return false;
    if (!preservedLayout) {
      io.err(
        `gridpkg import: note: the yaml library re-formatted parts of ${file} outside the site entries ` +
          '(comments are kept); review the change with git diff\n',
      );
    }
  }
  for (const line of report) io.out(`${line}\n`);
  if (text !== original) io.out(`Wrote ${file}. Review it, then run gridpkg plan.\n`);
  else io.out(`${file} is unchanged.\n`);
  return ok;
}

/**
 * Writes the new spec beside the old one, checks that it loads, and renames it into place — unless the file
 * changed while we worked, in which case nothing is written.
 */
async function replaceSpec(file: string, original: string, text: string, io: CliIO): Promise<boolean> {
  const candidate = join(dirname(file), `.${basename(file)}.gridpkg-import.yaml`);
  await writeFileAtomic(candidate, text);
  try {
    try {
      await loadSpec(candidate);
    } catch (error) {
      io.err(`gridpkg import: the merged spec would not load, so ${file} was left alone:\n`);
      io.err(`${error instanceof Error ? error.message : String(error)}\n`);
      return false;
    }
    if ((await readFile(file, 'utf8')) !== original) {
      io.err(`gridpkg import: ${file} changed while importing; nothing was written, run import again\n`);
      return false;
    }
    await chmod(candidate, (await stat(file)).mode & 0o7777);
    await rename(candidate, file);
    return true;
  } finally {
    await unlink(candidate).catch(() => undefined);
  }
}
