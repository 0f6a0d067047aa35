/**
 * Resolution: the validated spec files become one DesiredState per site. Pure: no I/O, paths are only joined,
 * and "today" (for ignore-rule expiry) is passed in.
 *
 * Precedence, lowest first: defaults < selections (in merge order; a later one overrides an earlier one) < site.
 * Each of these levels contributes the packages of its `sets` and its own `packages`, minus its `exclude`;
 * `exclude` drops PKGPATHs inherited from lower levels and from the level's own sets. A higher level overrides a
 * lower one's entry of the same PKGPATH. Two different entries for one PKGPATH at the same level are a conflict.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { isValidPattern } from '../pkgsrc/index.js';
import { type Diagnostic, specText } from './diagnostics.js';
import { closest } from './did-you-mean.js';
import { evaluateLabelExpr, type LabelExpr, labelsOf, OPERATOR_WORDS, parseLabelExpr } from './label-expr.js';
import type {
  BackendConfig,
  DesiredState,
  IgnoreRule,
  PruneSettings,
  RawBackend,
  RawPackage,
  RawPkgsrcSettings,
  RawSet,
  RawSite,
  RawSiteSettings,
  RawSpec,
  Requirement,
  SourceLocation,
  SshConnectionConfig,
} from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

export const DEFAULT_LOCK_STALE_SECONDS = 30 * 60;
export const DEFAULT_JOB_TIMEOUT_SECONDS = 2 * 60 * 60;
/**
 * The shortest lockStaleAfter: a live job rewrites its lock's heartbeat at least every 10 s (src/grid/site-job.sh),
 * so 60 s leaves 50 s for clock skew between worker nodes sharing the software area and for stalls (NFS, load).
 */
export const MIN_LOCK_STALE_SECONDS = 60;
/** How many packages prune may remove from one site in one plan unless the spec allows more. */
export const DEFAULT_PRUNE_MAX_REMOVALS = 10;

/** One schema-valid file of the spec. */
export interface SpecDocument {
  /** The file name used in messages. */
  file: string;
  /** Absolute directory of the file: relative paths in it are relative to this. */
  dir: string;
  spec: RawSpec;
  source: Pick<YamlSource, 'locate' | 'locateWithin'>;
}

export interface ResolveOptions {
  /** The current date, YYYY-MM-DD: ignore rules whose `until` is before it have expired. */
  today: string;
}

export interface ResolveResult {
  sites: DesiredState[];
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
}

/** A requirement together with a description of where it comes from, for conflict messages. */
interface Entry {
  requirement: Requirement;
  origin: string;
}

type Entries = Map<string, Entry>;

interface Located<T> {
  doc: SpecDocument;
  value: T;
  path: YamlPath;
}

/** The contribution of one precedence level (defaults, a selection, a site) to a site's requirements. */
interface Level {
  entries: Entries;
  /** `dropsOwn`: the PKGPATH is in one of the level's own sets, so the exclusion takes effect there. */
  exclude: Array<{ pkgpath: string; source: SourceLocation; dropsOwn: boolean }>;
}

