/**
 * Strict parser of the report file (docs/site-job-protocol.md, "Report file"). A report is either fully trusted or
 * not at all: anything unexpected — a missing `end`, an unknown directive, a bad token, lines out of order —
 * gives `{ ok: false, problem }`, and the controller then treats the site as unknown. It never throws.
 */

import { createHash } from 'node:crypto';
import { parseLockOwner } from './lock-owner.js';
import {
  isAbsolutePath,
  isBuildInfoToken,
  isFactKey,
  isFileName,
  isFingerprint,
  isFreeText,
  isJobId,
  isListingDigest,
  isPattern,
  isPkgName,
  isPkgPath,
  isVersionToken,
  isVulnerabilityType,
} from './tokens.js';
import {
  type ActionOutcome,
  type ActionResult,
  type ActionVerb,
  type AuditStatus,
  type AvailablePackage,
  type InstalledPackage,
  type JobMode,
  type ParsedReport,
  REPORT_BEGIN_MARKER,
  REPORT_END_MARKER,
  type ReportStatus,
  type SiteReport,
} from './types.js';

const HEADER = 'gridpkg-report 1';

/** Where each directive may appear: ranks never decrease through a report. `note` may appear anywhere. */
const RANK = {
  job: 1,
  mode: 2,
  fact: 3,
  swdir: 4,
  lock: 5,
  pkgsrc: 6,
  'software-area': 6.5,
  'fingerprint before': 7,
  action: 8,
  pkg: 9,
  dep: 10,
  'repository-digest': 10.5,
  avail: 11,
  'repository-prefix': 12,
  'audit-status': 13,
  audit: 14,
  'fingerprint after': 15,
  status: 16,
  end: 17,
} as const;
type Section = keyof typeof RANK;
/** Sections that may appear once; the others repeat (one line per item). */
const REPEATED: ReadonlySet<Section> = new Set<Section>(['fact', 'action', 'pkg', 'dep', 'avail', 'audit']);

const MODES: readonly JobMode[] = ['probe', 'apply'];
const VERBS: readonly ActionVerb[] = ['install', 'upgrade', 'downgrade', 'remove', 'upgrade-pkg_install'];
const RESULTS: readonly ActionResult[] = ['ok', 'skipped', 'failed'];
const STATUSES: readonly ReportStatus[] = ['ok', 'partial', 'locked', 'stale', 'error'];
const AUDIT_STATUSES: readonly AuditStatus[] = ['clean', 'vulnerable', 'no-list', 'skipped'];

type Fail = (message: string) => never;

