/**
 * One ssh connection to one host, shared by every call of a backend object: the ssh backend's remote host, or the
 * Slurm backend's login node. It owns the multiplexed master (ControlMaster, started once, closed by close()), the
 * argv of ssh and sftp (host keys always checked, BatchMode, never a local shell), and the two ways anything
 * reaches the host: a constant script on the stdin of `/bin/sh -s -- ARGS` with validated, single-quoted ARGS, and
 * sftp batches that move data as files.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { RetryableError } from '../../model/errors.js';
import type { SshConnectionConfig } from '../../spec/types.js';
import { isHost, isLocalOptionPath, isUserName, shellQuote } from './quote.js';

export interface SshExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs ssh or sftp with an argv array (never a local shell). Injectable for tests. */
export type SshExec = (
  command: 'ssh' | 'sftp',
  args: readonly string[],
  options: { input?: string; timeoutMs: number; stderrFile?: string },
) => Promise<SshExecResult>;

export interface SshConnectionOptions extends SshConnectionConfig {
  exec?: SshExec;
  /** Keep one master connection per connection object (default true). */
  multiplex?: boolean;
  /** Longest wait for one ssh or sftp call (default: connect timeout + 120 s). */
  commandTimeoutMs?: number;
}

/** ssh could not reach the host or lost the connection (exit 255, timeout): transient, never a job failure. */
export class SshConnectionError extends RetryableError {
  override name = 'SshConnectionError';
}

/** The remote side answered, but not as expected. */
export class SshRemoteError extends Error {
  override name = 'SshRemoteError';
}

const CONTROL_PERSIST_SECONDS = 60;

export const defaultSshExec: SshExec = async (command, args, options) => {
  const result = await execa(command, [...args], {
    input: options.input ?? '',
    reject: false,
    encoding: 'buffer',
    timeout: options.timeoutMs,
    stripFinalNewline: false,
    ...(options.stderrFile ? { stderr: { file: options.stderrFile }, stdout: 'ignore' } : {}),
  });
  if (result.timedOut) {
    throw new SshConnectionError(`${command} timed out after ${options.timeoutMs} ms`);
  }
  if (result.exitCode === undefined) {
    throw new SshConnectionError(`${command} could not run: ${result.shortMessage}`);
  }
  const text = (value: unknown): Buffer =>
    value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(typeof value === 'string' ? value : '');
  return {
    exitCode: result.exitCode,
    stdout: text(result.stdout),
    stderr: text(result.stderr).toString('utf8'),
  };
};

/** The one remote command string: a constant shell reading a constant script on stdin, with quoted arguments. */
export function remoteCommand(args: readonly string[]): string {
  return ['/bin/sh', '-s', '--', ...args.map(shellQuote)].join(' ');
}

export class SshConnection {
  private readonly exec: SshExec;
  private readonly connectTimeout: number;
  private readonly commandTimeoutMs: number;
  private controlDir: string | undefined;
  private master: Promise<void> | undefined;
  /** Every ssh and sftp invocation so far (tests count them). */
  invocations = 0;

