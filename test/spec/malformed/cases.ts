/**
 * The malformed-spec corpus: each case is a small spec (plus included files) and the exact diagnostics it must
 * produce, as `file:line:column message | hint`. Warnings are listed separately; a case with warnings only loads.
 */
import { lines } from '../harness.js';

export interface MalformedCase {
  name: string;
  text: string;
  includes?: Record<string, string>;
  errors?: string[];
  warnings?: string[];
}

const H = 'apiVersion: gridpkg/v1';
/** Two labelled sites, lines 2-8 (site-a at line 3, site-b at line 6). */
const SITES = [
  'sites:',
  '  site-a:',
  '    labels: [physics, el9]',
  '    vo: pvier',
  '  site-b:',
  '    labels: [physics, legacy]',
  '    vo: pvier',
];
const INCLUDE_TREE =
  "an included file must be in the root spec file's directory or below it (after following symlinks), so that " +
  'a spec cannot make gridpkg read other files of this machine; move the file there, or the root spec up';
const SITE_KEYS =
  'allowed keys: labels, vo, softwareArea, prefix, repository, lockStaleAfter, jobTimeout, resyncInterval, backend, installMode, ' +
  'pkgsrcTree, bootstrap, prune, pkgsrc, vulnerabilities, proxy, sets, packages, exclude';
const NAME_RULE =
  'names use letters, digits, ".", "_" and "-", start with a letter or digit, at most 32 characters';
const site = (...body: string[]) => lines(H, 'sites:', '  site-a:', ...body);
const withSites = (...rest: string[]) => lines(H, ...SITES, ...rest);

