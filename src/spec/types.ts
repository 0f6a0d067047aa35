/** The spec file as the schema admits it, and the per-site desired state it resolves to. */

export type PackageState = 'present' | 'absent' | 'latest';

export type RawPackage = string | { pkgpath: string; pattern?: string; state?: PackageState };

export type RawBackend =
  | 'local'
  | { type: 'local'; shell?: string[]; environment?: Record<string, string> }
  | SshBackendConfig
  | SlurmBackendConfig
  | TemplateBackendConfig
  | ArcBackendConfig;

export type InstallMode = 'binary' | 'source';

export type VulnerabilityPolicy = 'ignore' | 'warn' | 'fail';

/** `proxy:` of defaults or a site: what the X.509 proxy check demands before a grid-middleware submission. */
export interface RawProxySettings {
  /** The VOMS role the proxy must carry in `vo`, e.g. sgm (/<vo>/Role=sgm). Needs `vo`. */
  vomsRole?: string;
  /** How long the proxy must stay valid beyond the job timeout (a duration); default none. */
  minValidity?: number | string;
  /** Whether VOMS attributes of `vo` are required; default true when `vo` is set. */
  requireVoms?: boolean;
}

/** `prune:` in its object form (`prune: true` is `{ enabled: true }`). */
export interface RawPruneSettings {
  /** Default true: writing the object means pruning, unless it says `enabled: false`. */
  enabled?: boolean;
  /** A plan that would prune more packages than this from one site is blocked. Default 10. */
  maxRemovals?: number;
  /** Allow a plan that removes every package of a site but pkgsrc's own. Default false. */
  allowRemoveAll?: boolean;
}

/** `pkgsrc:`: what the site's pkgsrc itself must be. */
export interface RawPkgsrcSettings {
  /** The oldest pkg_install version (YYYYMMDD) a site may keep; older ones are upgraded first. */
  minPkgInstall?: number;
}

/** The settings that defaults and sites share. */
export interface RawSiteSettings {
  vo?: string;
  softwareArea?: string;
  prefix?: string;
  repository?: string;
  installMode?: InstallMode;
  pkgsrcTree?: string;
  bootstrap?: { source: string };
  prune?: boolean | RawPruneSettings;
  pkgsrc?: RawPkgsrcSettings;
  vulnerabilities?: { policy: VulnerabilityPolicy };
  lockStaleAfter?: number | string;
  jobTimeout?: number | string;
  /** watch: the resync interval of the site. */
  resyncInterval?: number | string;
  backend?: RawBackend;
  proxy?: RawProxySettings;
}

export interface RawDefaults extends RawSiteSettings {
  sets?: string[];
  packages?: RawPackage[];
}

export interface RawSite extends RawSiteSettings {
  labels?: string[];
  sets?: string[];
  packages?: RawPackage[];
  exclude?: string[];
}

export interface RawSet {
  description?: string;
  include?: string[];
  packages?: RawPackage[];
}

export interface RawSelection {
  name?: string;
  where?: string;
  sites?: string[];
  sets?: string[];
  packages?: RawPackage[];
  exclude?: string[];
}

/** The kinds of change an ignore rule can silence. */
export type IgnorableKind = 'install' | 'remove' | 'upgrade' | 'downgrade';

export interface RawIgnoreRule {
  pkgpath?: string;
  kinds?: IgnorableKind[];
  where?: string;
  sites?: string[];
  reason: string;
  until?: string;
}

/** One file of a spec. The root file requires `sites` after its includes are merged in. */
export interface RawSpec {
  apiVersion: 'gridpkg/v1';
  include?: string[];
  defaults?: RawDefaults;
  sets?: Record<string, RawSet>;
  sites?: Record<string, RawSite>;
  selections?: RawSelection[];
  ignore?: RawIgnoreRule[];
}

/** Where a value came from, for messages that point into the spec. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Requirement {
  pkgpath: string;
  pattern: string | undefined;
  state: PackageState;
  source: SourceLocation;
}

export interface LocalBackendConfig {
  type: 'local';
  shell: string[];
  environment: Record<string, string>;
}

/**
 * How gridpkg reaches a host with ssh (src/grid/ssh/connection.ts): the ssh backend's host, or a Slurm cluster's
 * login node (schema: $defs/sshConnection).
 */
