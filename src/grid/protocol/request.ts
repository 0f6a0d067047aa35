/** Encoding of the request file (docs/site-job-protocol.md, "Request file"). */
import {
  isAbsolutePath,
  isFileName,
  isFingerprint,
  isJobId,
  isListingDigest,
  isPkgName,
  isPkgPath,
  isRepository,
  isSeconds,
  isVoName,
  MAX_ENDED_JOBS,
  MAX_JOB_ID_LENGTH,
  MAX_KNOWN_LISTINGS,
} from './tokens.js';
import {
  type ActionVerb,
  type JobMode,
  PROTOCOL_VERSION,
  type SiteAction,
  type SiteRequest,
} from './types.js';

/** A value that must not reach a site: names the field and shows the value (JSON-quoted, so control characters show). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';

  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid ${field} ${describe(value)}: ${rule}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return '(missing)';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const MODES: readonly JobMode[] = ['probe', 'apply'];
const VERBS: readonly ActionVerb[] = ['install', 'upgrade', 'downgrade', 'remove', 'upgrade-pkg_install'];

const RULES = {
  jobId: `1–${MAX_JOB_ID_LENGTH} characters of A-Z a-z 0-9 . _ -, not starting with -`,
  vo: 'A-Z a-z 0-9 . _ -, not starting with -',
  path: 'an absolute path of A-Z a-z 0-9 . _ - / + , without .. components',
  repository:
    'an absolute path, or an http, https or ftp URL (host A-Z a-z 0-9 . -, optional port, path as an absolute path; no user@, query or fragment)',
  pkgpath: 'category/name, each part A-Z a-z 0-9 . _ - +',
  pkgname: 'base-version of A-Z a-z 0-9 . _ - +, the version starting with a digit',
  seconds: 'an integer from 0 to 999999999',
  fingerprint: 'A-Z a-z 0-9 : -, not starting with -',
  file: 'a file name of A-Z a-z 0-9 . _ - +, not . or .., not starting with -',
  listingDigest: 'sha256: and 64 lower-case hex digits',
} as const;

/**
 * The repository file an install, upgrade or downgrade adds: its FILE_NAME from pkg_summary, else `PKGNAME.tgz`
 * (pkgsrc's default FILE_NAME). The job adds exactly this file, so no directory listing is ever needed.
 */
export function packageFile(action: SiteAction): string {
  return action.file ?? `${action.pkgname}.tgz`;
}

/** pkg_install upgrades itself first, and only itself (the job refuses anything else the same way). */
function checkPkgInstallUpgrade(action: SiteAction, index: number): void {
  const at = `actions[${index}]`;
  if (index !== 0)
    throw new ProtocolError(`${at}.verb`, action.verb, 'upgrade-pkg_install only as the first action');
  if (action.pkgpath !== PKG_INSTALL_PKGPATH)
    throw new ProtocolError(
      `${at}.pkgpath`,
      action.pkgpath,
      `${PKG_INSTALL_PKGPATH} for upgrade-pkg_install`,
    );
  if (!action.pkgname.startsWith('pkg_install-'))
    throw new ProtocolError(`${at}.pkgname`, action.pkgname, 'a pkg_install-VERSION for upgrade-pkg_install');
}

/** The PKGPATH of pkgsrc's own package tools, the only package `upgrade-pkg_install` names. */
export const PKG_INSTALL_PKGPATH = 'pkgtools/pkg_install';

/**
 * The request file for one job. Every value is checked against its token set before any text is produced, so a
 * hostile or broken value throws a ProtocolError and nothing reaches the site.
 */
