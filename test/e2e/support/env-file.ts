/** The KEY=VALUE env files that scripts/services/*-up.sh write for the end-to-end tests. */
import { existsSync, readFileSync } from 'node:fs';

/** A getter for the file's keys (throwing on a missing one), or undefined when the file does not exist. */
export function readEnvFile(path: string): ((key: string) => string) | undefined {
  if (!existsSync(path)) return undefined;
  const vars = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) vars.set(line.slice(0, at), line.slice(at + 1));
  }
  return (key) => {
    const value = vars.get(key);
    if (value === undefined) throw new Error(`${path} has no ${key}`);
    return value;
  };
}