interface Chooser {
  expr: LabelExpr | undefined;
  sites: Set<string> | undefined;
}

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly sets = new Map<string, Located<RawSet>>();
  readonly sites = new Map<string, Located<RawSite>>();
  readonly expanded = new Map<string, Entries>();
  readonly expanding: string[] = [];
  readonly labels = new Set<string>();
  readonly rolesWithoutVo = new Map<
    string,
    { doc: SpecDocument; path: YamlPath; role: string; sites: string[] }
  >();

  constructor(
    readonly documents: readonly SpecDocument[],
    readonly options: ResolveOptions,
  ) {}

  at(doc: SpecDocument, path: YamlPath, part?: 'key' | 'value'): SourceLocation {
    return doc.source.locate(path, part);
  }

  error(location: SourceLocation, message: string, hint?: string): void {
    this.diagnostics.push({ ...location, message, ...(hint ? { hint } : {}) });
  }

  collectNamed(): void {
    for (const doc of this.documents) {
      for (const [kind, table] of [
        ['set', this.sets],
        ['site', this.sites],
      ] as const) {
        const key = kind === 'set' ? 'sets' : 'sites';
        for (const [name, value] of Object.entries(doc.spec[key] ?? {})) {
          const earlier = table.get(name);
          const path = [key, name];
          if (earlier) {
            this.error(
              this.at(doc, path, 'key'),
              `${kind} "${name}" is defined twice`,
              `first defined at ${where(this.at(earlier.doc, earlier.path, 'key'))}; keep one definition`,
            );
            continue;
          }
          (table as Map<string, Located<RawSet | RawSite>>).set(name, { doc, value, path });
        }
      }
    }
    for (const { doc, value, path } of this.sites.values()) {
      (value.labels ?? []).forEach((label, index) => {
        if (OPERATOR_WORDS.includes(label)) {
          this.error(
            this.at(doc, [...path, 'labels', index]),
            `"${label}" cannot be a label: it is an operator of label expressions`,
            'choose another name; and, or and not combine labels',
          );
        }
        this.labels.add(label);
      });
    }
  }

  /** Requirements of one package list, checking patterns and PKGPATHs listed twice. */
  packageList(doc: SpecDocument, entries: RawPackage[], path: YamlPath, origin: string): Entries {
    const byPath: Entries = new Map();
    entries.forEach((entry, index) => {
      const source = this.at(doc, [...path, index]);
      const requirement: Requirement =
        typeof entry === 'string'
          ? { pkgpath: entry, pattern: undefined, state: 'present', source }
          : { pkgpath: entry.pkgpath, pattern: entry.pattern, state: entry.state ?? 'present', source };
      if (requirement.pattern !== undefined && !isValidPattern(requirement.pattern)) {
        this.error(
          this.at(doc, [...path, index, 'pattern']),
          `invalid pkg_match pattern "${requirement.pattern}"`,
          'use a package name with a version range or glob, e.g. gsl>=2.7<3 or gsl-2.7*',
        );
      }
      const earlier = byPath.get(requirement.pkgpath);
      if (earlier) {
        this.error(
          source,
          `${requirement.pkgpath} is listed twice in ${path.join('.')}`,
          `first listed at ${where(earlier.requirement.source)}; keep one entry`,
        );
      }
      byPath.set(requirement.pkgpath, { requirement, origin });
    });
    return byPath;
  }

  /** Adds `entry` to `into`; a different entry for the same PKGPATH at the same level is a conflict. */
  merge(into: Entries, entry: Entry, level: string): void {
    const earlier = into.get(entry.requirement.pkgpath);
    if (!earlier) {
      into.set(entry.requirement.pkgpath, entry);
      return;
    }
    const a = earlier.requirement;
    const b = entry.requirement;
    if (a.state === b.state && a.pattern === b.pattern) return;
    this.error(
      b.source,
      `conflicting requirements for ${b.pkgpath} in ${level}: ${earlier.origin} wants ${describe(a)} ` +
        `(${where(a.source)}), ${entry.origin} wants ${describe(b)} (${where(b.source)})`,
      'keep one of them, or state the package at a higher level (defaults < selections < site), which overrides',
    );
  }

  /** The packages of a set and of every set it includes. */
  expandSet(name: string): Entries {
    const done = this.expanded.get(name);
    if (done) return done;
    const located = this.sets.get(name);
    const entries: Entries = new Map();
    if (!located) return entries;
    const { doc, value, path } = located;
    this.expanding.push(name);
    const level = `set "${name}"`;
    for (const entry of this.packageList(doc, value.packages ?? [], [...path, 'packages'], level).values()) {
      this.merge(entries, entry, level);
    }
    (value.include ?? []).forEach((included, index) => {
      const itemPath = [...path, 'include', index];
      const cycleStart = this.expanding.indexOf(included);
      if (cycleStart >= 0) {
        const cycle = [...this.expanding.slice(cycleStart), included].join(' -> ');
        this.error(
          this.at(doc, itemPath),
          `set include cycle: ${cycle}`,
          `a set cannot include itself, directly or through other sets; remove one include`,
        );
        return;
      }
      if (!this.knownSet(doc, included, itemPath)) return;
      for (const entry of this.expandSet(included).values()) {
        this.merge(entries, entry, level);
      }
    });
    this.expanding.pop();
    this.expanded.set(name, entries);
    return entries;
  }

  knownSet(doc: SpecDocument, name: string, path: YamlPath): boolean {
    if (this.sets.has(name)) return true;
    const names = [...this.sets.keys()];
    const suggestion = closest(name, names);
    this.error(
      this.at(doc, path),
      `unknown set "${name}"`,
      suggestion
        ? `did you mean "${suggestion}"?`
        : names.length > 0
          ? `defined sets: ${names.join(', ')}`
          : 'define it under sets:',
    );
    return false;
  }

  knownSite(doc: SpecDocument, name: string, path: YamlPath): boolean {
    if (this.sites.has(name)) return true;
    const suggestion = closest(name, [...this.sites.keys()]);
    this.error(
      this.at(doc, path),
      `unknown site "${name}"`,
      suggestion ? `did you mean "${suggestion}"?` : 'sites are defined under sites:',
    );
    return false;
  }

  /** The contribution of defaults, a selection or a site. */
  level(
    doc: SpecDocument,
    path: YamlPath,
    name: string,
    raw: { sets?: string[]; packages?: RawPackage[]; exclude?: string[] },
  ): Level {
    const entries: Entries = new Map();
    const own = this.packageList(
      doc,
      raw.packages ?? [],
      [...path, 'packages'],
      `${path.join('.')}.packages`,
    );
    const excluded = new Set(raw.exclude ?? []);
    const droppedOwn = new Set<string>();
    (raw.sets ?? []).forEach((set, index) => {
      const setPath = [...path, 'sets', index];
      if (!this.knownSet(doc, set, setPath)) return;
      for (const entry of this.expandSet(set).values()) {
        if (excluded.has(entry.requirement.pkgpath)) {
          droppedOwn.add(entry.requirement.pkgpath);
        } else {
          const origin =
            entry.origin === `set "${set}"` ? entry.origin : `set "${set}" (from ${entry.origin})`;
          this.merge(entries, { ...entry, origin }, name);
        }
      }
    });
    for (const entry of own.values()) this.merge(entries, entry, name);
    const exclude = (raw.exclude ?? []).map((pkgpath, index) => {
      const source = this.at(doc, [...path, 'exclude', index]);
      const required = own.get(pkgpath);
      if (required) {
        this.error(
          source,
          `${pkgpath} is both required and excluded in ${name}`,
          `it is listed in packages at ${where(required.requirement.source)}; keep one`,
        );
      }
      return { pkgpath, source, dropsOwn: droppedOwn.has(pkgpath) };
    });
    return { entries, exclude };
  }

  /** A VOMS role is held within a VO: `proxy.vomsRole` needs the site's `vo` (its own or the defaults'). */
  checkProxyRole(doc: SpecDocument, path: YamlPath, site: string, settings: RawSiteSettings): void {
    const role = settings.proxy?.vomsRole;
    if (role === undefined || settings.vo !== undefined) return;
    const key = `${doc.file}\0${path.join('.')}`;
    const earlier = this.rolesWithoutVo.get(key);
    if (earlier) earlier.sites.push(site);
    else this.rolesWithoutVo.set(key, { doc, path, role, sites: [site] });
  }

  /** A lockStaleAfter so short that a live job's lock could look stale is refused (one error per setting). */
  checkLockStale(doc: SpecDocument, path: YamlPath, value: number | string): void {
    const seconds = durationSeconds(value);
    if (seconds === undefined || Number.isNaN(seconds) || seconds >= MIN_LOCK_STALE_SECONDS) return;
    this.error(
      this.at(doc, [...path, 'lockStaleAfter']),
      `${path.join('.')}.lockStaleAfter is ${seconds} s: below ${MIN_LOCK_STALE_SECONDS} s a running job's site lock could look stale and be broken`,
      `use at least ${MIN_LOCK_STALE_SECONDS}s (default 30m): a live job renews the lock's heartbeat every few seconds, and the rest covers clock skew between worker nodes`,
    );
  }

  /** Where a site's setting comes from: the site's own, else the defaults' (undefined when neither sets it). */
  settingAt(
    doc: SpecDocument,
    path: YamlPath,
    root: SpecDocument,
    own: unknown,
    inherited: unknown,
  ): { doc: SpecDocument; path: YamlPath } | undefined {
    if (own !== undefined) return { doc, path };
    if (inherited !== undefined) return { doc: root, path: ['defaults'] };
    return undefined;
  }

  /** pkg_install versions are dates (YYYYMMDD, as `pkg_info -V` prints them): anything else is a typo. */
  checkMinPkgInstall(doc: SpecDocument, path: YamlPath, pkgsrc: RawPkgsrcSettings): void {
    const version = pkgsrc.minPkgInstall;
    if (version === undefined || isCalendarDate(pkgInstallDate(version))) return;
    this.error(
      this.at(doc, [...path, 'minPkgInstall']),
      `${path.join('.')}.minPkgInstall ${version} is not a pkg_install version: pkg_install versions are dates, YYYYMMDD`,
      'use the version `pkg_info -V` prints, e.g. 20211115',
    );
  }

  /** One error per vomsRole, naming every site it applies to that has no vo. */
  reportRolesWithoutVo(): void {
    for (const { doc, path, role, sites } of this.rolesWithoutVo.values()) {
      const which =
        sites.length === 1
          ? `site "${sites[0]}" has none`
          : `sites ${sites.map((s) => `"${s}"`).join(', ')} have none`;
      this.error(
        this.at(doc, [...path, 'vomsRole']),
        `${path.join('.')}.vomsRole "${role}" needs a vo, and ${which}`,
        `a VOMS role is held within one VO (the proxy must carry /<vo>/Role=${role}): set vo on the site or in defaults`,
      );
    }
  }

  chooser(doc: SpecDocument, path: YamlPath, raw: { where?: string; sites?: string[] }): Chooser | undefined {
    let expr: LabelExpr | undefined;
    if (raw.where !== undefined) {
      const parsed = parseLabelExpr(raw.where);
      const wherePath = [...path, 'where'];
      if ('error' in parsed) {
        const { offset, message, hint } = parsed.error;
        this.error(doc.source.locateWithin(wherePath, offset), message, hint);
        return undefined;
      }
      let ok = true;
      for (const label of labelsOf(parsed.expr)) {
        if (this.labels.has(label.name)) continue;
        ok = false;
        const suggestion = closest(label.name, [...this.labels]);
        this.error(
          doc.source.locateWithin(wherePath, label.offset),
          `unknown label "${label.name}": no site has it`,
          suggestion
            ? `did you mean "${suggestion}"?`
            : this.labels.size > 0
              ? `labels in use: ${[...this.labels].sort().join(', ')}`
              : 'give sites labels: [...]',
        );
      }
      if (!ok) return undefined;
      expr = parsed.expr;
    }
    let sites: Set<string> | undefined;
    if (raw.sites !== undefined) {
      const known = raw.sites.filter((site, index) => this.knownSite(doc, site, [...path, 'sites', index]));
      if (known.length < raw.sites.length) return undefined;
      sites = new Set(known);
    }
    return { expr, sites };
  }

  chooses(chooser: Chooser, site: string, labels: ReadonlySet<string>): boolean {
    if (chooser.sites && !chooser.sites.has(site)) return false;
    return chooser.expr === undefined || evaluateLabelExpr(chooser.expr, labels);
  }

  resolve(): DesiredState[] {
    const root = this.documents[this.documents.length - 1];
    if (!root) return [];
    this.collectNamed();
    for (const doc of this.documents) {
      if (doc !== root && doc.spec.defaults !== undefined) {
        this.error(
          this.at(doc, ['defaults'], 'key'),
          'defaults may only be set in the root spec',
          `move them to ${root.file}`,
        );
      }
    }
    if (this.sites.size === 0 && this.diagnostics.length === 0) {
      this.error(
        this.at(root, []),
        'the spec defines no sites',
        'add a sites: mapping, or include a file with one',
      );
    }
    for (const name of this.sets.keys()) this.expandSet(name);

    const defaults = root.spec.defaults ?? {};
    const defaultsLevel = this.level(root, ['defaults'], 'defaults', defaults);
    const selections = this.documents.flatMap((doc) =>
      (doc.spec.selections ?? []).map((selection, index) => {
        const path = ['selections', index];
        const label = selection.name ? `selection "${specText(selection.name)}"` : path.join('.');
        if (selection.where !== undefined && selection.sites !== undefined) {
          this.error(
            this.at(doc, [...path, 'sites'], 'key'),
            `${label} has both where and sites`,
            'choose sites either by a label expression (where) or by a site list (sites)',
          );
        } else if (selection.where === undefined && selection.sites === undefined) {
          this.error(
            this.at(doc, path),
            `${label} has neither where nor sites`,
            'add where: "<label expression>" or sites: [...]; for every site use defaults',
          );
        }
        return {
          doc,
          path,
          label,
          chooser: this.chooser(doc, path, selection),
          level: this.level(doc, path, label, selection),
          used: false,
        };
      }),
    );
    const ignores = this.documents.flatMap((doc) =>
      (doc.spec.ignore ?? []).flatMap((rule, index) => {
        const path = ['ignore', index];
        const source = this.at(doc, path);
        if (rule.pkgpath === undefined && rule.kinds === undefined) {
          this.error(
            source,
            `ignore.${index} ignores nothing: it has neither pkgpath nor kinds`,
            'name the package (pkgpath) and/or the kinds of change (install, remove, upgrade, downgrade)',
          );
        }
        if (rule.where !== undefined && rule.sites !== undefined) {
          this.error(
            this.at(doc, [...path, 'sites'], 'key'),
            `ignore.${index} has both where and sites`,
            'choose sites either by a label expression (where) or by a site list (sites)',
          );
        }
        const chooser = this.chooser(doc, path, rule);
        if (rule.until !== undefined) {
          const untilAt = this.at(doc, [...path, 'until']);
          if (!isCalendarDate(rule.until)) {
            this.error(
              untilAt,
              `ignore.${index}.until is not a calendar date: "${rule.until}"`,
              'use YYYY-MM-DD',
            );
            return [];
          }
          if (rule.until < this.options.today) {
            this.warnings.push({
              ...untilAt,
              message: `ignore rule expired on ${rule.until} and no longer applies: ${specText(rule.reason, 200)}`,
              hint: 'remove the rule, or extend until if the drift must still be ignored',
            });
            return [];
          }
        }
        if (!chooser) return [];
        const ignore: IgnoreRule = {
          pkgpath: rule.pkgpath,
          kinds: rule.kinds,
          reason: rule.reason,
          until: rule.until,
          source,
        };
        return [{ chooser, ignore }];
      }),
    );

    const resolved = [...this.sites].map(([name, { doc, value, path }]) => {
      const labels = new Set(value.labels ?? []);
      const merged: Entries = new Map(defaultsLevel.entries);
      const inherit = (level: Level) => {
        for (const { pkgpath } of level.exclude) merged.delete(pkgpath);
        for (const [pkgpath, entry] of level.entries) merged.set(pkgpath, entry);
      };
      for (const selection of selections) {
        if (selection.chooser && this.chooses(selection.chooser, name, labels)) {
          selection.used = true;
          inherit(selection.level);
        }
      }
      const siteLevel = this.level(doc, path, path.join('.'), value);
      for (const { pkgpath, source, dropsOwn } of siteLevel.exclude) {
        if (!merged.has(pkgpath) && !dropsOwn) {
          this.warnings.push({
            ...source,
            message: `exclude of ${pkgpath} in ${path.join('.')} drops nothing`,
            hint: 'no default, selection or set of this site requires it',
          });
        }
      }
      inherit(siteLevel);
      const settings = {
        ...localPaths(defaults, root.dir),
        ...localPaths(value, doc.dir),
      };
      // A site's proxy: replaces the defaults' one as a whole, like every other setting.
      if (value.lockStaleAfter !== undefined) this.checkLockStale(doc, path, value.lockStaleAfter);
      else if (defaults.lockStaleAfter !== undefined)
        this.checkLockStale(root, ['defaults'], defaults.lockStaleAfter);
      const pkgsrcAt = this.settingAt(doc, path, root, value.pkgsrc, defaults.pkgsrc);
      if (pkgsrcAt)
        this.checkMinPkgInstall(pkgsrcAt.doc, [...pkgsrcAt.path, 'pkgsrc'], settings.pkgsrc ?? {});
      const pkgsrcSource = pkgsrcAt && this.at(pkgsrcAt.doc, [...pkgsrcAt.path, 'pkgsrc', 'minPkgInstall']);
      // A site's prune: replaces the defaults' one as a whole; pruned removals point at the one that applies.
      const pruneAt = this.settingAt(doc, path, root, value.prune, defaults.prune);
      const pruneSource = pruneAt && this.at(pruneAt.doc, [...pruneAt.path, 'prune']);
      if (value.proxy !== undefined) this.checkProxyRole(doc, [...path, 'proxy'], name, settings);
      else if (defaults.proxy !== undefined) this.checkProxyRole(root, ['defaults', 'proxy'], name, settings);
      return resolveSite(
        name,
        settings,
        [...merged.values()].map((e) => e.requirement),
        [...labels].sort(),
        ignores.filter((i) => this.chooses(i.chooser, name, labels)).map((i) => i.ignore),
        pruneSource,
        pkgsrcSource,
      );
    });
    this.reportRolesWithoutVo();
    for (const selection of selections) {
      if (selection.chooser && !selection.used) {
        this.warnings.push({
          ...this.at(selection.doc, selection.path),
          message: `${selection.label} chooses no site`,
          hint: 'check its label expression and the labels of the sites',
        });
      }
    }
    return resolved;
  }
}

