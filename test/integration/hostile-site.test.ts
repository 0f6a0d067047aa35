/**
 * A hostile site end to end (issue 9 item 3): the real CLI, the local backend and the pkgsrc simulator (a test
 * double), with a job "shell" that plays a site whose tools write terminal escapes and CI workflow commands to the
 * job's stderr and stdout and leave no report. Every output — progress lines, plan, apply, import, the JSON log, the
 * saved plan, the observations — shows that text escaped, in plain and colour styles. The same world checks that the
 * notes a site job writes (issue 9 item 10) reach plan and apply.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import type { Style } from '../../src/report/style.js';
import { expectSafe, expectShownEscaped, STYLES, withoutOwnColours } from '../report/hostile-text.js';
import { type CliRun, World } from './harness.js';

/**
 * Runs the job script under /bin/sh, except for the job modes listed in HOSTILE_ON: those print hostile text (the
 * same as HOSTILE_LINE in ../report/hostile-text.ts, with a NUL) on stdout and stderr and exit 3 without a report.
 */
const HOSTILE_SHELL = `#!/bin/sh
mode=$(sed -n 's/^mode //p' "$2")
case " $HOSTILE_ON " in
*" $mode "*)
  hostile='\\033[2J\\033[H\\033[32m plan: all sites OK\\033]0;pwned\\007\\r::add-mask::secret \\302\\23331m \\342\\200\\256evil\\342\\200\\250::error::forged\\000'
  printf "first line\\n::error title=forged::from a site\\n$hostile\\n"
  printf "first line\\n::error title=forged::from a site\\n$hostile\\n" >&2
  exit 3
  ;;
esac
exec /bin/sh "$@"
`;

async function cli(args: string[], style: Style): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    confirm: async () => true,
    style,
    errStyle: style,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe.each(STYLES)('a hostile site (%s)', (_name, style) => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(['/bin/sh']); // the spec below names its own shell
  });
  afterEach(async () => {
    await world.dispose();
  });

  async function writeSpec(): Promise<void> {
    const shell = join(world.root, 'hostile-shell.sh');
    await writeFile(shell, HOSTILE_SHELL);
    await chmod(shell, 0o755);
    const site = (name: string, hostileOn: string) => {
      const sim = world.sites.get(name);
      if (!sim) throw new Error(`no site ${name}`);
      return [
        `  ${name}:`,
        `    softwareArea: ${sim.swdir}`,
        `    repository: ${world.repositoryOf(name)}`,
        `    backend: { type: local, shell: [${shell}], environment: { HOSTILE_ON: ${hostileOn} } }`,
        '    packages:',
        '      - math/gsl',
      ];
    };
    const text = [
      'apiVersion: gridpkg/v1',
      'defaults:',
      '  vo: pvier',
      'sites:',
      ...site('evil-probe', 'probe'),
      ...site('evil-apply', 'apply'),
      ...site('noted', 'none'),
      '',
    ].join('\n');
    await writeFile(world.specFile, text);
  }

  it('never reaches a terminal or a CI log raw, on any output', async () => {
    await world.addSite('evil-probe');
    await world.addSite('evil-apply');
    const noted = await world.addSite('noted');
    // A package database entry whose name the job script refuses: it skips it and says so in a note.
    await mkdir(join(noted.pkgdb, 'evil;name-1.0'), { recursive: true });
    await writeFile(join(noted.pkgdb, 'evil;name-1.0', '+CONTENTS'), '@name evil;name-1.0\n');
    await writeSpec();
    const common = ['-f', world.specFile, '--state-dir', world.stateDir];
    const planFile = join(world.root, 'saved.plan');

    const plan = await cli(['plan', ...common, '-out', planFile], style);
    expect(plan.code).toBe(3);
    expect(withoutOwnColours(plan.stdout)).toContain('# evil-probe: unknown');
    expect(withoutOwnColours(plan.stdout)).toContain(
      'note from the site job: 1 package database entr(y/ies) with an unsafe name skipped',
    );
    const apply = await cli(['apply', ...common, '--auto-approve'], style);
    const applied = withoutOwnColours(apply.stdout);
    expect(applied).toContain('evil-apply: unknown');
    expect(applied).toContain('noted: applied');
    expect(applied).toContain(
      'note from the site job: 1 package database entr(y/ies) with an unsafe name skipped',
    );
    const imp = await cli(['import', ...common, '--site', 'evil-probe'], style);
    expect(imp.code).toBe(1);

    for (const [where, run] of [
      ['plan', plan],
      ['apply', apply],
      ['import', imp],
    ] as const) {
      expectSafe(run.stdout, `${where} stdout`);
      expectSafe(run.stderr, `${where} stderr`);
    }
    expectShownEscaped(plan.stdout, 'plan');
    expectShownEscaped(apply.stdout, 'apply');
    expectShownEscaped(imp.stderr, 'import');

    for (const file of [
      planFile,
      join(world.stateDir, 'gridpkg.log'),
      join(world.stateDir, 'observations', 'evil-probe.json'),
      join(world.stateDir, 'observations', 'evil-apply.json'),
    ]) {
      expectSafe(await readFile(file, 'utf8'), file);
    }
  });
});
