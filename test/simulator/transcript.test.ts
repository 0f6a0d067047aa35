// Replays the real pkg_install 20170419 transcripts (test/fixtures/reference) against the pkgsrc simulator, a test
// double: every command runs with `sh -c` in a fresh simulated site and must print the same bytes (stdout and stderr
// merged in order) and exit with the same status.
//
// source-transcript.txt (bmake in a pkgsrc tree) is out of scope: the simulator has no bmake/source mode yet.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepository } from '../pkgsrc-sim/repository.js';
import { createSite, type SimSite, sitePrefix } from '../pkgsrc-sim/site.js';
import {
  makeTempDir,
  parseTranscript,
  REFERENCE_DIR,
  sh,
  siteEnv,
  sortedLines,
  type TranscriptBlock,
} from './helpers.js';

/**
 * `pkg_info -a` / `-u` and `pkg_admin audit` list packages in readdir(3) order of the pkgdb, like the real tools.
 * The transcripts were recorded on ext4, whose order is that of a hashed directory index with a per-file-system
 * seed; a temporary directory elsewhere (tmpfs, another ext4) orders differently. So for these commands the
 * replay compares the output as sorted lines: same lines, same multiplicity, any order.
 */
const READDIR_ORDER = /^(pkg_info -[au]|pkg_admin (-q )?audit)$/;

const REAL_PREFIX = '/opt/vo/pkg';

let tmp: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  tmp = makeTempDir('replay');
});

/** A repository built for the prefix of the site at ROOT, as the real transcripts' was for theirs. */
function repositoryFor(root: string): Promise<string> {
  return createRepository(`${root}-repo`, undefined, { prefix: sitePrefix(root) });
}

afterAll(() => tmp.cleanup());

function replay(site: SimSite, repository: string, blocks: TranscriptBlock[], cwd: string): void {
  const env = siteEnv(site, repository);
  const map = (s: string) => s.split(REAL_PREFIX).join(site.prefix);
  for (const b of blocks) {
    const r = sh(map(b.command), env, cwd);
    const where = `transcript line ${b.line}: $ ${b.command}`;
    const expected = map(b.output);
    if (READDIR_ORDER.test(b.command)) expect(sortedLines(r.output), where).toEqual(sortedLines(expected));
    else expect(r.output, where).toBe(expected);
    expect(r.status, `${where} (exit status)`).toBe(b.exit);
  }
}

describe('pkg_install-transcript.txt', () => {
  it('replays every command byte for byte on a freshly bootstrapped site', async () => {
    const blocks = parseTranscript(
      readFileSync(path.join(REFERENCE_DIR, 'pkg_install-transcript.txt'), 'utf8'),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(30);
    const root = path.join(tmp.dir, 'site-install');
    const repository = await repositoryFor(root);
    const site = await createSite({ root, repository });
    const cwd = path.join(tmp.dir, 'site-install');
    replay(site, repository, blocks, cwd);
    // The transcript's unquoted `pkg_add gsl>=2.7`, `pkg_add gsl>=9`, `pkg_info -E gsl>=2.7` and
    // `pkg_add -u zlib>=1.3` are shell redirections (`pkg_add gsl > =9`): that is why they report gsl-2.8 and why
    // `pkg_info -E` printed nothing. The same redirections happen in the replay:
    for (const f of ['=2.7', '=9', '=1.3']) expect(existsSync(path.join(cwd, f)), f).toBe(true);
    expect(readFileSync(path.join(cwd, '=2.7'), 'utf8')).toBe('gsl-2.7nb1\n'); // pkg_info -E gsl > =2.7
  });
});

describe('audit-transcript.txt', () => {
  it('replays every command on a site in the reference state with the vulnerability list installed', async () => {
    const blocks = parseTranscript(readFileSync(path.join(REFERENCE_DIR, 'audit-transcript.txt'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(9);
    const root = path.join(tmp.dir, 'site-audit');
    const repository = await repositoryFor(root);
    const site = await createSite({
      root,
      repository,
      installed: ['gsl-2.8', 'root', 'hdf5-1.14.3', 'openssl-3.0.13'],
      vulnerabilityList: 'installed',
    });
    replay(site, repository, blocks, root);
    // the `mv ... pv.bak; ...; mv` block put the list back
    expect(existsSync(path.join(site.pkgdb, 'pkg-vulnerabilities'))).toBe(true);
  });
});