export function resolveSpec(documents: readonly SpecDocument[], options: ResolveOptions): ResolveResult {
  const resolver = new Resolver(documents, options);
  const sites = resolver.resolve();
  const diagnostics = dedupe(resolver.diagnostics);
  return { sites: diagnostics.length > 0 ? [] : sites, diagnostics, warnings: dedupe(resolver.warnings) };
}

/** A repository URL as the schema accepts it (schemas/desired-state.schema.json, $defs/repository). */
const REPOSITORY_URL = /^(?:https?|ftp):\/\//;

function localPaths<T extends RawSiteSettings>(settings: T, dir: string): RawSiteSettings {
  const local = (value: string | undefined) =>
    value === undefined || isAbsolute(value) ? value : resolvePath(dir, value);
  const out: RawSiteSettings = { ...settings };
  const backend = settings.backend;
  // Of an ssh connection only the key and known_hosts files are local (`~/` is left to ssh).
  const sshFiles = <C extends SshConnectionConfig>(connection: C): C => {
    const localFile = (value: string | undefined) => (value?.startsWith('~/') ? value : local(value));
    return {
      ...connection,
      ...(connection.identityFile ? { identityFile: localFile(connection.identityFile) } : {}),
      ...(connection.knownHostsFile ? { knownHostsFile: localFile(connection.knownHostsFile) } : {}),
    };
  };
  if (typeof backend === 'object' && backend.type === 'ssh') {
    // Paths of an ssh site are on the remote host.
    out.backend = sshFiles(backend);
    return out;
  }
  if (typeof backend === 'object' && backend.type === 'slurm' && backend.loginNode) {
    // The login node is reached over ssh: jobsRoot, slurmConf, jobCompLog and the site's paths are paths there.
    out.backend = { ...backend, loginNode: sshFiles(backend.loginNode) };
    return out;
  }
  if (typeof backend === 'object' && backend.type === 'slurm') {
    // The login node is this machine: its files (and the shared job directory) are local paths.
    out.backend = {
      ...backend,
      ...(backend.jobsRoot ? { jobsRoot: local(backend.jobsRoot) } : {}),
      ...(backend.slurmConf ? { slurmConf: local(backend.slurmConf) } : {}),
      ...(backend.jobCompLog ? { jobCompLog: local(backend.jobCompLog) } : {}),
    };
  }
  if (typeof backend === 'object' && backend.type === 'template') {
    // The commands run on this machine: the job directory is a local path. Argv words are taken as written.
    out.backend = { ...backend, ...(backend.jobsRoot ? { jobsRoot: local(backend.jobsRoot) } : {}) };
  }
  if (typeof backend === 'object' && backend.type === 'arc') {
    // The ARC client runs on this machine: the job directories and its configuration file are local paths.
    out.backend = {
      ...backend,
      ...(backend.jobsRoot ? { jobsRoot: local(backend.jobsRoot) } : {}),
      ...(backend.clientConfig ? { clientConfig: local(backend.clientConfig) } : {}),
    };
  }
  for (const key of ['softwareArea', 'prefix', 'pkgsrcTree'] as const) {
    if (settings[key] !== undefined) out[key] = local(settings[key]);
  }
  // A repository URL (http, https, ftp) is fetched by pkg_add on the site: it is not a path to resolve.
  if (settings.repository !== undefined && !REPOSITORY_URL.test(settings.repository)) {
    out.repository = local(settings.repository);
  }
  if (settings.bootstrap && !/^https?:\/\//.test(settings.bootstrap.source)) {
    out.bootstrap = { source: local(settings.bootstrap.source) as string };
  }
  return out;
}

