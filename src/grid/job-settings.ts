/**
 * The two job settings every batch-style backend shares, checked the same way everywhere: `shell` (the command that
 * runs the job script, one word per line in the job's `shell` file) and `environment` (KEY=VALUE lines in its `env`
 * file, exported by the runner as data). Strict character sets: neither ever reaches a shell as code.
 */
import { isEnvName, isEnvValue, isShellWord } from './ssh/quote.js';

/** An error naming the backend, the setting, the value and the rule it breaks. */
export function badSetting(backend: string, what: string, value: unknown, rule: string): Error {
  return new Error(`${backend} backend: bad ${what} ${JSON.stringify(value)} (${rule})`);
}

/** The shell words, default `/bin/sh`; the first may not look like an option. */
export function checkedShell(backend: string, shell: readonly string[] | undefined): string[] {
  const words = [...(shell ?? ['/bin/sh'])];
  if (words.length === 0 || !words.every(isShellWord) || words[0]?.startsWith('-'))
    throw badSetting(backend, 'shell', words, 'words of A-Z a-z 0-9 . _ / + , : = @ % -');
  return words;
}

/** The environment as [name, value] pairs, every name and value checked. */
export function checkedEnvironment(
  backend: string,
  environment: Readonly<Record<string, string>> | undefined,
): [string, string][] {
  const entries = Object.entries(environment ?? {});
  for (const [name, value] of entries) {
    if (!isEnvName(name))
      throw badSetting(
        backend,
        'environment variable name',
        name,
        'A-Z a-z 0-9 _, not starting with a digit',
      );
    if (!isEnvValue(value))
      throw badSetting(
        backend,
        `value of environment variable ${name}`,
        value,
        'characters A-Z a-z 0-9 . _ / + , : = @ % -',
      );
  }
  return entries;
}

/** The job directory's `env` and `shell` files. */
export function envFileText(environment: readonly [string, string][]): string {
  return environment.map(([name, value]) => `${name}=${value}\n`).join('');
}

export function shellFileText(shell: readonly string[]): string {
  return shell.map((word) => `${word}\n`).join('');
}