  /** `label` names the connection in errors ("ssh backend", "slurm backend: loginNode"). */
  constructor(
    private readonly options: SshConnectionOptions,
    private readonly label = 'ssh',
  ) {
    if (!isHost(options.host)) throw new Error(`${label}: bad host ${JSON.stringify(options.host)}`);
    if (options.user !== undefined && !isUserName(options.user))
      throw new Error(`${label}: bad user ${JSON.stringify(options.user)}`);
    if (
      options.port !== undefined &&
      !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)
    )
      throw new Error(`${label}: bad port ${options.port}`);
    for (const [name, path] of [
      ['identityFile', options.identityFile],
      ['knownHostsFile', options.knownHostsFile],
    ] as const) {
      if (path !== undefined && !isLocalOptionPath(path))
        throw new Error(`${label}: ${name} ${JSON.stringify(path)} may not contain white space, quotes or %`);
    }
    this.exec = options.exec ?? defaultSshExec;
    this.connectTimeout = options.connectTimeoutSeconds ?? 10;
    this.commandTimeoutMs = options.commandTimeoutMs ?? this.connectTimeout * 1000 + 120_000;
  }

  // ----- argv -------------------------------------------------------------------------------------------------

  /** Options shared by ssh and sftp (both take -o and -i). */
  commonOptions(controlPath: string | undefined): string[] {
    const o = this.options;
    const args = [
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${this.connectTimeout}`,
      '-o',
      `StrictHostKeyChecking=${o.insecureAcceptNewHostKeys ? 'accept-new' : 'yes'}`,
      '-o',
      'GSSAPIAuthentication=no',
      '-o',
      'ServerAliveInterval=10',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'LogLevel=ERROR',
    ];
    if (o.port !== undefined) args.push('-o', `Port=${o.port}`);
    if (o.user !== undefined) args.push('-o', `User=${o.user}`);
    if (o.identityFile !== undefined) args.push('-i', o.identityFile, '-o', 'IdentitiesOnly=yes');
    if (o.knownHostsFile !== undefined) args.push('-o', `UserKnownHostsFile=${o.knownHostsFile}`);
    if (controlPath !== undefined) args.push('-o', 'ControlMaster=no', '-o', `ControlPath=${controlPath}`);
    return args;
  }

  /** argv of `ssh` running one constant script with validated arguments. */
  sshArgs(controlPath: string | undefined, scriptArgs: readonly string[]): string[] {
    return [...this.commonOptions(controlPath), '--', this.options.host, remoteCommand(scriptArgs)];
  }

  /** `user@host:port`, for messages. */
  destination(): string {
    const o = this.options;
    return `${o.user ? `${o.user}@` : ''}${o.host}${o.port ? `:${o.port}` : ''}`;
  }

  // ----- the master connection --------------------------------------------------------------------------------

  /** The private local directory of this connection (control socket, staging of uploads); made on first use. */
  private async privateDir(): Promise<string> {
    if (!this.controlDir) {
      const dir = await mkdtemp(join(tmpdir(), 'gridpkg-ssh-'));
      if (!isLocalOptionPath(dir)) throw new Error(`${this.label}: unusable temporary directory ${dir}`);
      this.controlDir = dir;
    }
    return this.controlDir;
  }

  private async controlPath(): Promise<string | undefined> {
    if (this.options.multiplex === false) return undefined;
    const path = join(await this.privateDir(), 'cm');
    // The master goes away after ControlPersist idle seconds, or when the connection dies: start a new one.
    if (this.master && !existsSync(path)) this.master = undefined;
    this.master ??= this.startMaster(path).catch((error: unknown) => {
      this.master = undefined;
      throw error;
    });
    await this.master;
    return path;
  }

  /**
   * The master runs in the background (-f) with its stderr in a file: a master started implicitly by a client
   * call (ControlMaster=auto) would keep that call's stderr pipe open for ControlPersist seconds.
   */
  private async startMaster(path: string): Promise<void> {
    const args = [
      ...this.commonOptions(undefined),
      '-o',
      'ControlMaster=yes',
      '-o',
      `ControlPath=${path}`,
      '-o',
      `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
      '-f',
      '-N',
      '--',
      this.options.host,
    ];
    this.invocations++;
    const stderrFile = join(await this.privateDir(), 'master.err');
    const result = await this.exec('ssh', args, {
      timeoutMs: this.connectTimeout * 1000 + 15_000,
      stderrFile,
    });
    if (result.exitCode !== 0) {
      const message = (await readFile(stderrFile, 'utf8').catch(() => '')).trim() || result.stderr.trim();
      throw new SshConnectionError(
        `ssh ${this.destination()}: cannot connect: ${message || `exit ${result.exitCode}`}`,
      );
    }
  }

  /** Closes the shared connection and removes the private directory. */
  async close(): Promise<void> {
    const dir = this.controlDir;
    if (!dir) return;
    const path = join(dir, 'cm');
    if (existsSync(path)) {
      await this.exec('ssh', [...this.commonOptions(path), '-O', 'exit', '--', this.options.host], {
        timeoutMs: 10_000,
      }).catch(() => undefined);
    }
    this.master = undefined;
    this.controlDir = undefined;
    await rm(dir, { recursive: true, force: true });
  }

  // ----- calls ------------------------------------------------------------------------------------------------

  /**
   * Runs one constant script remotely (waiting at most `timeoutMs`, default the connection's command timeout).
   * Exit 255 (ssh's own failure) is a connection error.
   */
  async run(script: string, args: readonly string[], timeoutMs?: number): Promise<SshExecResult> {
    const controlPath = await this.controlPath();
    this.invocations++;
    const result = await this.exec('ssh', this.sshArgs(controlPath, args), {
      input: script,
      timeoutMs: timeoutMs ?? this.commandTimeoutMs,
    });
    if (result.exitCode === 255) {
      this.master = undefined;
      throw new SshConnectionError(
        `ssh ${this.destination()}: ${result.stderr.trim() || 'connection failed'}`,
      );
    }
    return result;
  }

  /** Runs one sftp batch (`-b -`: the first failing command without a `-` prefix stops it). */
  async sftp(batch: string, what: string): Promise<void> {
    const controlPath = await this.controlPath();
    this.invocations++;
    const result = await this.exec(
      'sftp',
      ['-q', '-b', '-', ...this.commonOptions(controlPath), '--', this.options.host],
      { input: batch, timeoutMs: this.commandTimeoutMs },
    );
    if (result.exitCode === 255 && /connect|connection|timed out|host key/i.test(result.stderr)) {
      this.master = undefined;
      throw new SshConnectionError(`sftp ${this.destination()}: ${result.stderr.trim()}`);
    }
    if (result.exitCode !== 0)
      throw new SshRemoteError(
        `sftp ${this.destination()}: ${what} failed: ${result.stderr.trim() || result.exitCode}`,
      );
  }

  /**
   * Runs `use` with a new, empty local directory for files about to be uploaded (its path is checked: it goes
   * into an sftp batch); removed afterwards.
   */
  async withStaging<T>(use: (dir: string) => Promise<T>): Promise<T> {
    const parent = this.options.multiplex === false ? tmpdir() : await this.privateDir();
    const staging = await mkdtemp(join(parent, 'gridpkg-stage-'));
    try {
      if (!isLocalOptionPath(staging))
        throw new Error(`${this.label}: unusable staging directory ${staging}`);
      return await use(staging);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
