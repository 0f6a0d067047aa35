/**
 * Terraform users type `-out=FILE`, `-auto-approve` and `-detailed-exitcode` with one dash; commander would read
 * `-out` as the short flags -o -u -t. Rewrite exactly these spellings to their long forms before parsing.
 */
const SINGLE_DASH_LONG = ['out', 'auto-approve', 'detailed-exitcode', 'state-dir'];

export function normalizeTerraformFlags(argv: readonly string[]): string[] {
  const separator = argv.indexOf('--');
  return argv.map((arg, index) => {
    if (separator !== -1 && index > separator) return arg;
    const match = /^-([a-z-]+)(=.*)?$/.exec(arg);
    return match?.[1] && SINGLE_DASH_LONG.includes(match[1]) ? `-${arg}` : arg;
  });
}
