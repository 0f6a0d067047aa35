/**
 * Terraform users type `-out=FILE`, `-auto-approve`, `-detailed-exitcode`, `-input=false`, `-lock-timeout=30s`,
 * `-json`, `-force` (force-unlock) and `-parallelism=N` with one dash;
 * commander would read `-out` as the short flags -o -u -t (and `-parallelism=2` as `-p arallelism=2`). Rewrite
 * exactly these spellings to their long forms before parsing; Terraform's `-parallelism` (one dash or two) is
 * gridpkg's `--concurrency`.
 */
const SINGLE_DASH_LONG = [
  'out',
  'auto-approve',
  'detailed-exitcode',
  'state-dir',
  'input',
  'lock-timeout',
  'json',
  'force',
];
const RENAMED: Readonly<Record<string, string>> = { parallelism: 'concurrency' };

export function normalizeTerraformFlags(argv: readonly string[]): string[] {
  const separator = argv.indexOf('--');
  return argv.map((arg, index) => {
    if (separator !== -1 && index > separator) return arg;
    const match = /^--?([a-z-]+)(=.*)?$/.exec(arg);
    const name = match?.[1];
    if (!match || name === undefined) return arg;
    const renamed = RENAMED[name];
    if (renamed) return `--${renamed}${match[2] ?? ''}`;
    return !arg.startsWith('--') && SINGLE_DASH_LONG.includes(name) ? `-${arg}` : arg;
  });
}
