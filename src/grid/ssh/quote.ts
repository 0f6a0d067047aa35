/**
 * Quoting and validation for everything the ssh backend puts on a remote command line. The remote command is one
 * string that the remote login shell parses, so only validated tokens ever reach it, and each is single-quoted too.
 */

/** Single-quotes a string for a POSIX shell: nothing inside is interpreted (`'` becomes `'\''`). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Characters of a remote path: the protocol's path set (`A-Z a-z 0-9 . _ - / + ,`). */
const REMOTE_PATH = /^[A-Za-z0-9._/+,-]+$/;

/**
 * A remote directory: absolute, or relative to the login directory (a leading `~/` is taken as that). No `..`, no
 * empty or `-`-leading component, at most 512 characters. Returns the normal form (no `~/`, no trailing `/`).
 */
export function normalizeRemoteDir(value: string): string {
  let path = value.startsWith('~/') ? value.slice(2) : value;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const parts = path.startsWith('/') ? path.slice(1).split('/') : path.split('/');
  const ok =
    path.length > 0 &&
    path.length <= 512 &&
    REMOTE_PATH.test(path) &&
    parts.every((part) => part !== '' && part !== '.' && part !== '..' && !part.startsWith('-'));
  if (!ok) {
    throw new Error(
      `ssh backend: remote directory ${JSON.stringify(value)} is not allowed (absolute or relative to the login ` +
        'directory, characters A-Z a-z 0-9 . _ - / + , only, no "..", no component starting with "-")',
    );
  }
  return path;
}

/** Host name or address: DNS characters or an IPv6 literal; never starting with `-`. */
export function isHost(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(value) || /^[0-9A-Fa-f:]{2,39}$/.test(value);
}

/** Login name as useradd accepts it. */
export function isUserName(value: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/.test(value);
}

/** Environment variable name for the job. */
export function isEnvName(value: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(value);
}

/** Environment variable value for the job: a path-like strict set (no spaces, quotes, `$`, newlines). */
export function isEnvValue(value: string): boolean {
  return /^[A-Za-z0-9._/+,:=@%-]*$/.test(value) && value.length <= 1024;
}

/** One word of the remote shell command that runs the job script (`/bin/sh`, `bash`, `-e`, `/opt/wrap.sh`). */
export function isShellWord(value: string): boolean {
  return /^[A-Za-z0-9._/+,:=@%-]+$/.test(value) && value.length <= 1024;
}

/**
 * A local file named in an ssh `-o` option or `-i`: ssh splits option values on white space and expands `%`
 * tokens, so neither may appear.
 */
export function isLocalOptionPath(value: string): boolean {
  return /^[^\s"'\\%]+$/.test(value) && !value.startsWith('-');
}

/**
 * A remote path that may go into an sftp batch line or a remote script's arguments: the remote path characters
 * only, no `..` component, no component starting with `-`.
 */
export function isRemotePath(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 1024 &&
    REMOTE_PATH.test(value) &&
    value.split('/').every((part) => part !== '..' && !part.startsWith('-'))
  );
}