function resolveSite(
  site: string,
  settings: RawSiteSettings,
  requirements: Requirement[],
  labels: string[],
  ignores: IgnoreRule[],
  pruneSource: SourceLocation | undefined,
  pkgsrcSource: SourceLocation | undefined,
): DesiredState {
  const minPkgInstall = settings.pkgsrc?.minPkgInstall;
  return {
    site,
    vo: settings.vo,
    softwareArea: settings.softwareArea,
    prefix: settings.prefix,
    repository: settings.repository,
    lockStaleSeconds: durationSeconds(settings.lockStaleAfter) ?? DEFAULT_LOCK_STALE_SECONDS,
    jobTimeoutSeconds: durationSeconds(settings.jobTimeout) ?? DEFAULT_JOB_TIMEOUT_SECONDS,
    backend: resolveBackend(settings.backend),
    requirements: requirements.sort((a, b) => (a.pkgpath < b.pkgpath ? -1 : a.pkgpath > b.pkgpath ? 1 : 0)),
    labels,
    installMode: settings.installMode ?? 'binary',
    pkgsrcTree: settings.pkgsrcTree,
    bootstrap: settings.bootstrap,
    prune: pruneSource && resolvePrune(settings.prune, pruneSource),
    minPkgInstall:
      minPkgInstall === undefined || pkgsrcSource === undefined
        ? undefined
        : { version: String(minPkgInstall), source: pkgsrcSource },
    vulnerabilityPolicy: settings.vulnerabilities?.policy ?? 'warn',
    ignores,
    proxy: {
      vomsRole: settings.proxy?.vomsRole,
      minValiditySeconds: durationSeconds(settings.proxy?.minValidity) ?? 0,
      requireVoms: settings.proxy?.requireVoms ?? settings.vo !== undefined,
    },
    ...(settings.resyncInterval !== undefined
      ? { resyncSeconds: durationSeconds(settings.resyncInterval) }
      : {}),
  };
}

