// Shared helpers of the pkgsrc simulator tests (the simulator is a test double; see test/pkgsrc-sim/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimSite } from '../pkgsrc-sim/site.js';

export const REFERENCE_DIR = path.resolve(import.meta.dirname, '../fixtures/reference');

export function makeTempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pkgsim-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment a site job would see: the site's sbin first in PATH, PKG_PATH set, no stray pkgsrc settings. */
export function siteEnv(site: SimSite, repository: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PKGSIM_') || k.startsWith('PKG_')) delete env[k];
  env.PATH = `${site.sbin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  env.PKG_PATH = repository;
  env.LC_ALL = 'C';
  return env;
}

export interface ShResult {
  /** stdout and stderr merged in the order they were written (2>&1) */
  output: string;
  status: number;
}

/** Run COMMAND with `sh -c` in the site's environment, stderr merged into stdout like a terminal transcript. */
export function sh(command: string, env: NodeJS.ProcessEnv, cwd: string): ShResult {
  const r = spawnSync('sh', ['-c', `exec 2>&1\n${command}`], { env, cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { output: r.stdout, status: r.status ?? 128 };
}

export interface TranscriptBlock {
  command: string;
  output: string;
  exit: number;
  line: number;
}

/** `$ command`, output lines, `[exit N]`; everything else (comments, blank separators) is ignored. */
export function parseTranscript(text: string): TranscriptBlock[] {
  const lines = text.split('\n');
  const blocks: TranscriptBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (!l.startsWith('$ ')) continue;
    const start = i;
    const out: string[] = [];
    let exit: number | undefined;
    for (i++; i < lines.length; i++) {
      const m = /^\[exit (\d+)\]$/.exec(lines[i] as string);
      if (m) {
        exit = Number(m[1]);
        break;
      }
      out.push(lines[i] as string);
    }
    if (exit === undefined) throw new Error(`transcript line ${start + 1}: block without [exit N]`);
    blocks.push({ command: l.slice(2), output: out.map((x) => `${x}\n`).join(''), exit, line: start + 1 });
  }
  return blocks;
}

export function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}