export function encodeRequest(request: SiteRequest): string {
  const lines = [`gridpkg-request ${PROTOCOL_VERSION}`];
  if (!isJobId(request.jobId)) throw new ProtocolError('jobId', request.jobId, RULES.jobId);
  lines.push(`job ${request.jobId}`);
  if (!MODES.includes(request.mode)) throw new ProtocolError('mode', request.mode, 'probe or apply');
  lines.push(`mode ${request.mode}`);
  if (request.vo !== undefined) {
    if (!isVoName(request.vo)) throw new ProtocolError('vo', request.vo, RULES.vo);
    lines.push(`vo ${request.vo}`);
  }
  for (const [field, directive] of [
    ['swdir', 'swdir'],
    ['prefix', 'prefix'],
  ] as const) {
    const value = request[field];
    if (value === undefined) continue;
    if (!isAbsolutePath(value)) throw new ProtocolError(field, value, RULES.path);
    lines.push(`${directive} ${value}`);
  }
  if (request.repository !== undefined) {
    if (!isRepository(request.repository))
      throw new ProtocolError('repository', request.repository, RULES.repository);
    lines.push(`repository ${request.repository}`);
  }
  if (request.lockStaleSeconds !== undefined) {
    if (!isSeconds(request.lockStaleSeconds))
      throw new ProtocolError('lockStaleSeconds', request.lockStaleSeconds, RULES.seconds);
    lines.push(`lock-stale ${request.lockStaleSeconds}`);
  }
  if (request.expectFingerprint !== undefined) {
    if (request.mode !== 'apply')
      throw new ProtocolError(
        'expectFingerprint',
        request.expectFingerprint,
        'only an apply job carries one',
      );
    if (!isFingerprint(request.expectFingerprint))
      throw new ProtocolError('expectFingerprint', request.expectFingerprint, RULES.fingerprint);
    lines.push(`expect-fingerprint ${request.expectFingerprint}`);
  }
  if (request.endedJobs !== undefined) {
    if (!Array.isArray(request.endedJobs))
      throw new ProtocolError('endedJobs', request.endedJobs, 'a list of job ids');
    if (request.endedJobs.length > MAX_ENDED_JOBS)
      throw new ProtocolError('endedJobs', request.endedJobs.length, `at most ${MAX_ENDED_JOBS} job ids`);
    request.endedJobs.forEach((jobId, i) => {
      if (!isJobId(jobId)) throw new ProtocolError(`endedJobs[${i}]`, jobId, RULES.jobId);
      lines.push(`ended-job ${jobId}`);
    });
  }
  if (request.knownListings !== undefined) {
    if (!Array.isArray(request.knownListings))
      throw new ProtocolError('knownListings', request.knownListings, 'a list of listing digests');
    if (request.knownListings.length > MAX_KNOWN_LISTINGS)
      throw new ProtocolError(
        'knownListings',
        request.knownListings.length,
        `at most ${MAX_KNOWN_LISTINGS} digests`,
      );
    request.knownListings.forEach((digest, i) => {
      if (!isListingDigest(digest))
        throw new ProtocolError(`knownListings[${i}]`, digest, RULES.listingDigest);
      lines.push(`known-listing ${digest}`);
    });
  }
  if (!Array.isArray(request.actions))
    throw new ProtocolError('actions', request.actions, 'a list of actions');
  if (request.mode === 'probe' && request.actions.length > 0)
    throw new ProtocolError('actions', request.actions.length, 'a probe job carries no actions');
  request.actions.forEach((action, i) => {
    const at = `actions[${i}]`;
    if (!VERBS.includes(action.verb)) throw new ProtocolError(`${at}.verb`, action.verb, VERBS.join(', '));
    if (!isPkgPath(action.pkgpath)) throw new ProtocolError(`${at}.pkgpath`, action.pkgpath, RULES.pkgpath);
    if (!isPkgName(action.pkgname)) throw new ProtocolError(`${at}.pkgname`, action.pkgname, RULES.pkgname);
    if (action.verb === 'upgrade-pkg_install') checkPkgInstallUpgrade(action, i);
    if (action.verb === 'remove') {
      lines.push(`action ${action.verb} ${action.pkgpath} ${action.pkgname}`);
      return;
    }
    const file = packageFile(action);
    if (!isFileName(file)) throw new ProtocolError(`${at}.file`, file, RULES.file);
    lines.push(`action ${action.verb} ${action.pkgpath} ${action.pkgname} ${file}`);
  });
  // Installs only a dependency asks for: the job marks them automatic once added (pkg_admin set automatic=YES).
  const automatic = new Set(
    request.actions.filter((a) => a.verb === 'install' && a.automatic === true).map((a) => a.pkgname),
  );
  for (const pkgname of automatic) lines.push(`automatic ${pkgname}`);
  lines.push('end');
  return `${lines.join('\n')}\n`;
}