class Problem extends Error {
  constructor(
    readonly line: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

function oneOf<T extends string>(set: readonly T[], token: string): token is T {
  return (set as readonly string[]).includes(token);
}

/** One line cut into its fixed tokens and, when present, the free text that follows them. */
interface Fields {
  tokens: string[];
  text: string | undefined;
}

export function parseReport(text: string | undefined): ParsedReport {
  try {
    return { ok: true, report: parse(text) };
  } catch (error) {
    if (error instanceof Problem) return { ok: false, problem: { line: error.line, message: error.message } };
    return { ok: false, problem: { line: undefined, message: `report parser failed: ${String(error)}` } };
  }
}

function parse(text: string | undefined): SiteReport {
  if (text === undefined) throw new Problem(undefined, 'no report');
  if (text === '') throw new Problem(1, 'empty report');
  // The text is read line by line from positions, not split: the quick paths below match in place, so the lines
  // that make up nearly all of a report are never copied out as strings of their own.
  const length = text.endsWith('\n') ? text.length - 1 : text.length;

  const report: SiteReport = {
    protocol: 1,
    jobId: undefined,
    mode: undefined,
    facts: {},
    swdir: undefined,
    lock: undefined,
    pkgsrc: undefined,
    fingerprintBefore: undefined,
    fingerprintAfter: undefined,
    actions: [],
    installed: [],
    dependencies: [],
    available: [],
    repositoryDigest: undefined,
    auditStatus: undefined,
    audit: [],
    notes: [],
    status: 'error',
    statusMessage: '',
  };
  // PKGNAME -> the string kept in report.installed: `dep` lines refer to it rather than keep copies of their own.
  const installed = new Map<string, string>();
  const available = new Set<string>();
  // The `avail` lines exactly as sent: a listing that names its digest must hash to it.
  const listingHash = createHash('sha256');
  const seen = new Set<Section>();
  let rank = 0;
  let statusLine: number | undefined;
  let ended = false;

  // One `fail` for the whole report (not a closure per line: reports run to tens of thousands of lines).
  let n = 0;
  const fail: Fail = (message) => {
    throw new Problem(n, message);
  };
  // The character check runs once over the whole text; the loop only needs to know which line fails it first.
  const badLine = firstLineWithBadCharacter(text);
  let at = 0;
  let more = true;
  while (more) {
    n++;
    if (ended) fail('text after end');
    if (n > 1) {
      // Quick paths for the lines that make up nearly all of a report, one per installed package and dependency:
      // one sticky regular expression matched in place instead of cutting and checking token by token. They take
      // only lines the general path below accepts, with the same result; every other line (and every error) goes
      // the general way. A quick line is never the last line (which must be `end`).
      if (rank <= RANK.pkg) {
        QUICK_PKG.lastIndex = at;
        const m = QUICK_PKG.exec(text);
        const next = QUICK_PKG.lastIndex;
        if (m !== null && next - at <= MAX_QUICK_LINE && next <= length) {
          const pkgname = m[1] as string;
          const pkgpath = m[2] as string;
          if (isQuickPkgName(pkgname) && !installed.has(pkgname)) {
            if (rank < RANK.pkg) {
              seen.add('pkg');
              rank = RANK.pkg;
            }
            installed.set(pkgname, pkgname);
            report.installed.push({
              pkgname,
              pkgpath: pkgpath === '-' ? undefined : pkgpath,
              automatic: m[3] === 'yes',
            });
            at = next;
            continue;
          }
        }
      }
      if (rank <= RANK.dep) {
        QUICK_DEP.lastIndex = at;
        const m = QUICK_DEP.exec(text);
        const next = QUICK_DEP.lastIndex;
        if (m !== null && next - at <= MAX_QUICK_LINE && next <= length) {
          const pkgname = installed.get(m[1] as string);
          if (pkgname !== undefined) {
            if (rank < RANK.dep) {
              seen.add('dep');
              rank = RANK.dep;
            }
            report.dependencies.push({ pkgname, pattern: m[2] as string });
            at = next;
            continue;
          }
        }
      }
    }

    let eol = text.indexOf('\n', at);
    if (eol < 0 || eol >= length) {
      eol = length;
      more = false;
    }
    const line = text.slice(at, eol);
    at = eol + 1;
    if (n === badLine) fail('control or non-ASCII character');

    if (n === 1) {
      if (line === HEADER) continue;
      if (line.startsWith('gridpkg-report ')) fail(`unsupported report version: ${line.slice(15, 40)}`);
      fail('not a gridpkg report (first line is not "gridpkg-report 1")');
    }
    if (line === '') fail('empty line');

    const space = line.indexOf(' ');
    const directive = space < 0 ? line : line.slice(0, space);
    let rest = space < 0 ? undefined : line.slice(space + 1);
    if (directive === 'note') {
      if (seen.has('status')) fail('note after status');
      if (!rest) fail('note without text');
      report.notes.push(rest);
      continue;
    }
    let section: Section;
    if (directive === 'fingerprint') {
      const f = cut(rest, 1, fail);
      if (f.tokens[0] !== 'before' && f.tokens[0] !== 'after')
        fail('fingerprint must be "before" or "after"');
      section = `fingerprint ${f.tokens[0] as 'before' | 'after'}`;
      rest = f.text;
    } else if (Object.hasOwn(RANK, directive)) {
      section = directive as Section;
    } else {
      section = fail(`unknown directive "${directive.slice(0, 40)}"`);
    }
    if (seen.has(section) && !REPEATED.has(section)) fail(`duplicate ${section} line`);
    if (RANK[section] < rank) fail(`${section} line out of order`);
    seen.add(section);
    rank = RANK[section];

    switch (section) {
      case 'job': {
        const [id = ''] = exact(rest, 1, fail);
        if (!isJobId(id)) fail('bad job id');
        report.jobId = id;
        break;
      }
      case 'mode': {
        const [mode = ''] = exact(rest, 1, fail);
        if (!oneOf(MODES, mode)) fail('mode must be probe or apply');
        report.mode = mode;
        break;
      }
      case 'fact': {
        const f = cut(rest, 1, fail);
        const key = f.tokens[0] ?? '';
        if (!isFactKey(key)) fail('bad fact key');
        if (Object.hasOwn(report.facts, key)) fail(`duplicate fact ${key}`);
        report.facts[key] = needText(f, fail, 'fact without value');
        break;
      }
      case 'swdir': {
        const [path = ''] = exact(rest, 1, fail);
        if (!isAbsolutePath(path)) fail('bad swdir path');
        report.swdir = path;
        break;
      }
      case 'lock': {
        const f = cut(rest, 1, fail);
        const state = f.tokens[0];
        if (state === 'acquired') {
          if (f.text !== undefined) fail('lock acquired takes no owner');
          report.lock = { state };
        } else if (state === 'busy' || state === 'broken-stale' || state === 'broken-ended') {
          const owner = needText(f, fail, `lock ${state} without owner`);
          const holder = parseLockOwner(owner);
          report.lock = holder ? { state, owner, holder } : { state, owner };
        } else {
          fail('lock must be acquired, busy, broken-stale or broken-ended');
        }
        break;
      }
      case 'pkgsrc': {
        const f = cut(rest, 1, fail);
        if (f.tokens[0] === 'present') {
          const [prefix = '', version = ''] = exact(f.text, 2, fail);
          if (!isAbsolutePath(prefix)) fail('bad pkgsrc prefix');
          if (!isVersionToken(version)) fail('bad pkg_install version');
          report.pkgsrc = { state: 'present', prefix, version };
        } else if (f.tokens[0] === 'absent') {
          const [prefix = ''] = exact(f.text, 1, fail);
          if (!isAbsolutePath(prefix)) fail('bad pkgsrc prefix');
          report.pkgsrc = { state: 'absent', prefix };
        } else if (f.tokens[0] === 'foreign-pkgdb') {
          const [prefix = '', pkgdb = ''] = exact(f.text, 2, fail);
          if (!isAbsolutePath(prefix)) fail('bad pkgsrc prefix');
          if (!isAbsolutePath(pkgdb)) fail('bad package database path');
          report.pkgsrc = { state: 'foreign-pkgdb', prefix, pkgdb };
        } else {
          fail('pkgsrc must be present, absent or foreign-pkgdb');
        }
        break;
      }
      case 'software-area': {
        const f = cut(rest, 2, fail);
        const [access = '', count = ''] = f.tokens;
        if (access !== 'writable' && access !== 'read-only')
          fail('software-area must be writable or read-only');
        if (!/^(0|[1-9][0-9]{0,8})$/.test(count)) fail('bad count of paths that are not group-writable');
        const notGroupWritable = Number(count);
        const example = optionalText(f, fail);
        if (notGroupWritable > 0 !== (example !== '')) fail('a count above 0 goes with an example path');
        report.softwareArea = {
          writable: access === 'writable',
          notGroupWritable,
          example: example === '' ? undefined : example,
        };
        break;
      }
      case 'fingerprint before':
      case 'fingerprint after': {
        const [fp = ''] = exact(rest, 1, fail);
        if (!isFingerprint(fp)) fail('bad fingerprint');
        if (section === 'fingerprint before') report.fingerprintBefore = fp;
        else report.fingerprintAfter = fp;
        break;
      }
      case 'action': {
        const f = cut(rest, 5, fail);
        const [index = '', verb = '', pkgpath = '', pkgname = '', result = ''] = f.tokens;
        if (index !== String(report.actions.length + 1))
          fail(`action number ${index.slice(0, 20)} out of sequence`);
        if (!oneOf(VERBS, verb)) fail('bad action verb');
        // The job runs pkg_install's own upgrade only first (the request refuses it anywhere else).
        if (verb === 'upgrade-pkg_install' && report.actions.length > 0)
          fail('upgrade-pkg_install only as the first action');
        if (!isPkgPath(pkgpath)) fail('bad action PKGPATH');
        if (!isPkgName(pkgname)) fail('bad action PKGNAME');
        if (!oneOf(RESULTS, result)) fail('action result must be ok, skipped or failed');
        const outcome: ActionOutcome = {
          index: report.actions.length + 1,
          verb,
          pkgpath,
          pkgname,
          result,
          message: optionalText(f, fail),
        };
        report.actions.push(outcome);
        break;
      }
      case 'pkg': {
        const [pkgname = '', pkgpath = '', automatic = ''] = exact(rest, 3, fail);
        if (!isPkgName(pkgname)) fail('bad pkg PKGNAME');
        if (pkgpath !== '-' && !isPkgPath(pkgpath)) fail('bad pkg PKGPATH');
        if (automatic !== 'yes' && automatic !== 'no') fail('automatic flag must be yes or no');
        if (installed.has(pkgname)) fail(`duplicate pkg ${pkgname}`);
        installed.set(pkgname, pkgname);
        const pkg: InstalledPackage = {
          pkgname,
          pkgpath: pkgpath === '-' ? undefined : pkgpath,
          automatic: automatic === 'yes',
        };
        report.installed.push(pkg);
        break;
      }
      case 'dep': {
        const [pkgname = '', pattern = ''] = exact(rest, 2, fail);
        if (!isPkgName(pkgname)) fail('bad dep PKGNAME');
        if (!installed.has(pkgname)) fail(`dep of ${pkgname}, which is not listed as installed`);
        if (!isPattern(pattern)) fail('bad dep pattern');
        report.dependencies.push({ pkgname, pattern });
        break;
      }
      case 'repository-digest': {
        const [digest = '', listing = ''] = exact(rest, 2, fail);
        if (!isListingDigest(digest)) fail('bad repository digest (expected sha256: and 64 hex digits)');
        if (listing !== 'sent' && listing !== 'known') fail('repository-digest must end in sent or known');
        report.repositoryDigest = { digest, listing };
        break;
      }
      case 'avail': {
        if (report.repositoryDigest?.listing === 'known')
          fail('avail line after a listing reported as known');
        if (report.repositoryDigest) listingHash.update(`${line}\n`);
        const pkg = parseAvail(rest, fail);
        // A repository may list a package twice (concatenated summaries); one entry is enough.
        if (!available.has(pkg.pkgname)) {
          available.add(pkg.pkgname);
          report.available.push(pkg);
        }
        break;
      }
      case 'repository-prefix': {
        const [prefix = ''] = exact(rest, 1, fail);
        if (!isAbsolutePath(prefix)) fail('bad repository prefix');
        report.repositoryPrefix = prefix;
        break;
      }
      case 'audit-status': {
        const f = cut(rest, 1, fail);
        const status = f.tokens[0] ?? '';
        if (!oneOf(AUDIT_STATUSES, status)) fail('bad audit status');
        report.auditStatus = { status, message: optionalText(f, fail) };
        break;
      }
      case 'audit': {
        const f = cut(rest, 2, fail);
        const [pkgname = '', type = ''] = f.tokens;
        if (report.auditStatus?.status !== 'vulnerable')
          fail('audit finding without audit-status vulnerable');
        if (!isPkgName(pkgname)) fail('bad audit PKGNAME');
        if (!isVulnerabilityType(type)) fail('bad vulnerability type');
        report.audit.push({ pkgname, type, url: needText(f, fail, 'audit finding without URL') });
        break;
      }
      case 'status': {
        const f = cut(rest, 1, fail);
        const status = f.tokens[0] ?? '';
        if (!oneOf(STATUSES, status)) fail('bad status');
        report.status = status;
        report.statusMessage = optionalText(f, fail);
        statusLine = n;
        break;
      }
      case 'end':
        if (rest !== undefined) fail('end takes no arguments');
        if (statusLine === undefined) fail('no status line before end');
        ended = true;
        break;
    }
  }

  if (!ended) throw new Problem(n, 'truncated report: no end line');
  if (report.repositoryDigest?.listing === 'sent') {
    const digest = `sha256:${listingHash.digest('hex')}`;
    if (digest !== report.repositoryDigest.digest)
      throw new Problem(statusLine, 'the repository listing does not match its repository-digest');
  }
  checkConsistency(report, statusLine);
  return report;
}

/**
 * A repository listing as kept in the state directory (state/listings.ts): the `avail` lines of a report and nothing
 * else, judged by the same rules. A package listed twice is kept once, as in a report.
 */
export function parseListing(
  text: string,
): { ok: true; available: AvailablePackage[] } | { ok: false; problem: { line: number; message: string } } {
  const available: AvailablePackage[] = [];
  const names = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let n = 0;
  const fail: Fail = (message) => {
    throw new Problem(n, message);
  };
  try {
    for (const line of lines) {
      n++;
      if (!line.startsWith('avail ')) fail('not an avail line');
      if (!isFreeText(line)) fail('control or non-ASCII character');
      const pkg = parseAvail(line.slice(6), fail);
      if (!names.has(pkg.pkgname)) {
        names.add(pkg.pkgname);
        available.push(pkg);
      }
    }
  } catch (error) {
    if (error instanceof Problem) return { ok: false, problem: { line: n, message: error.message } };
    throw error;
  }
  return { ok: true, available };
}

/**
 * `avail PKGNAME PKGPATH` (short form) or `avail PKGNAME PKGPATH FILE_NAME PKGTOOLS_VERSION OPSYS MACHINE_ARCH
 * [DEPENDS...]` (long form: `-` for a value the record lacks, one token per DEPENDS pattern).
 */
function parseAvail(rest: string | undefined, fail: Fail): AvailablePackage {
  const tokens = rest === undefined ? [] : rest.split(' ');
  const [pkgname = '', pkgpath = '', fileName, toolsVersion, opsys, arch, ...depends] = tokens;
  if (tokens.length !== 2 && tokens.length < 6)
    fail('avail takes PKGNAME PKGPATH, then the build facts or none');
  if (!isPkgName(pkgname)) fail('bad avail PKGNAME');
  if (!isPkgPath(pkgpath)) fail('bad avail PKGPATH');
  if (tokens.length === 2) return { pkgname, pkgpath };
  const optional = (
    token: string | undefined,
    ok: (t: string) => boolean,
    what: string,
  ): string | undefined => {
    if (token === '-') return undefined;
    if (token === undefined || !ok(token)) fail(`bad avail ${what}`);
    return token;
  };
  const pkg: AvailablePackage = { pkgname, pkgpath, depends: [] };
  const file = optional(fileName, isFileName, 'FILE_NAME');
  if (file !== undefined) pkg.fileName = file;
  const tools = optional(toolsVersion, isBuildInfoToken, 'PKGTOOLS_VERSION');
  if (tools !== undefined) pkg.pkgtoolsVersion = tools;
  const os = optional(opsys, isBuildInfoToken, 'OPSYS');
  if (os !== undefined) pkg.opsys = os;
  const machine = optional(arch, isBuildInfoToken, 'MACHINE_ARCH');
  if (machine !== undefined) pkg.machineArch = machine;
  for (const pattern of depends) {
    if (!isPattern(pattern)) fail('bad avail DEPENDS pattern');
    pkg.depends?.push(pattern);
  }
  return pkg;
}

/** Whole-report rules: a report whose parts contradict each other is not trusted either. */
function checkConsistency(report: SiteReport, statusLine: number | undefined): void {
  const fail: Fail = (message) => {
    throw new Problem(statusLine, message);
  };
  const failed = report.actions.filter((a) => a.result === 'failed').length;
  if (report.mode === 'probe' && report.actions.length > 0) fail('a probe report lists actions');
  if (report.status === 'ok' && failed > 0) fail('status ok but an action failed');
  if (report.status === 'partial' && failed === 0) fail('status partial but no action failed');
  if ((report.status === 'locked') !== (report.lock?.state === 'busy'))
    fail('status locked and lock busy must go together');
  if (report.status === 'stale' && report.actions.length > 0) fail('status stale but actions were run');
  if ((report.auditStatus?.status === 'vulnerable') !== report.audit.length > 0)
    fail('audit-status vulnerable and audit findings must go together');
  if (report.status === 'ok' || report.status === 'partial' || report.status === 'stale') {
    // These statuses promise the full post-state: it must all be there.
    if (report.lock === undefined || report.lock.state === 'busy') fail('no lock was taken');
    if (report.pkgsrc?.state !== 'present') fail('pkgsrc is not reported present');
    if (!report.fingerprintBefore || !report.fingerprintAfter) fail('a fingerprint is missing');
    if (!report.auditStatus) fail('audit-status is missing');
  }
  if (report.status === 'locked' && report.installed.length > 0) fail('a locked site lists packages');
  if (report.softwareArea && report.pkgsrc?.state !== 'present')
    fail('software-area is reported only with pkgsrc present');
  if (report.pkgsrc?.state === 'foreign-pkgdb' && (report.status !== 'error' || report.fingerprintBefore))
    fail("a job that found another prefix's package database must stop there with status error");
}

/**
 * Lines the quick paths take, newline included: `pkg PKGNAME PKGPATH|- yes|no` and `dep PKGNAME PATTERN`, where no
 * token starts with '-', no PKGPATH part with '.' (so none is '.' or '..') and a PATTERN has no braces or commas
 * (nothing to count). Up to MAX_QUICK_LINE characters, so every token is within MAX_TOKEN_LENGTH. The PKGNAME rule
 * a regular expression cannot say simply is in isQuickPkgName.
 */
const MAX_QUICK_LINE = 512;
const PKGNAME = '[A-Za-z0-9_+][A-Za-z0-9._+-]*-[0-9][A-Za-z0-9._+]*';
const PATH_PART = '[A-Za-z0-9_+][A-Za-z0-9._+-]*';
const QUICK_PKG = new RegExp(`pkg (${PKGNAME}) (-|${PATH_PART}/${PATH_PART}) (yes|no)\n`, 'y');
const QUICK_DEP = new RegExp(`dep (${PKGNAME}) ([A-Za-z0-9._+<>=*?[\\]][A-Za-z0-9._+<>=*?[\\]-]*)\n`, 'y');

/** The PKGBASE (before the last '-') of a PKGNAME does not end in '-'. */
function isQuickPkgName(pkgname: string): boolean {
  return pkgname.charCodeAt(pkgname.lastIndexOf('-') - 1) !== 0x2d;
}

/** The number of the first line with a character outside printable ASCII, or 0 when there is none. */
function firstLineWithBadCharacter(text: string): number {
  const at = text.search(/[^\n\x20-\x7e]/);
  if (at < 0) return 0;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Cuts `count` single-space-separated tokens off `rest`; whatever follows is free text. */
function cut(rest: string | undefined, count: number, fail: Fail): Fields {
  const tokens: string[] = [];
  let remaining = rest;
  for (let i = 0; i < count; i++) {
    if (remaining === undefined) fail(`expected ${count} field${count === 1 ? '' : 's'}`);
    const space = remaining.indexOf(' ');
    if (space < 0) {
      tokens.push(remaining);
      remaining = undefined;
    } else {
      tokens.push(remaining.slice(0, space));
      remaining = remaining.slice(space + 1);
    }
  }
  return { tokens, text: remaining };
}

/** Exactly `count` tokens and no free text. */
function exact(rest: string | undefined, count: number, fail: Fail): string[] {
  const f = cut(rest, count, fail);
  if (f.text !== undefined) fail(`expected ${count} field${count === 1 ? '' : 's'}, found more`);
  return f.tokens;
}

function needText(f: Fields, fail: Fail, message: string): string {
  if (!f.text) fail(message);
  return f.text;
}

function optionalText(f: Fields, fail: Fail): string {
  if (f.text === '') fail('trailing space');
  return f.text ?? '';
}

/** The report a job echoed on stdout between the markers (after the last begin marker), or undefined. */
export function extractReportFromStdout(stdout: string): string | undefined {
  const lines = stdout.split(/\r?\n/);
  const begin = lines.lastIndexOf(REPORT_BEGIN_MARKER);
  if (begin < 0) return undefined;
  const end = lines.indexOf(REPORT_END_MARKER, begin + 1);
  if (end < 0) return undefined;
  const body = lines.slice(begin + 1, end);
  return body.length > 0 ? `${body.join('\n')}\n` : '';
}