/** `prune: true` or a mapping (enabled unless it says `enabled: false`); undefined when the site does not prune. */
function resolvePrune(raw: RawSiteSettings['prune'], source: SourceLocation): PruneSettings | undefined {
  if (raw === undefined || raw === false) return undefined;
  const settings = raw === true ? {} : raw;
  if (settings.enabled === false) return undefined;
  return {
    maxRemovals: settings.maxRemovals ?? DEFAULT_PRUNE_MAX_REMOVALS,
    allowRemoveAll: settings.allowRemoveAll ?? false,
    source,
  };
}

/** `20211115` as `2021-11-15`, to check that it is a date. */
function pkgInstallDate(version: number): string {
  const text = String(version);
  return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`;
}

function resolveBackend(raw: RawBackend | undefined): BackendConfig {
  if (raw === undefined || raw === 'local') return { type: 'local', shell: ['/bin/sh'], environment: {} };
  if (raw.type === 'ssh' || raw.type === 'slurm' || raw.type === 'template' || raw.type === 'arc') return raw;
  return { type: 'local', shell: raw.shell ?? ['/bin/sh'], environment: raw.environment ?? {} };
}

function describe(r: Requirement): string {
  return r.pattern === undefined ? r.state : `${r.state} ${r.pattern}`;
}

function where(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function durationSeconds(value: number | string | undefined): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  const unit = value.slice(-1);
  return Number(value.slice(0, -1)) * (UNIT_SECONDS[unit] ?? Number.NaN);
}
