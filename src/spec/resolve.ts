/**
 * Resolution: the validated spec becomes one DesiredState per site. Pure: no I/O, paths are only joined.
 * A site inherits every setting of `defaults`; its own packages override the defaults' entry of the same PKGPATH.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { isValidPattern } from '../pkgsrc/index.js';
import type { Diagnostic } from './diagnostics.js';
import type {
  BackendConfig,
  DesiredState,
  RawBackend,
  RawPackage,
  RawSiteSettings,
  RawSpec,
  Requirement,
  SourceLocation,
} from './types.js';
import type { YamlPath } from './yaml-source.js';

export const DEFAULT_LOCK_STALE_SECONDS = 30 * 60;
export const DEFAULT_JOB_TIMEOUT_SECONDS = 2 * 60 * 60;

export interface ResolveContext {
  /** Directory of the spec file: relative paths in the spec are relative to it. */
  specDir: string;
  locate(path: YamlPath, part?: 'key' | 'value'): SourceLocation;
}

export function resolveSpec(
  spec: RawSpec,
  context: ResolveContext,
): { sites: DesiredState[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const defaults = spec.defaults ?? {};
  const defaultPackages = collectRequirements(
    defaults.packages ?? [],
    ['defaults', 'packages'],
    context,
    diagnostics,
  );
  const sites = Object.entries(spec.sites).map(([name, settings]) => {
    const own = collectRequirements(
      settings.packages ?? [],
      ['sites', name, 'packages'],
      context,
      diagnostics,
    );
    const merged = new Map(defaultPackages);
    for (const [pkgpath, requirement] of own) merged.set(pkgpath, requirement);
    return resolveSite(name, { ...defaults, ...settings }, [...merged.values()], context);
  });
  return { sites: diagnostics.length > 0 ? [] : sites, diagnostics };
}

function resolveSite(
  site: string,
  settings: RawSiteSettings,
  requirements: Requirement[],
  context: ResolveContext,
): DesiredState {
  const localPath = (value: string | undefined) =>
    value === undefined || isAbsolute(value) ? value : resolvePath(context.specDir, value);
  return {
    site,
    vo: settings.vo,
    softwareArea: localPath(settings.softwareArea),
    prefix: localPath(settings.prefix),
    repository: localPath(settings.repository),
    lockStaleSeconds: durationSeconds(settings.lockStaleAfter) ?? DEFAULT_LOCK_STALE_SECONDS,
    jobTimeoutSeconds: durationSeconds(settings.jobTimeout) ?? DEFAULT_JOB_TIMEOUT_SECONDS,
    backend: resolveBackend(settings.backend),
    requirements: requirements.sort((a, b) => (a.pkgpath < b.pkgpath ? -1 : a.pkgpath > b.pkgpath ? 1 : 0)),
  };
}

function resolveBackend(raw: RawBackend | undefined): BackendConfig {
  if (raw === undefined || raw === 'local') return { type: 'local', shell: ['/bin/sh'], environment: {} };
  return { type: 'local', shell: raw.shell ?? ['/bin/sh'], environment: raw.environment ?? {} };
}

function collectRequirements(
  entries: RawPackage[],
  path: YamlPath,
  context: ResolveContext,
  diagnostics: Diagnostic[],
): Map<string, Requirement> {
  const byPath = new Map<string, Requirement>();
  entries.forEach((entry, index) => {
    const source = context.locate([...path, index]);
    const requirement: Requirement =
      typeof entry === 'string'
        ? { pkgpath: entry, pattern: undefined, state: 'present', source }
        : { pkgpath: entry.pkgpath, pattern: entry.pattern, state: entry.state ?? 'present', source };
    if (requirement.pattern !== undefined && !isValidPattern(requirement.pattern)) {
      diagnostics.push({
        ...context.locate([...path, index, 'pattern']),
        message: `invalid pkg_match pattern "${requirement.pattern}"`,
        hint: 'use a package name with a version range or glob, e.g. gsl>=2.7<3 or gsl-2.7*',
      });
    }
    const earlier = byPath.get(requirement.pkgpath);
    if (earlier) {
      diagnostics.push({
        ...source,
        message: `${requirement.pkgpath} is listed twice in ${path.join('.')}`,
        hint: `first listed at ${earlier.source.file}:${earlier.source.line}:${earlier.source.column}; keep one entry`,
      });
    }
    byPath.set(requirement.pkgpath, requirement);
  });
  return byPath;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function durationSeconds(value: number | string | undefined): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  const unit = value.slice(-1);
  return Number(value.slice(0, -1)) * (UNIT_SECONDS[unit] ?? Number.NaN);
}
