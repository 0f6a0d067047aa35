/**
 * A report never carries backend settings: login nodes, users, key and known-hosts files, CE endpoints, job
 * environments. They are not copied into it, but free text from jobs and backends (an ssh error, a job's stderr)
 * can quote them; each occurrence is replaced by the setting's name (`[backend host]`). Pure.
 */
import type { BackendConfig, SshConnectionConfig } from '../../spec/types.js';

/** Values this short (a port, `sh`) would blank out ordinary words: they are not secret anyway. */
const MIN_SECRET_LENGTH = 4;

export interface Secret {
  value: string;
  label: string;
}

/** The settings of a site's backend that must not appear in a report, longest first. */
export function backendSecrets(backend: BackendConfig): Secret[] {
  const secrets: Secret[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH) secrets.push({ value, label });
  };
  const connection = (prefix: string, c: SshConnectionConfig) => {
    add(`${prefix}host`, c.host);
    if (c.user !== undefined) add(`${prefix}user`, `${c.user}@`);
    add(`${prefix}identityFile`, c.identityFile);
    add(`${prefix}knownHostsFile`, c.knownHostsFile);
  };
  const environment = (label: string, env: Record<string, string> | undefined) => {
    for (const [name, value] of Object.entries(env ?? {})) add(`${label} ${name}`, value);
  };
  switch (backend.type) {
    case 'ssh':
      connection('backend ', backend);
      add('backend workDir', backend.workDir);
      break;
    case 'slurm':
      if (backend.loginNode) connection('backend loginNode.', backend.loginNode);
      add('backend slurmConf', backend.slurmConf);
      add('backend jobCompLog', backend.jobCompLog);
      add('backend jobsRoot', backend.jobsRoot);
      break;
    case 'arc': {
      add('backend ce', backend.ce);
      add('backend ce host', hostOf(backend.ce));
      add('backend clientConfig', backend.clientConfig);
      add('backend jobsRoot', backend.jobsRoot);
      break;
    }
    case 'template':
      environment('backend commandEnvironment', backend.commandEnvironment);
      add('backend jobsRoot', backend.jobsRoot);
      break;
    case 'local':
      break;
  }
  environment('backend environment', backend.environment);
  return secrets.sort((a, b) => b.value.length - a.value.length);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** Every string inside `value` (objects and arrays walked) with each secret replaced by `[its label]`. */
export function redact<T>(value: T, secrets: readonly Secret[]): T {
  if (secrets.length === 0) return value;
  return walk(value, secrets) as T;
}

function walk(value: unknown, secrets: readonly Secret[]): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const { value: secret, label } of secrets)
      if (text.includes(secret)) text = text.replaceAll(secret, `[${label}]`);
    return text;
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, secrets));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, secrets)]));
  return value;
}