export interface SshConnectionConfig {
  host: string;
  /** Default 22 (or whatever the user's ssh configuration says). */
  port?: number;
  user?: string;
  identityFile?: string;
  /** Default: ssh's own (~/.ssh/known_hosts). Host keys are always checked (StrictHostKeyChecking=yes)... */
  knownHostsFile?: string;
  /** ...unless this is set: then an unknown host key is accepted and remembered (accept-new); a changed one never. */
  insecureAcceptNewHostKeys?: boolean;
  /** Default 10. */
  connectTimeoutSeconds?: number;
}

/** A site reached over ssh: jobs run detached in a job directory on the remote host (src/grid/ssh.ts). */
export interface SshBackendConfig extends SshConnectionConfig {
  type: 'ssh';
  /** Remote job directory, absolute or relative to the login directory. Default `~/.gridpkg/jobs`. */
  workDir?: string;
  /** Command that runs the job script on the remote host. Default ['/bin/sh']. */
  shell?: string[];
  /** Extra variables of the job's environment (e.g. VO_PVIER_SW_DIR); strict path-like values only. */
  environment?: Record<string, string>;
}

/**
 * A site behind a Slurm cluster (src/grid/slurm.ts) whose login node is this machine, or a host reached over ssh
 * (`loginNode`): each job is a directory under `jobsRoot` on a file system that the login node and the compute
 * nodes share, run by sbatch. Every sbatch option comes from one of the typed settings below; there are no
 * free-form options.
 */
export interface SlurmBackendConfig {
  type: 'slurm';
  /** sbatch --partition (default: the cluster's default partition). */
  partition?: string;
  /** sbatch --account. */
  account?: string;
  /** sbatch --qos. */
  qos?: string;
  /** sbatch --mem, e.g. `2G` or `500M`. */
  memory?: string;
  /** sbatch --cpus-per-task. */
  cpusPerTask?: number;
  /**
   * Absolute directory on the shared file system for the job directories. Default: `jobs/` in the state directory;
   * required with `loginNode`, where it (like slurmConf and jobCompLog) is a path on the login node.
   */
  jobsRoot?: string;
  /** Command that runs the job script on the compute node. Default ['/bin/sh']. */
  shell?: string[];
  /** Extra variables of the job's environment (e.g. VO_PVIER_SW_DIR); strict path-like values only. */
  environment?: Record<string, string>;
  /** slurm.conf for the client commands (sets SLURM_CONF). Default: theirs (SLURM_CONF or /etc/slurm/slurm.conf). */
  slurmConf?: string;
  /**
   * The jobcomp/filetxt log (slurm.conf JobCompLoc), read with `sacct -c` for jobs that have left squeue when the
   * cluster has no accounting storage (no slurmdbd). Without it, plain `sacct` is asked.
   */
  jobCompLog?: string;
  /** Run the Slurm commands on this login node over ssh instead of on this machine. */
  loginNode?: SshConnectionConfig;
}

/** One configured command of a template backend: an argv array, run without a shell. */
export interface TemplateCommand {
  /** argv[0] is the program; placeholders {jobDir} {runner} {jobName} {id} {ids} {timeoutMinutes} (docs/templates.md). */
  argv: string[];
}

/**
 * A site reached through commands configured in the spec (src/grid/template.ts, docs/templates.md): HTCondor-CE,
 * gLite WMS, DIRAC, Slurm, ... Commands run as argv arrays, never through a shell.
 */
export interface TemplateBackendConfig {
  type: 'template';
  /** Absolute directory for the job directories. Default: `jobs/` in the state directory. */
  jobsRoot?: string;
  /** Command that runs the job script where the job runs. Default ['/bin/sh']. */
  shell?: string[];
  /** Extra variables of the job's environment; strict path-like values only. */
  environment?: Record<string, string>;
  /** Extra variables of the configured commands' environment (SLURM_CONF, X509_USER_PROXY, ...). */
  commandEnvironment?: Record<string, string>;
  /** x509: the X.509 proxy is checked before every submission. Default none. */
  credentials?: 'none' | 'x509';
  /** Polls a job may be missing from the status output (without an exit status) before it is lost. Default 3. */
  missingPolls?: number;
  /** Constant files written into every job directory (a JDL, a submit description); no placeholders inside. */
  files?: Record<string, string>;
  /** Run in the job directory; `jobId` is a regular expression whose one group is the backend id in stdout. */
  submit: TemplateCommand & { jobId: string };
  /** `line` has named groups id and state (and optionally reason); every state word is listed in `states`. */
  status: TemplateCommand & {
    line: string;
    states: { queued?: string[]; running?: string[]; done?: string[]; failed?: string[] };
  };
  /** Brings the job's files into its directory (omit on a shared file system). Run in the job directory. */
  fetch?: TemplateCommand;
  cancel: TemplateCommand;
  /** Run before the job directory is removed (e.g. purging the output on the CE). */
  clean?: TemplateCommand;
  /**
   * Looks a job up by its name ({jobName}) when its backend id was never recorded (a submit that timed out, a
   * controller that died mid-submit); `jobId` is a regular expression whose one group is the backend id in stdout.
   */
  find?: TemplateCommand & { jobId: string };
}

