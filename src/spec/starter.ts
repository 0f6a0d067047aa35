/** The commented starter spec `gridpkg init` writes (pure: text in, text out; the CLI checks and writes it). */

export interface StarterOptions {
  site: string;
  softwareArea: string;
  repository: string;
  vo?: string;
}

export const STARTER_DEFAULTS: StarterOptions = {
  site: 'MY-SITE',
  softwareArea: 'sw',
  repository: 'packages/All',
};

/** A YAML scalar for a user-given value: double-quoted (JSON is valid YAML), so no value can start a key or comment. */
const scalar = (value: string) => JSON.stringify(value);

export function starterSpec(options: StarterOptions): string {
  const vo = options.vo
    ? `  vo: ${scalar(options.vo)} # jobs find the software area in VO_<VO>_SW_DIR where a site sets no softwareArea`
    : '  # vo: myvo # jobs find the software area in VO_MYVO_SW_DIR where a site sets no softwareArea';
  return `# gridpkg spec: the pkgsrc packages each grid site of the VO must (and must not) have.
# Written by \`gridpkg init\`. Check it with \`gridpkg validate\`, see what would change with \`gridpkg plan\`,
# change the sites with \`gridpkg apply\`. Every key is described in the README ("The spec file").
apiVersion: gridpkg/v1

sets: # named package lists; sites, defaults and selections use them
  base:
    description: what every site of the VO needs
    packages:
      - math/gsl # a PKGPATH, as in pkgsrc: present, any version
      # - pkgpath: devel/zlib
      #   pattern: zlib>=1.3 # a version pattern in pkg_match syntax (gsl>=2.7<3, gsl-2.7*)
      # - pkgpath: devel/hdf5
      #   state: absent # present (default) | absent | latest

defaults: # every site inherits these
${vo}
  sets: [base]
  vulnerabilities: { policy: warn } # ignore | warn | fail: what plan does with pkg_admin audit findings
  # jobTimeout: 2h
  # lockStaleAfter: 30m # a site lock without a heartbeat this long belongs to a dead job

sites: # one entry per grid site; each site gets one job at a time
  ${scalar(options.site)}:
    softwareArea: ${scalar(options.softwareArea)} # the VO software area; pkgsrc's prefix is SOFTWAREAREA/pkg
    # PKG_PATH: binary packages built for that prefix (a directory as the site sees it, or an http(s) URL)
    repository: ${scalar(options.repository)}
    # local: jobs run on this machine. Real sites: ssh, slurm, arc or template (README, "Backends").
    backend: { type: local }
    # packages: # this site's own additions and overrides
    #   - { pkgpath: math/gsl, pattern: gsl-2.7* }
`;
}
