/**
 * Where the Slurm backend keeps its job directories: on this machine (the login node is local) or on a login node
 * reached over ssh. The backend only ever needs these four operations, so it stays one class for both.
 */
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../../state/atomic.js';
import type { CappedText } from '../../state/read-capped.js';
import { createJobDirectory, MAX_OUTPUT_BYTES, readJobFile, readJobOutput } from '../job-files.js';
import type { SshConnection } from '../ssh/connection.js';
import {
  putFileAtomic,
  readFiles,
  readFilesCapped,
  removeDirectory,
  uploadNewDirectory,
} from '../ssh/remote-files.js';
import { unavailable } from './ssh-exec.js';

export interface JobDirectories {
  /**
   * Makes the job directory `dir` (its parents as needed) holding `files` and a copy of the local site job script
   * as site-job.sh. Fails if `dir` exists: a job id is submitted once.
   */
  create(
    dir: string,
    scriptPath: string,
    files: readonly (readonly [name: string, text: string])[],
  ): Promise<void>;
  /** Writes one file of an existing job directory atomically. */
  write(dir: string, name: string, text: string): Promise<void>;
  /** Reads files, at most MAX_OUTPUT_BYTES of each, in one go; undefined for a file that is not there. */
  read(paths: readonly string[]): Promise<(string | undefined)[]>;
  /** As read(), saying for each file whether it was cut at MAX_OUTPUT_BYTES. */
  readCapped(paths: readonly string[]): Promise<(CappedText | undefined)[]>;
  /** Removes a job directory and everything in it; no error when it is already gone. */
  remove(dir: string): Promise<void>;
}

/** Job directories on this machine. */
export class LocalJobDirectories implements JobDirectories {
  async create(
    dir: string,
    scriptPath: string,
    files: readonly (readonly [string, string])[],
  ): Promise<void> {
    await createJobDirectory(dir, scriptPath, files);
  }

  write(dir: string, name: string, text: string): Promise<void> {
    return writeFileAtomic(join(dir, name), text);
  }

  read(paths: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.all(paths.map((path) => readJobFile(path)));
  }

  readCapped(paths: readonly string[]): Promise<(CappedText | undefined)[]> {
    return Promise.all(paths.map((path) => readJobOutput(path)));
  }

  remove(dir: string): Promise<void> {
    return rm(dir, { recursive: true, force: true });
  }
}

/**
 * Job directories on a login node, over the backend's ssh connection: created and written with sftp from local
 * staging files, read and removed by constant remote scripts (../ssh/remote-files.ts). A lost connection is
 * SlurmUnavailableError, as for the Slurm commands themselves.
 */
export class RemoteJobDirectories implements JobDirectories {
  constructor(private readonly connection: SshConnection) {}

  private async guard<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw unavailable(error, `${what} on ${this.connection.destination()}`);
    }
  }

  create(dir: string, scriptPath: string, files: readonly (readonly [string, string])[]): Promise<void> {
    const uploads = [
      { name: 'site-job.sh', copyOf: scriptPath },
      ...files.map(([name, text]) => ({ name, text })),
    ];
    return this.guard('creating the job directory', () =>
      uploadNewDirectory(this.connection, dirname(dir), basename(dir), uploads),
    );
  }

  write(dir: string, name: string, text: string): Promise<void> {
    return this.guard(`writing ${name}`, () => putFileAtomic(this.connection, dir, name, text));
  }

  read(paths: readonly string[]): Promise<(string | undefined)[]> {
    return this.guard('reading job files', () => readFiles(this.connection, paths, MAX_OUTPUT_BYTES));
  }

  readCapped(paths: readonly string[]): Promise<(CappedText | undefined)[]> {
    return this.guard('reading job files', () => readFilesCapped(this.connection, paths, MAX_OUTPUT_BYTES));
  }

  remove(dir: string): Promise<void> {
    return this.guard('removing the job directory', () =>
      removeDirectory(this.connection, dirname(dir), basename(dir)),
    );
  }
}