/**
 * A site behind a NorduGrid ARC CE (src/grid/arc.ts): jobs are submitted with arcsub over the CE's REST interface,
 * watched with one arcstat call per poll for all jobs of the CE, fetched with arcget. Needs a valid X.509 proxy.
 */
export interface ArcBackendConfig {
  type: 'arc';
  /** The CE's endpoint, e.g. https://ce.example.org:443/arex (arcsub -C). */
  ce: string;
  /** xRSL queue (default: the CE's default queue). */
  queue?: string;
  /** xRSL memory in megabytes. */
  memoryMB?: number;
  /** Local directory for the job directories and the ARC client's job list. Default: `jobs/` in the state directory. */
  jobsRoot?: string;
  /** Command that runs the job script on the worker node. Default ['/bin/sh']. */
  shell?: string[];
  /** Extra variables of the job's environment (e.g. VO_PVIER_SW_DIR); strict path-like values only. */
  environment?: Record<string, string>;
  /** ARC client configuration file (-z). Default: the client's own (~/.arc/client.conf). */
  clientConfig?: string;
}

export type BackendConfig =
  | LocalBackendConfig
  | SshBackendConfig
  | SlurmBackendConfig
  | TemplateBackendConfig
  | ArcBackendConfig;

/** An ignore rule that applies to a site (expired rules are dropped at resolution, with a warning). */
export interface IgnoreRule {
  /** Only changes of this PKGPATH; every PKGPATH when undefined. */
  pkgpath: string | undefined;
  /** Only these kinds of change; every kind when undefined. */
  kinds: IgnorableKind[] | undefined;
  reason: string;
  /** Last day the rule applies (YYYY-MM-DD), if it expires. */
  until: string | undefined;
  source: SourceLocation;
}

/** Resolved `prune:` of a site that prunes. */
export interface PruneSettings {
  maxRemovals: number;
  allowRemoveAll: boolean;
  /** Where the site's prune setting is written: pruned removals point here. */
  source: SourceLocation;
}

/** The X.509 proxy check's demands for one site (resolved `proxy:`); used only by grid-middleware backends. */
export interface ProxyRequirements {
  /** The VOMS role the proxy must carry in the site's VO (e.g. sgm); undefined: no role is required. */
  vomsRole: string | undefined;
  /** Seconds the proxy must stay valid beyond the job timeout (0: up to the job timeout). */
  minValiditySeconds: number;
  /** VOMS attributes of the site's VO (of any VO without one) are required. Default: true when vo is set. */
  requireVoms: boolean;
}

export interface DesiredState {
  site: string;
  vo: string | undefined;
  softwareArea: string | undefined;
  prefix: string | undefined;
  repository: string | undefined;
  lockStaleSeconds: number;
  jobTimeoutSeconds: number;
  backend: BackendConfig;
  /** Sorted by PKGPATH; at most one requirement per PKGPATH. */
  requirements: Requirement[];
  // The fields below are always set by resolveSpec; they are optional so that desired states built by hand
  // (tests, benchmarks) need not spell them out. Absent means the documented default.
  /** The site's labels, sorted. */
  labels?: string[];
  /** Default binary. */
  installMode?: InstallMode;
  /** The pkgsrc tree on the site (source mode). */
  pkgsrcTree?: string | undefined;
  /** Where to bootstrap pkgsrc from on a site that has none. */
  bootstrap?: { source: string } | undefined;
  /** Remove packages the spec does not mention (and orphaned dependencies). Absent or disabled: never. */
  prune?: PruneSettings | undefined;
  /** The oldest pkg_install version the site may keep (YYYYMMDD); older is upgraded first. Absent: any. */
  minPkgInstall?: { version: string; source: SourceLocation } | undefined;
  /** Default warn. */
  vulnerabilityPolicy?: VulnerabilityPolicy;
  /** Active ignore rules of this site, in spec order. */
  ignores?: IgnoreRule[];
  /** What the X.509 proxy check demands. Absent: no role, no margin, VOMS attributes required when vo is set. */
  proxy?: ProxyRequirements;
  /** watch: probe the site again this long after it converged. Absent: the watch's --resync. */
  resyncSeconds?: number;
}