export const CASES: MalformedCase[] = [
  // --- YAML syntax -----------------------------------------------------------------------------------------
  {
    name: 'unclosed flow sequence',
    errors: [
      'spec.yaml:5:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    text: site('    packages: [math/gsl'),
  },
  {
    name: 'unclosed double quote',
    errors: ['spec.yaml:5:1 YAML syntax error: Missing closing "quote'],
    text: site('    vo: "pvier'),
  },
  {
    name: 'tab indentation',
    errors: ['spec.yaml:3:1 YAML syntax error: Tabs are not allowed as indentation'],
    text: lines(H, 'sites:', '\tsite-a: {}'),
  },
  {
    name: 'a mapping value where none may be',
    errors: ['spec.yaml:4:9 YAML syntax error: Nested mappings are not allowed in compact mappings'],
    text: site('    vo: a: b'),
  },
  {
    name: 'duplicate top-level key',
    errors: ['spec.yaml:3:1 duplicate key | each key may appear once per mapping'],
    text: lines(H, 'sites: {a: {}}', 'sites: {b: {}}'),
  },
  {
    name: 'duplicate key in a site',
    errors: ['spec.yaml:5:5 duplicate key | each key may appear once per mapping'],
    text: site('    vo: a', '    vo: b'),
  },
  {
    name: 'duplicate set name',
    errors: ['spec.yaml:11:3 duplicate key | each key may appear once per mapping'],
    text: withSites('sets:', '  base: {}', '  base: {}'),
  },
  // --- wrong types -----------------------------------------------------------------------------------------
  {
    name: 'the document is a list',
    errors: [
      'spec.yaml:1:1 the document must be a mapping (got [{"apiVersion":"gridpkg/v1"}]) | The pkgsrc packages a virtual organisation wants on each grid site. A spec may be split over several files with include.',
    ],
    text: lines('- apiVersion: gridpkg/v1'),
  },
  {
    name: 'missing apiVersion',
    errors: ['spec.yaml:1:1 the document is missing the required key "apiVersion"'],
    text: lines('sites:', '  a: {}'),
  },
  {
    name: 'unsupported apiVersion',
    errors: [
      'spec.yaml:1:13 apiVersion must be "gridpkg/v1" (got "gridpkg/v2") | Version of this file format.',
    ],
    text: lines('apiVersion: gridpkg/v2', 'sites:', '  a: {}'),
  },
  {
    name: 'sites is a list',
    errors: [
      'spec.yaml:3:3 sites must be a mapping (got ["site-a"]) | Grid sites by name. Each site gets one job at a time.',
    ],
    text: lines(H, 'sites:', '  - site-a'),
  },
  {
    name: 'packages is a string',
    errors: [
      'spec.yaml:4:15 sites.site-a.packages must be a list (got "math/gsl") | Package requirements; they override the defaults\' and selections\' entries of the same PKGPATH.',
    ],
    text: site('    packages: math/gsl'),
  },
  {
    name: 'labels is a string',
    errors: [
      'spec.yaml:4:13 sites.site-a.labels must be a list (got "physics") | Labels that selections and ignore rules choose sites by.',
    ],
    text: site('    labels: physics'),
  },
  {
    name: 'prune is a string',
    errors: [
      'spec.yaml:4:12 sites.site-a.prune must be true or false or a mapping (got "yes") | Remove the packages the spec does not mention, then the dependencies nothing needs any more (default false): true, or a mapping with enabled, maxRemovals, allowRemoveAll.',
    ],
    text: site('    prune: "yes"'),
  },
  {
    name: 'prune mapping with a bad maxRemovals and an unknown key',
    errors: [
      'spec.yaml:4:37 unknown key "maxRemoval" in sites.site-a.prune | did you mean "maxRemovals"?',
      'spec.yaml:4:30 sites.site-a.prune.allowRemoveAll must be true or false (got "yes") | Allow a plan that prunes every package of a site except pkgsrc\'s own (default false).',
    ],
    text: site('    prune: { allowRemoveAll: "yes", maxRemoval: 3 }'),
  },
  {
    name: 'prune maxRemovals of zero',
    errors: [
      'spec.yaml:4:27 sites.site-a.prune.maxRemovals must be at least 1 (got 0) | A plan that would prune more packages than this from one site is blocked (default 10).',
    ],
    text: site('    prune: { maxRemovals: 0 }'),
  },
  {
    name: 'minPkgInstall that is not a number',
    errors: [
      'spec.yaml:4:30 sites.site-a.pkgsrc.minPkgInstall must be a whole number (got "2021-11-15") | The oldest pkg_install version a site may keep, as pkg_info -V prints it (YYYYMMDD, e.g. 20211115); an older one is upgraded from the repository first.',
    ],
    text: site('    pkgsrc: { minPkgInstall: "2021-11-15" }'),
  },
  {
    name: 'minPkgInstall that is not a date',
    errors: [
      'spec.yaml:4:30 sites.site-a.pkgsrc.minPkgInstall 20211345 is not a pkg_install version: pkg_install versions are dates, YYYYMMDD | use the version `pkg_info -V` prints, e.g. 20211115',
    ],
    text: site('    pkgsrc: { minPkgInstall: 20211345 }'),
  },
  {
    name: 'duration with a word unit',
    errors: [
      'spec.yaml:4:21 sites.site-a.lockStaleAfter is not a duration (got "30 minutes") | Seconds as a number, or a number with unit s, m, h or d ("30m").',
    ],
    text: site('    lockStaleAfter: 30 minutes'),
  },
  {
    name: 'lockStaleAfter so short that a live lock could look stale',
    errors: [
      "spec.yaml:4:21 sites.site-a.lockStaleAfter is 5 s: below 60 s a running job's site lock could look stale and be broken | use at least 60s (default 30m): a live job renews the lock's heartbeat every few seconds, and the rest covers clock skew between worker nodes",
    ],
    text: site('    lockStaleAfter: 5s'),
  },
  {
    name: 'lockStaleAfter in defaults below the floor, reported once for every site',
    errors: [
      "spec.yaml:3:19 defaults.lockStaleAfter is 59 s: below 60 s a running job's site lock could look stale and be broken | use at least 60s (default 30m): a live job renews the lock's heartbeat every few seconds, and the rest covers clock skew between worker nodes",
    ],
    text: lines(H, 'defaults:', '  lockStaleAfter: 59', ...SITES),
  },
  {
    name: 'a site may set lockStaleAfter at the floor over defaults below it',
    errors: [
      "spec.yaml:3:19 defaults.lockStaleAfter is 30 s: below 60 s a running job's site lock could look stale and be broken | use at least 60s (default 30m): a live job renews the lock's heartbeat every few seconds, and the rest covers clock skew between worker nodes",
    ],
    text: lines(
      H,
      'defaults:',
      '  lockStaleAfter: 30s',
      ...SITES.slice(0, 4),
      '    lockStaleAfter: 1m',
      ...SITES.slice(4),
    ),
  },
  {
    name: 'zero job timeout',
    errors: [
      'spec.yaml:4:17 sites.site-a.jobTimeout must be at least 1 (got 0) | Seconds as a number, or a number with unit s, m, h or d ("30m").',
    ],
    text: site('    jobTimeout: 0'),
  },
  {
    name: 'unknown install mode',
    errors: [
      'spec.yaml:4:18 sites.site-a.installMode must be one of binary, source (got "docker") | binary (pkg_add from the repository, default) or source (bmake in pkgsrcTree).',
    ],
    text: site('    installMode: docker'),
  },
  {
    name: 'bad vulnerability policy',
    errors: [
      'spec.yaml:4:32 sites.site-a.vulnerabilities.policy must be one of ignore, warn, fail (got "panic") | ignore, warn (default) or fail.',
    ],
    text: site('    vulnerabilities: { policy: panic }'),
  },
  {
    name: 'bootstrap without source',
    errors: ['spec.yaml:4:16 sites.site-a.bootstrap is missing the required key "source"'],
    text: site('    bootstrap: {}'),
  },
  {
    name: 'ignore is a mapping',
    errors: [
      'spec.yaml:10:3 ignore must be a list (got {"reason":"x"}) | Drift to leave alone: changes that plan and apply skip, with a reason and an optional expiry date.',
    ],
    text: withSites('ignore:', '  reason: x'),
  },
  {
    name: 'where is a number',
    errors: [
      'spec.yaml:10:12 selections.0.where must be a string (got 42) | Label expression: labels combined with and, or, not and parentheses, e.g. "physics and not legacy".',
    ],
    text: withSites('selections:', '  - where: 42', '    packages: [math/gsl]'),
  },
  {
    name: 'bad package state',
    errors: [
      'spec.yaml:5:37 sites.site-a.packages.0.state must be one of present, absent, latest (got "gone") | present (default), absent, or latest (the newest the repository offers).',
    ],
    text: site('    packages:', '      - { pkgpath: math/gsl, state: gone }'),
  },
  // --- unknown keys ----------------------------------------------------------------------------------------
  {
    name: 'top-level typo',
    errors: ['spec.yaml:2:1 unknown key "site" in the document | did you mean "sites"?'],
    text: lines(H, 'site:', '  a: {}'),
  },
  {
    name: 'selections typo',
    errors: ['spec.yaml:9:1 unknown key "selection" in the document | did you mean "selections"?'],
    text: withSites('selection:', '  - where: physics'),
  },
  {
    name: 'defaults typo',
    errors: ['spec.yaml:10:3 unknown key "repositroy" in defaults | did you mean "repository"?'],
    text: withSites('defaults:', '  repositroy: /repo'),
  },
  {
    name: 'site typo',
    errors: ['spec.yaml:4:5 unknown key "pakages" in sites.site-a | did you mean "packages"?'],
    text: site('    pakages: [math/gsl]'),
  },
  {
    name: 'set typo',
    errors: ['spec.yaml:11:5 unknown key "packges" in sets.base | did you mean "packages"?'],
    text: withSites('sets:', '  base:', '    packges: [math/gsl]'),
  },
  {
    name: 'selection typo',
    errors: ['spec.yaml:10:5 unknown key "were" in selections.0 | did you mean "where"?'],
    text: withSites('selections:', '  - were: physics'),
  },
  {
    name: 'ignore rule typo (and so no reason)',
    errors: [
      'spec.yaml:10:5 ignore.0 is missing the required key "reason" | say why this drift may be left alone; plan shows the reason',
      'spec.yaml:11:5 unknown key "resaon" in ignore.0 | did you mean "reason"?',
    ],
    text: withSites('ignore:', '  - pkgpath: math/gsl', '    resaon: pinned'),
  },
  {
    name: 'ignore kind instead of kinds',
    errors: ['spec.yaml:10:5 unknown key "kind" in ignore.0 | did you mean "kinds"?'],
    text: withSites('ignore:', '  - kind: [upgrade]', '    reason: x'),
  },
  {
    name: 'package version key',
    errors: [
      'spec.yaml:5:30 unknown key "version" in sites.site-a.packages.0 | allowed keys: pkgpath, pattern, state',
    ],
    text: site('    packages:', '      - { pkgpath: math/gsl, version: 2.7 }'),
  },
  {
    name: 'labels on defaults',
    errors: [
      'spec.yaml:10:3 unknown key "labels" in defaults | allowed keys: vo, softwareArea, prefix, repository, lockStaleAfter, jobTimeout, resyncInterval, backend, installMode, pkgsrcTree, bootstrap, prune, pkgsrc, vulnerabilities, proxy, sets, packages',
    ],
    text: withSites('defaults:', '  labels: [x]'),
  },
  // --- patterns --------------------------------------------------------------------------------------------
  {
    name: 'unbalanced brace',
    errors: [
      'spec.yaml:5:39 invalid pkg_match pattern "gsl-{2.7" | use a package name with a version range or glob, e.g. gsl>=2.7<3 or gsl-2.7*',
    ],
    text: site('    packages:', '      - { pkgpath: math/gsl, pattern: "gsl-{2.7" }'),
  },
  {
    name: 'pattern with a semicolon',
    errors: [
      'spec.yaml:5:39 sites.site-a.packages.0.pattern is not a pkg_match pattern (got "gsl;id") | pkg_match pattern the installed version must satisfy, e.g. gsl>=2.7<3 or gsl-2.7*.',
    ],
    text: site('    packages:', '      - { pkgpath: math/gsl, pattern: "gsl;id" }'),
  },
  {
    name: 'pattern with a space',
    errors: [
      'spec.yaml:6:18 sites.site-a.packages.0.pattern is not a pkg_match pattern (got "gsl>=2 <3") | pkg_match pattern the installed version must satisfy, e.g. gsl>=2.7<3 or gsl-2.7*.',
    ],
    text: site('    packages:', '      - pkgpath: math/gsl', '        pattern: gsl>=2 <3'),
  },
  {
    name: 'pattern starting with a dash',
    errors: [
      'spec.yaml:5:39 invalid pkg_match pattern "-gsl" | use a package name with a version range or glob, e.g. gsl>=2.7<3 or gsl-2.7*',
    ],
    text: site('    packages:', '      - { pkgpath: math/gsl, pattern: "-gsl" }'),
  },
  // --- PKGPATHs and hostile tokens -------------------------------------------------------------------------
  {
    name: 'semicolon in a PKGPATH',
    errors: [
      'spec.yaml:5:9 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/gsl;rm -rf /") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages:', '      - "math/gsl;rm -rf /"'),
  },
  {
    name: 'command substitution',
    errors: [
      'spec.yaml:5:9 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "$(reboot)/gsl") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages:', "      - '$(reboot)/gsl'"),
  },
  {
    name: 'backquotes',
    errors: [
      'spec.yaml:5:9 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/`id`") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages:', '      - "math/`id`"'),
  },
  {
    name: 'space in a PKGPATH',
    errors: [
      'spec.yaml:5:9 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/ gsl") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages:', '      - math/ gsl'),
  },
  {
    name: 'newline in a PKGPATH',
    errors: [
      'spec.yaml:5:9 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/gsl\\nrm") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages:', '      - "math/gsl\\nrm"'),
  },
  {
    name: 'PKGPATH without category',
    errors: [
      'spec.yaml:4:16 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "gsl") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages: [gsl]'),
  },
  {
    name: 'PKGPATH with two slashes',
    errors: [
      'spec.yaml:4:16 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/gsl/extra") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages: [math/gsl/extra]'),
  },
  {
    name: 'PKGPATH climbing out',
    errors: [
      'spec.yaml:4:16 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "../etc") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages: [../etc]'),
  },
  {
    name: 'PKGPATH like an option',
    errors: [
      'spec.yaml:4:16 sites.site-a.packages.0 is not a PKGPATH of the form category/name (got "math/-rf") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    packages: [math/-rf]'),
  },
  {
    name: 'hostile exclude',
    errors: [
      'spec.yaml:4:15 sites.site-a.exclude.0 is not a PKGPATH of the form category/name (got "math/gsl && id") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: site('    exclude: ["math/gsl && id"]'),
  },
  {
    name: 'hostile ignore pkgpath',
    errors: [
      'spec.yaml:10:14 ignore.0.pkgpath is not a PKGPATH of the form category/name (got "x/$(id)") | pkgsrc package path: category/name, pkgsrc characters only (letters, digits, . _ + -), neither part starting with - or being . or ..',
    ],
    text: withSites('ignore:', '  - pkgpath: "x/$(id)"', '    reason: x'),
  },
  {
    name: 'site name with a space',
    errors: [
      'spec.yaml:3:3 invalid name "bad site" in sites | names use letters, digits, ".", "_" and "-", start with a letter or digit, at most 32 characters',
    ],
    text: lines(H, 'sites:', '  "bad site": {}'),
  },
  {
    name: 'set name with a semicolon',
    errors: [
      'spec.yaml:10:3 invalid name "base;id" in sets | names use letters, digits, ".", "_" and "-", start with a letter or digit, at most 32 characters',
    ],
    text: withSites('sets:', '  "base;id": {}'),
  },
  {
    name: 'label with a dollar',
    errors: [
      'spec.yaml:4:14 sites.site-a.labels.0 is not a name (got "$HOME") | A name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 32 characters.',
    ],
    text: site('    labels: [$HOME]'),
  },
  {
    name: 'vo with a space',
    errors: [
      'spec.yaml:4:9 sites.site-a.vo is not a VO name (got "p vier") | Virtual organisation; the job finds the software area in VO_<VO>_SW_DIR.',
    ],
    text: site('    vo: p vier'),
  },
  {
    name: 'software area with a variable',
    errors: [
      'spec.yaml:4:19 sites.site-a.softwareArea is not a path (got "$HOME/sw") | A path; relative paths are resolved from the directory of the spec file.',
    ],
    text: site('    softwareArea: $HOME/sw'),
  },
  {
    name: 'unknown backend type',
    errors: [
      'spec.yaml:4:22 sites.site-a.backend.type must be one of local, ssh, slurm, template, arc (got "condor")',
    ],
    text: site('    backend: { type: condor }'),
  },
  {
    name: 'slurm partition that sbatch would read as an option',
    errors: [
      'spec.yaml:4:40 sites.site-a.backend.partition is not a Slurm name (got "--wrap=id") | Letters, digits and _ . - only (sbatch --partition; default: the cluster\'s default partition).',
    ],
    text: site('    backend: { type: slurm, partition: "--wrap=id" }'),
  },
  {
    name: 'free-form sbatch options on a slurm backend',
    errors: [
      'spec.yaml:4:29 unknown key "sbatchOptions" in sites.site-a.backend | allowed keys: type, partition, account, qos, memory, cpusPerTask, jobsRoot, shell, environment, slurmConf, jobCompLog, loginNode',
    ],
    text: site('    backend: { type: slurm, sbatchOptions: "--wrap=id" }'),
  },
  {
    name: 'slurm memory that is not a size',
    errors: [
      'spec.yaml:4:37 sites.site-a.backend.memory is not a memory size (got "2 GB") | Digits with an optional unit K, M, G or T, e.g. 2G (sbatch --mem).',
    ],
    text: site('    backend: { type: slurm, memory: 2 GB }'),
  },
  {
    name: 'slurm login node host that ssh would read as an option',
    errors: [
      'spec.yaml:4:72 sites.site-a.backend.loginNode.host is not a host name or address (got "-oProxyCommand=id")',
    ],
    text: site(
      '    backend: { type: slurm, jobsRoot: /shared/jobs, loginNode: { host: "-oProxyCommand=id" } }',
    ),
  },
  {
    name: 'slurm login node key typo',
    errors: [
      'spec.yaml:7:35 unknown key "identityfile" in sites.site-a.backend.loginNode | did you mean "identityFile"?',
    ],
    text: site(
      '    backend:',
      '      type: slurm',
      '      jobsRoot: /shared/jobs',
      '      loginNode: { host: login01, identityfile: ~/.ssh/id }',
    ),
  },
  {
    name: 'slurm login node without host',
    errors: ['spec.yaml:4:64 sites.site-a.backend.loginNode is missing the required key "host"'],
    text: site('    backend: { type: slurm, jobsRoot: /shared/jobs, loginNode: { user: pvisgm } }'),
  },
  {
    name: 'slurm login node as a string',
    errors: [
      'spec.yaml:4:64 sites.site-a.backend.loginNode must be a mapping (got "login01") | How gridpkg reaches a host with ssh: in batch mode, host keys always checked, one multiplexed connection per run.',
    ],
    text: site('    backend: { type: slurm, jobsRoot: /shared/jobs, loginNode: login01 }'),
  },
  {
    name: 'slurm login node identity file with an ssh % token',
    errors: [
      'spec.yaml:9:23 sites.site-a.backend.loginNode.identityFile is not a file path (got "~/.ssh/id %h") | Private key; relative paths are relative to the spec file.',
    ],
    text: site(
      '    backend:',
      '      type: slurm',
      '      jobsRoot: /shared/jobs',
      '      loginNode:',
      '        host: login01',
      '        identityFile: "~/.ssh/id %h"',
    ),
  },
  {
    name: 'slurm login node without jobsRoot',
    errors: [
      'spec.yaml:4:14 sites.site-a.backend is missing the required key "jobsRoot" | With loginNode, jobsRoot is required: an absolute directory on the login node, shared with the compute nodes.',
    ],
    text: site('    backend: { type: slurm, loginNode: { host: login01 } }'),
  },
  {
    name: 'slurm login node with a relative jobsRoot and slurmConf',
    errors: [
      'spec.yaml:4:39 sites.site-a.backend.jobsRoot is not an absolute path (got "shared/jobs") | With loginNode, jobsRoot is a directory on the login node, shared with the compute nodes: an absolute path.',
      'spec.yaml:4:63 sites.site-a.backend.slurmConf is not an absolute path (got "slurm.conf") | With loginNode, slurmConf is a file on the login node: an absolute path.',
    ],
    text: site(
      '    backend: { type: slurm, jobsRoot: shared/jobs, slurmConf: slurm.conf, loginNode: { host: login01 } }',
    ),
  },
  {
    name: 'login node on an ssh backend',
    errors: [
      'spec.yaml:4:52 unknown key "loginNode" in sites.site-a.backend | allowed keys: type, host, port, user, identityFile, knownHostsFile, insecureAcceptNewHostKeys, workDir, shell, environment, connectTimeoutSeconds',
    ],
    text: site('    backend: { type: ssh, host: ce01, workDir: /x, loginNode: { host: login01 } }'),
  },
  {
    name: 'ssh backend without host',
    errors: ['spec.yaml:4:14 sites.site-a.backend is missing the required key "host"'],
    text: site('    backend: { type: ssh }'),
  },
  {
    name: 'ssh host that ssh would read as an option',
    errors: [
      'spec.yaml:4:33 sites.site-a.backend.host is not a host name or address (got "-oProxyCommand=id")',
    ],
    text: site('    backend: { type: ssh, host: "-oProxyCommand=id" }'),
  },
  {
    name: 'ssh setting on a local backend',
    errors: [
      'spec.yaml:4:29 unknown key "host" in sites.site-a.backend | allowed keys: type, shell, environment',
    ],
    text: site('    backend: { type: local, host: ce01 }'),
  },
  {
    name: 'shell with backquotes',
    errors: [
      'spec.yaml:4:37 sites.site-a.backend.shell.0 is not a command word (got "`id`") | Letters, digits and . _ / + - only.',
    ],
    text: site('    backend: { type: local, shell: ["`id`"] }'),
  },
  {
    name: 'bootstrap URL with a command',
    errors: [
      'spec.yaml:4:26 sites.site-a.bootstrap.source is not a path or an http(s) URL (got "https://x.org/$(id)") | A bootstrap kit or pkgsrc tree: a path, or an http(s) URL.',
    ],
    text: site('    bootstrap: { source: "https://x.org/$(id)" }'),
  },
  {
    name: 'repository URL with credentials',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "http://user:pw@cdn.example.org/All") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "http://user:pw@cdn.example.org/All"'),
  },
  {
    name: 'repository URL with a command',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "https://cdn.example.org/$(id)") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "https://cdn.example.org/$(id)"'),
  },
  {
    name: 'repository URL with a query',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "https://cdn.example.org/All?q=1") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "https://cdn.example.org/All?q=1"'),
  },
  {
    name: 'repository URL climbing out with ..',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "http://cdn.example.org/pkgsrc/../All") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "http://cdn.example.org/pkgsrc/../All"'),
  },
  {
    name: 'repository URL of another scheme',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "file:///etc") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "file:///etc"'),
  },
  {
    name: 'repository URL with a port out of range',
    errors: [
      'spec.yaml:4:17 sites.site-a.repository is not a path or an http, https or ftp URL (got "http://cdn.example.org:65536/All") | Binary package repository (PKG_PATH) as seen from the site: a path (relative paths are resolved from the directory of the spec file), or an http://, https:// or ftp:// URL that pkg_add fetches from (no user@, query, fragment or .. component).',
    ],
    text: site('    repository: "http://cdn.example.org:65536/All"'),
  },
  {
    name: 'include path with a semicolon',
    errors: [
      'spec.yaml:2:11 include.0 is not a path (got "a.yaml;id") | A path; relative paths are resolved from the directory of the spec file.',
    ],
    text: lines(H, 'include: ["a.yaml;id"]', 'sites: {a: {}}'),
  },
  // --- set includes ----------------------------------------------------------------------------------------
  {
    name: 'set includes itself',
    errors: [
      'spec.yaml:11:15 set include cycle: base -> base | a set cannot include itself, directly or through other sets; remove one include',
    ],
    text: withSites('sets:', '  base:', '    include: [base]'),
  },
  {
    name: 'set include cycle of two',
    errors: [
      'spec.yaml:13:15 set include cycle: a -> b -> a | a set cannot include itself, directly or through other sets; remove one include',
    ],
    text: withSites('sets:', '  a:', '    include: [b]', '  b:', '    include: [a]'),
  },
  {
    name: 'set include cycle of three',
    errors: [
      'spec.yaml:12:18 set include cycle: a -> b -> c -> a | a set cannot include itself, directly or through other sets; remove one include',
    ],
    text: withSites('sets:', '  a: { include: [b] }', '  b: { include: [c] }', '  c: { include: [a] }'),
  },
  // --- unknown references ----------------------------------------------------------------------------------
  {
    name: 'unknown set in a site, did you mean',
    errors: ['spec.yaml:6:12 unknown set "phyiscs" | did you mean "physics"?'],
    text: lines(H, 'sets:', '  physics: { packages: [math/root] }', 'sites:', '  a:', '    sets: [phyiscs]'),
  },
  {
    name: 'unknown set in defaults, no close name',
    errors: ['spec.yaml:5:10 unknown set "chemistry" | defined sets: physics'],
    text: lines(H, 'sets:', '  physics: {}', 'defaults:', '  sets: [chemistry]', 'sites: {a: {}}'),
  },
  {
    name: 'unknown set with no sets at all',
    errors: ['spec.yaml:4:12 unknown set "base" | define it under sets:'],
    text: site('    sets: [base]'),
  },
  {
    name: 'unknown included set',
    errors: ['spec.yaml:11:15 unknown set "bsae" | did you mean "base"?'],
    text: withSites('sets:', '  base:', '    include: [bsae]'),
  },
  {
    name: 'unknown site in a selection',
    errors: ['spec.yaml:10:21 unknown site "stie-b" | did you mean "site-b"?'],
    text: withSites('selections:', '  - sites: [site-a, stie-b]', '    packages: [math/gsl]'),
  },
  {
    name: 'unknown site in an ignore rule',
    errors: ['spec.yaml:10:13 unknown site "site-c" | did you mean "site-a"?'],
    text: withSites('ignore:', '  - sites: [site-c]', '    kinds: [remove]', '    reason: x'),
  },
  {
    name: 'unknown label, did you mean',
    errors: ['spec.yaml:10:28 unknown label "legacyy": no site has it | did you mean "legacy"?'],
    text: withSites('selections:', '  - where: physics and not legacyy', '    packages: [math/gsl]'),
  },
  {
    name: 'unknown label, labels in use',
    errors: ['spec.yaml:10:12 unknown label "gpu": no site has it | labels in use: el9, legacy, physics'],
    text: withSites('selections:', '  - where: gpu', '    packages: [math/gsl]'),
  },
  // --- label expressions -----------------------------------------------------------------------------------
  {
    name: '&& instead of and',
    errors: ['spec.yaml:10:20 unexpected "&&" in label expression | write "and" instead of "&&"'],
    text: withSites('selections:', '  - where: physics && el9', '    packages: [math/gsl]'),
  },
  {
    name: '! instead of not, quoted expression',
    errors: ['spec.yaml:10:13 unexpected "!" in label expression | write "not" instead of "!"'],
    text: withSites('selections:', '  - where: "!legacy"', '    packages: [math/gsl]'),
  },
  {
    name: 'dangling and',
    errors: [
      'spec.yaml:10:23 expected a label or "(" after "and", found the end of the expression | combine labels with and, or, not and parentheses, e.g. "physics and not legacy"',
    ],
    text: withSites('selections:', '  - where: physics and', '    packages: [math/gsl]'),
  },
  {
    name: 'unclosed parenthesis',
    errors: ['spec.yaml:10:13 unclosed "(" in label expression | add the matching ")"'],
    text: withSites('selections:', '  - where: "(physics or el9"', '    packages: [math/gsl]'),
  },
  {
    name: 'stray closing parenthesis',
    errors: ['spec.yaml:10:20 unexpected ")" in label expression | remove it or add the matching "("'],
    text: withSites('selections:', "  - where: 'physics)'", '    packages: [math/gsl]'),
  },
  {
    name: 'two labels without operator',
    errors: [
      'spec.yaml:10:20 expected "and" or "or" before "el9" | combine labels with and, or, not and parentheses, e.g. "physics and not legacy"',
    ],
    text: withSites('selections:', '  - where: physics el9', '    packages: [math/gsl]'),
  },
  {
    name: 'operator where a label belongs',
    errors: [
      'spec.yaml:10:24 expected a label or "(" after "and", found "or" | combine labels with and, or, not and parentheses, e.g. "physics and not legacy"',
    ],
    text: withSites('ignore:', '  - where: physics and or el9', '    kinds: [upgrade]', '    reason: x'),
  },
  {
    name: 'empty expression',
    errors: [
      'spec.yaml:10:12 selections.0.where must not be empty (got "") | Label expression: labels combined with and, or, not and parentheses, e.g. "physics and not legacy".',
    ],
    text: withSites('selections:', '  - where: ""'),
  },
  {
    name: 'a label named not',
    errors: [
      'spec.yaml:4:14 "not" cannot be a label: it is an operator of label expressions | choose another name; and, or and not combine labels',
    ],
    text: site('    labels: [not]'),
  },
  {
    name: 'selection with where and sites',
    errors: [
      'spec.yaml:11:5 selections.0 has both where and sites | choose sites either by a label expression (where) or by a site list (sites)',
    ],
    text: withSites('selections:', '  - where: physics', '    sites: [site-a]'),
  },
  {
    name: 'selection that chooses nothing',
    errors: [
      'spec.yaml:10:5 selection "gpu" has neither where nor sites | add where: "<label expression>" or sites: [...]; for every site use defaults',
    ],
    text: withSites('selections:', '  - name: gpu', '    packages: [math/gsl]'),
  },
  // --- conflicts -------------------------------------------------------------------------------------------
  {
    name: 'two sets of one site disagree',
    errors: [
      'spec.yaml:4:21 conflicting requirements for math/gsl in sites.a: set "new" wants present gsl-2.8* (spec.yaml:3:21), set "old" wants absent (spec.yaml:4:21) | keep one of them, or state the package at a higher level (defaults < selections < site), which overrides',
    ],
    text: lines(
      H,
      'sets:',
      '  new: { packages: [{ pkgpath: math/gsl, pattern: "gsl-2.8*" }] }',
      '  old: { packages: [{ pkgpath: math/gsl, state: absent }] }',
      'sites:',
      '  a: { sets: [new, old] }',
    ),
  },
  {
    name: 'a set and the defaults packages disagree',
    errors: [
      'spec.yaml:7:7 conflicting requirements for math/gsl in defaults: set "base" wants present (spec.yaml:3:22), defaults.packages wants present gsl>=2.7 (spec.yaml:7:7) | keep one of them, or state the package at a higher level (defaults < selections < site), which overrides',
    ],
    text: lines(
      H,
      'sets:',
      '  base: { packages: [math/gsl] }',
      'defaults:',
      '  sets: [base]',
      '  packages:',
      '    - { pkgpath: math/gsl, pattern: "gsl>=2.7" }',
      'sites: {a: {}}',
    ),
  },
  {
    name: 'an included set disagrees with the including one',
    errors: [
      'spec.yaml:7:16 conflicting requirements for devel/zlib in set "a": set "a" wants latest (spec.yaml:5:16), set "b" wants present (spec.yaml:7:16) | keep one of them, or state the package at a higher level (defaults < selections < site), which overrides',
    ],
    text: lines(
      H,
      'sets:',
      '  a:',
      '    include: [b]',
      '    packages: [{ pkgpath: devel/zlib, state: latest }]',
      '  b:',
      '    packages: [devel/zlib]',
      'sites: {x: {}}',
    ),
  },
  {
    name: 'required and excluded in one selection',
    errors: [
      'spec.yaml:12:15 math/gsl is both required and excluded in selections.0 | it is listed in packages at spec.yaml:11:16; keep one',
    ],
    text: withSites('selections:', '  - where: el9', '    packages: [math/gsl]', '    exclude: [math/gsl]'),
  },
  {
    name: 'listed twice in one list',
    errors: [
      'spec.yaml:6:9 math/gsl is listed twice in sites.site-a.packages | first listed at spec.yaml:5:9; keep one entry',
    ],
    text: site('    packages:', '      - math/gsl', '      - math/gsl'),
  },
  // --- dates and ignore rules ------------------------------------------------------------------------------
  {
    name: 'impossible date',
    errors: ['spec.yaml:12:12 ignore.0.until is not a calendar date: "2026-02-30" | use YYYY-MM-DD'],
    text: withSites('ignore:', '  - kinds: [upgrade]', '    reason: x', '    until: 2026-02-30'),
  },
  {
    name: 'month 13',
    errors: ['spec.yaml:12:12 ignore.0.until is not a calendar date: "2026-13-01" | use YYYY-MM-DD'],
    text: withSites('ignore:', '  - kinds: [upgrade]', '    reason: x', '    until: 2026-13-01'),
  },
  {
    name: 'short year',
    errors: [
      'spec.yaml:12:12 ignore.0.until is not a date (YYYY-MM-DD) (got "26-01-01") | Last day the rule applies, YYYY-MM-DD; afterwards it is ignored with a warning.',
    ],
    text: withSites('ignore:', '  - kinds: [upgrade]', '    reason: x', '    until: 26-01-01'),
  },
  {
    name: 'expired ignore rule (a warning)',
    warnings: [
      'spec.yaml:12:12 ignore rule expired on 2026-11-22 and no longer applies: waiting for 2.8 | remove the rule, or extend until if the drift must still be ignored',
    ],
    text: withSites(
      'ignore:',
      '  - pkgpath: math/gsl',
      '    reason: waiting for 2.8',
      '    until: 2026-11-22',
    ),
  },
  {
    name: 'ignore rule that ignores nothing',
    errors: [
      'spec.yaml:10:5 ignore.0 ignores nothing: it has neither pkgpath nor kinds | name the package (pkgpath) and/or the kinds of change (install, remove, upgrade, downgrade)',
    ],
    text: withSites('ignore:', '  - where: el9', '    reason: x'),
  },
  {
    name: 'ignore rule without reason',
    errors: [
      'spec.yaml:10:5 ignore.0 is missing the required key "reason" | say why this drift may be left alone; plan shows the reason',
    ],
    text: withSites('ignore:', '  - kinds: [remove]'),
  },
  {
    name: 'ignore kind that is not a change',
    errors: [
      'spec.yaml:10:13 ignore.0.kinds.0 must be one of install, remove, upgrade, downgrade (got "unknown")',
    ],
    text: withSites('ignore:', '  - kinds: [unknown]', '    reason: x'),
  },
  // --- split specs -----------------------------------------------------------------------------------------
  {
    name: 'missing included file',
    errors: [
      'spec.yaml:2:11 cannot read included file sites/nikhef.yaml: no such file | include paths are relative to the including file',
    ],
    text: lines(H, 'include: [sites/nikhef.yaml]', 'sites: {a: {}}'),
  },
  {
    name: 'include cycle',
    errors: [
      'b.yaml:2:11 include cycle: a.yaml -> b.yaml -> a.yaml | a file cannot include itself, directly or through other files; remove one include',
    ],
    text: lines(H, 'include: [a.yaml]', 'sites: {x: {}}'),
    includes: { 'a.yaml': lines(H, 'include: [b.yaml]'), 'b.yaml': lines(H, 'include: [a.yaml]') },
  },
  {
    name: 'a file includes itself',
    errors: [
      'spec.yaml:2:11 include cycle: spec.yaml -> spec.yaml | a file cannot include itself, directly or through other files; remove one include',
    ],
    text: lines(H, 'include: [spec.yaml]', 'sites: {x: {}}'),
  },
  {
    name: 'the same site in two files',
    errors: [
      'spec.yaml:4:3 site "a" is defined twice | first defined at sites/more.yaml:4:3; keep one definition',
    ],
    text: lines(H, 'include: [sites/more.yaml]', 'sites:', '  a: {}'),
    includes: { 'sites/more.yaml': lines(H, 'sites:', '  b: {}', '  a: {}') },
  },
  {
    name: 'the same set in two files',
    errors: [
      'spec.yaml:4:3 set "base" is defined twice | first defined at sets.yaml:3:3; keep one definition',
    ],
    text: lines(H, 'include: [sets.yaml]', 'sets:', '  base: {}', 'sites: {a: {}}'),
    includes: { 'sets.yaml': lines(H, 'sets:', '  base: {}') },
  },
  {
    name: 'schema error inside an included file',
    errors: [
      'sites/a.yaml:4:5 unknown key "softwrea" in sites.a | allowed keys: labels, vo, softwareArea, prefix, repository, lockStaleAfter, jobTimeout, resyncInterval, backend, installMode, pkgsrcTree, bootstrap, prune, pkgsrc, vulnerabilities, proxy, sets, packages, exclude',
    ],
    text: lines(H, 'include: [sites/a.yaml]'),
    includes: { 'sites/a.yaml': lines(H, 'sites:', '  a:', '    softwrea: /sw') },
  },
  {
    name: 'YAML error inside a nested include',
    errors: [
      'sets/b.yaml:4:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    text: lines(H, 'include: [sites/a.yaml]'),
    includes: {
      'sites/a.yaml': lines(H, 'include: [../sets/b.yaml]', 'sites: {a: {}}'),
      'sets/b.yaml': lines(H, 'sets:', '  b: [math/gsl'),
    },
  },
  {
    name: 'defaults in an included file',
    errors: ['more.yaml:2:1 defaults may only be set in the root spec | move them to spec.yaml'],
    text: lines(H, 'include: [more.yaml]', 'sites: {a: {}}'),
    includes: { 'more.yaml': lines(H, 'defaults:', '  vo: pvier') },
  },
  {
    name: 'unknown set referenced from an included file',
    errors: ['sites.yaml:3:15 unknown set "physic" | did you mean "physics"?'],
    text: lines(H, 'include: [sites.yaml]', 'sets:', '  physics: {}'),
    includes: { 'sites.yaml': lines(H, 'sites:', '  a: { sets: [physic] }') },
  },
  {
    name: 'no sites anywhere',
    errors: ['spec.yaml:1:1 the spec defines no sites | add a sites: mapping, or include a file with one'],
    text: lines(H, 'sets:', '  base: {}'),
  },
  // --- includes stay in the root spec's directory tree (issue 9, item 2) --------------------------------
  {
    name: 'an include of an absolute path outside the spec directory (/etc/passwd is never read)',
    errors: [
      `spec.yaml:2:11 include "/etc/passwd" is outside the directory of spec.yaml, the root spec | ${INCLUDE_TREE}`,
    ],
    text: lines(H, 'include: [/etc/passwd]', 'sites: {a: {}}'),
    includes: { '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\n' },
  },
  {
    name: 'an include of /proc/self/environ',
    errors: [
      `spec.yaml:2:11 include "/proc/self/environ" is outside the directory of spec.yaml, the root spec | ${INCLUDE_TREE}`,
    ],
    text: lines(H, 'include: [/proc/self/environ]', 'sites: {a: {}}'),
  },
  {
    name: 'an include that climbs out of the spec directory with ..',
    errors: [
      `spec.yaml:2:11 include "../secrets.yaml" is outside the directory of spec.yaml, the root spec | ${INCLUDE_TREE}`,
    ],
    text: lines(H, 'include: [../secrets.yaml]', 'sites: {a: {}}'),
  },
  {
    name: "a nested include that climbs out of the root spec's directory",
    errors: [
      `sites/a.yaml:2:11 include "../../x.yaml" is outside the directory of spec.yaml, the root spec | ${INCLUDE_TREE}`,
    ],
    text: lines(H, 'include: [sites/a.yaml]'),
    includes: { 'sites/a.yaml': lines(H, 'include: [../../x.yaml]', 'sites: {a: {}}') },
  },
  {
    name: 'a value of a non-spec file is shown as a short excerpt only',
    errors: [
      `spec.yaml:2:8 sites must be a mapping (got "${'x'.repeat(79)}…) | Grid sites by name. Each site gets one job at a time.`,
    ],
    text: lines(H, `sites: "${'x'.repeat(5000)}"`),
  },
  // --- aliases and merge keys (issue 9, items 9 and 10) ---------------------------------------------------
  {
    name: 'a merge key (<<) brings keys in, checked like written ones (valid)',
    warnings: [],
    text: lines(
      H,
      'defaults: &d',
      '  vo: pvier',
      'sites:',
      '  site-a: &a { softwareArea: /sw/a, labels: [el9] }',
      '  site-b:',
      '    <<: [*a, *d]',
      '    softwareArea: /sw/b',
    ),
  },
  {
    name: 'a merge key that brings an unknown key in: the error points at the key where it is written',
    errors: [
      'spec.yaml:3:3 unknown key "vo" in selections.0 | allowed keys: name, where, sites, sets, packages, exclude',
    ],
    text: lines(
      H,
      'defaults: &d',
      '  vo: pvier',
      'sites:',
      '  site-a: { labels: [el9] }',
      'selections:',
      '  - <<: *d',
      '    where: el9',
    ),
  },
  {
    name: 'a merged value of the wrong kind points at the merged value',
    errors: [
      'spec.yaml:3:42 sites.base.vo is not a VO name (got "bad vo") | Virtual organisation; the job finds the software area in VO_<VO>_SW_DIR.',
      'spec.yaml:3:42 sites.site-a.vo is not a VO name (got "bad vo") | Virtual organisation; the job finds the software area in VO_<VO>_SW_DIR.',
    ],
    text: lines(H, 'sites:', '  base: &b { softwareArea: /sw/base, vo: "bad vo" }', '  site-a: { <<: *b }'),
  },
  {
    name: 'a merge key given a scalar',
    errors: [
      'spec.yaml:3:17 a merge key (<<) must be given a mapping, an alias of one, or a list of them | write <<: *anchor, where &anchor is on a mapping',
    ],
    text: lines(H, 'sites:', '  site-a: { <<: 3 }'),
  },
  {
    name: 'an alias without an anchor',
    errors: [
      'spec.yaml:3:22 alias *be has no anchor before it | define the anchor (&be) on a value above the alias',
    ],
    text: lines(H, 'sites:', '  site-a: { backend: *be }'),
  },
  {
    name: 'an alias inside the value it names',
    errors: [
      'spec.yaml:3:25 alias *a refers to a value that contains it | an alias cannot repeat the value it is part of',
    ],
    text: lines(H, 'sites:', '  site-a: &a { labels: [*a] }'),
  },
  {
    name: 'an alias bomb (aliases of aliases, 10^9 values) is refused at the first alias that alone expands past the limit',
    errors: [
      'spec.yaml:10:14 the aliases in this file expand to more than 1,000,000 values | aliases of aliases multiply (an alias bomb); share values with fewer levels of aliases, or with sets and defaults',
    ],
    text: lines(
      H,
      'sites:',
      '  site-a:',
      '    labels: &l0 [a, b, c, d, e, f, g, h, i, j]',
      ...Array.from(
        { length: 8 },
        (_, k) => `    x${k + 1}: &l${k + 1} [${Array(10).fill(`*l${k}`).join(', ')}]`,
      ),
    ),
  },
  // --- hostile text from the spec is escaped in every message (issue 9, item 3) ------------------------------
  {
    name: 'a key holding a newline, a workflow command, an ESC sequence and a bidi override',
    errors: [`spec.yaml:4:5 unknown key "\\n::add-mask::s\\e[2J\\u202e" in sites.site-a | ${SITE_KEYS}`],
    text: site('    "\\n::add-mask::s\\e[2J\\u202e": 1'),
  },
  {
    name: 'a site name holding a workflow command',
    errors: [`spec.yaml:3:3 invalid name "\\n::error::x\\u202e" in sites | ${NAME_RULE}`],
    text: lines(H, 'sites:', '  "\\n::error::x\\u202e": {}'),
  },
  {
    name: 'a label expression holding a bidi override',
    errors: [
      'spec.yaml:10:23 unexpected "\\u202e" in label expression | combine labels with and, or, not and parentheses, e.g. "physics and not legacy"',
    ],
    text: withSites('selections:', '  - { where: "physics \\u202e", packages: [math/gsl] }'),
  },
  {
    name: 'the reason of an expired ignore rule holding a newline and an ESC sequence',
    warnings: [
      'spec.yaml:10:33 ignore rule expired on 2020-01-01 and no longer applies: full\\n::error::x\\e[2J | remove the rule, or extend until if the drift must still be ignored',
    ],
    text: withSites(
      'ignore:',
      '  - { pkgpath: math/gsl, until: 2020-01-01, reason: "full\\n::error::x\\e[2J" }',
    ),
  },
  // --- the proxy check's settings --------------------------------------------------------------------------
  {
    name: 'proxy role written as an FQAN',
    errors: [
      'spec.yaml:5:24 sites.site-a.proxy.vomsRole is not a VOMS role name (got "/pvier/Role=sgm") | The VOMS role the proxy must carry in vo, e.g. sgm for /<vo>/Role=sgm (software managers act with Role=sgm). Needs vo.',
    ],
    text: site('    vo: pvier', '    proxy: { vomsRole: /pvier/Role=sgm }'),
  },
  {
    name: 'proxy role that voms-proxy-init would read as an option',
    errors: [
      'spec.yaml:5:24 sites.site-a.proxy.vomsRole is not a VOMS role name (got "-sgm") | The VOMS role the proxy must carry in vo, e.g. sgm for /<vo>/Role=sgm (software managers act with Role=sgm). Needs vo.',
    ],
    text: site('    vo: pvier', '    proxy: { vomsRole: "-sgm" }'),
  },
  {
    name: 'proxy role with a space',
    errors: [
      'spec.yaml:5:24 sites.site-a.proxy.vomsRole is not a VOMS role name (got "sgm admin") | The VOMS role the proxy must carry in vo, e.g. sgm for /<vo>/Role=sgm (software managers act with Role=sgm). Needs vo.',
    ],
    text: site('    vo: pvier', '    proxy: { vomsRole: sgm admin }'),
  },
  {
    name: 'proxy minValidity with a word unit',
    errors: [
      'spec.yaml:5:27 sites.site-a.proxy.minValidity is not a duration (got "2 hours") | Seconds as a number, or a number with unit s, m, h or d ("30m").',
    ],
    text: site('    vo: pvier', '    proxy: { minValidity: 2 hours }'),
  },
  {
    name: 'proxy minValidity of zero in defaults',
    errors: [
      'spec.yaml:11:18 defaults.proxy.minValidity must be at least 1 (got 0) | Seconds as a number, or a number with unit s, m, h or d ("30m").',
    ],
    text: withSites('defaults:', '  proxy:', '    minValidity: 0'),
  },
  {
    name: 'proxy requireVoms as a word',
    errors: [
      'spec.yaml:5:27 sites.site-a.proxy.requireVoms must be true or false (got "no") | Require VOMS attributes of vo (default true when vo is set); false accepts a plain proxy, e.g. from a test CA.',
    ],
    text: site('    vo: pvier', '    proxy: { requireVoms: "no" }'),
  },
  {
    name: 'proxy role without VOMS',
    errors: [
      'spec.yaml:5:42 sites.site-a.proxy.requireVoms must be true (got false) | A vomsRole is a VOMS attribute: requireVoms cannot be false next to it; remove one of them.',
    ],
    text: site('    vo: pvier', '    proxy: { vomsRole: sgm, requireVoms: false }'),
  },
  {
    name: 'proxy key typo',
    errors: [
      'spec.yaml:5:14 unknown key "role" in sites.site-a.proxy | allowed keys: vomsRole, minValidity, requireVoms',
    ],
    text: site('    vo: pvier', '    proxy: { role: sgm }'),
  },
  {
    name: 'proxy as a role name',
    errors: [
      'spec.yaml:5:12 sites.site-a.proxy must be a mapping (got "sgm") | What the X.509 proxy check demands before a job goes to grid middleware (arc, template with credentials: x509). A site\'s proxy replaces the defaults\' one as a whole.',
    ],
    text: site('    vo: pvier', '    proxy: sgm'),
  },
  {
    name: 'proxy role on a site without vo',
    errors: [
      'spec.yaml:4:24 sites.site-a.proxy.vomsRole "sgm" needs a vo, and site "site-a" has none | a VOMS role is held within one VO (the proxy must carry /<vo>/Role=sgm): set vo on the site or in defaults',
    ],
    text: site('    proxy: { vomsRole: sgm }'),
  },
  {
    name: 'proxy role in defaults, and sites without vo that inherit it',
    errors: [
      'spec.yaml:4:15 defaults.proxy.vomsRole "sgm" needs a vo, and sites "b", "c" have none | a VOMS role is held within one VO (the proxy must carry /<vo>/Role=sgm): set vo on the site or in defaults',
    ],
    text: lines(
      H,
      'defaults:',
      '  proxy:',
      '    vomsRole: sgm',
      'sites:',
      '  a: { vo: pvier }',
      '  b: {}',
      '  c: { labels: [test] }',
      "  d: { proxy: { minValidity: 1h } } # its own proxy: replaces the defaults' one, no role",
    ),
  },
  {
    name: 'proxy role on a site of an included file, vo nowhere',
    errors: [
      'sites/nl.yaml:5:24 sites.nikhef.proxy.vomsRole "lcgadmin" needs a vo, and site "nikhef" has none | a VOMS role is held within one VO (the proxy must carry /<vo>/Role=lcgadmin): set vo on the site or in defaults',
    ],
    text: lines(H, 'include: [sites/nl.yaml]', 'defaults:', '  jobTimeout: 1h'),
    includes: {
      'sites/nl.yaml': lines(
        H,
        'sites:',
        '  nikhef:',
        '    labels: [nl]',
        '    proxy: { vomsRole: lcgadmin }',
      ),
    },
  },
  // --- warnings: the spec loads -------------------------------------------------------------------------------
  {
    name: 'site exclude that drops nothing (a warning)',
    warnings: [
      'spec.yaml:4:15 exclude of math/gsl in sites.site-a drops nothing | no default, selection or set of this site requires it',
    ],
    text: site('    exclude: [math/gsl]'),
  },
  {
    name: 'selection that matches no site (a warning)',
    warnings: [
      'spec.yaml:10:5 selection "modern" chooses no site | check its label expression and the labels of the sites',
    ],
    text: withSites(
      'selections:',
      '  - name: modern',
      '    where: el9 and legacy',
      '    packages: [math/gsl]',
    ),
  },
  {
    name: 'unknown set in a selection',
    errors: ['spec.yaml:13:12 unknown set "gpus" | did you mean "gpu"?'],
    text: withSites('sets:', '  gpu: {}', 'selections:', '  - where: el9', '    sets: [gpus]'),
  },
  {
    name: 'template backend without a status command',
    errors: ['spec.yaml:4:14 sites.site-a.backend is missing the required key "status"'],
    text: site(
      '    backend: { type: template, submit: { argv: [sbatch], jobId: "^([0-9]+)" }, cancel: { argv: [scancel, "{id}"] } }',
    ),
  },
  {
    name: 'template backend argv word with a line break',
    errors: ['spec.yaml:6:32 sites.site-a.backend.submit.argv.1 is not an argv word (got "{runner}\\nid")'],
    text: site(
      '    backend:',
      '      type: template',
      '      submit: { argv: [sbatch, "{runner}\\nid"], jobId: "^([0-9]+)" }',
      '      status: { argv: [squeue, "{ids}"], line: "(?<id>[0-9]+) (?<state>[A-Z]+)", states: {} }',
      '      cancel: { argv: [scancel, "{id}"] }',
    ),
  },
  {
    name: 'template backend find command without a jobId',
    errors: ['spec.yaml:9:13 sites.site-a.backend.find is missing the required key "jobId"'],
    text: site(
      '    backend:',
      '      type: template',
      '      submit: { argv: [sbatch, "{runner}"], jobId: "^([0-9]+)" }',
      '      status: { argv: [squeue, "{ids}"], line: "(?<id>[0-9]+) (?<state>[A-Z]+)", states: {} }',
      '      cancel: { argv: [scancel, "{id}"] }',
      '      find: { argv: [squeue, -h, -n, "{jobName}", -o, "%i"] }',
    ),
  },
  {
    name: 'template backend find command with an unknown key',
    errors: ['spec.yaml:9:68 unknown key "line" in sites.site-a.backend.find | allowed keys: argv, jobId'],
    text: site(
      '    backend:',
      '      type: template',
      '      submit: { argv: [sbatch, "{runner}"], jobId: "^([0-9]+)" }',
      '      status: { argv: [squeue, "{ids}"], line: "(?<id>[0-9]+) (?<state>[A-Z]+)", states: {} }',
      '      cancel: { argv: [scancel, "{id}"] }',
      '      find: { argv: [squeue, -n, "{jobName}"], jobId: "^([0-9]+)", line: "x" }',
    ),
  },
  {
    name: 'template backend find argv word with a line break',
    errors: ['spec.yaml:9:34 sites.site-a.backend.find.argv.2 is not an argv word (got "{jobName}\\nid")'],
    text: site(
      '    backend:',
      '      type: template',
      '      submit: { argv: [sbatch, "{runner}"], jobId: "^([0-9]+)" }',
      '      status: { argv: [squeue, "{ids}"], line: "(?<id>[0-9]+) (?<state>[A-Z]+)", states: {} }',
      '      cancel: { argv: [scancel, "{id}"] }',
      '      find: { argv: [squeue, -n, "{jobName}\\nid"], jobId: "^([0-9]+)" }',
    ),
  },
  {
    name: 'unknown key in a template backend',
    errors: [
      'spec.yaml:9:7 unknown key "lookup" in sites.site-a.backend | allowed keys: type, jobsRoot, shell, environment, commandEnvironment, credentials, missingPolls, files, submit, status, fetch, cancel, clean, find',
    ],
    text: site(
      '    backend:',
      '      type: template',
      '      submit: { argv: [sbatch, "{runner}"], jobId: "^([0-9]+)" }',
      '      status: { argv: [squeue, "{ids}"], line: "(?<id>[0-9]+) (?<state>[A-Z]+)", states: {} }',
      '      cancel: { argv: [scancel, "{id}"] }',
      '      lookup: { argv: [squeue, -n, "{jobName}"], jobId: "^([0-9]+)" }',
    ),
  },
];
