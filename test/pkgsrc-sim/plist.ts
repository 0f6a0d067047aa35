// Packing lists (+CONTENTS) as pkg_install's lib/plist.c reads and writes them: one directive per line, `@cmd arg`
// or a bare file name relative to the current @cwd.

export type PlistType =
  | 'file'
  | 'cwd'
  | 'src'
  | 'exec'
  | 'unexec'
  | 'chmod'
  | 'chown'
  | 'chgrp'
  | 'comment'
  | 'ignore'
  | 'ignore_inst'
  | 'name'
  | 'dirrm'
  | 'display'
  | 'pkgdep'
  | 'pkgcfl'
  | 'blddep'
  | 'pkgdir'
  | 'option'
  | 'unknown';

export interface PlistEntry {
  type: PlistType;
  /** the argument (file name for 'file'); '' when the directive has none */
  name: string;
  /** the directive as spelled in the file (`cwd`, `cd`, `mode`, ...), for writing it back unchanged */
  cmd: string;
}

const COMMANDS: Record<string, PlistType> = {
  cwd: 'cwd',
  cd: 'cwd',
  src: 'src',
  exec: 'exec',
  unexec: 'unexec',
  mode: 'chmod',
  chmod: 'chmod',
  owner: 'chown',
  chown: 'chown',
  group: 'chgrp',
  chgrp: 'chgrp',
  comment: 'comment',
  ignore: 'ignore',
  ignore_inst: 'ignore_inst',
  name: 'name',
  dirrm: 'dirrm',
  display: 'display',
  pkgdep: 'pkgdep',
  pkgcfl: 'pkgcfl',
  blddep: 'blddep',
  pkgdir: 'pkgdir',
  option: 'option',
};

export function parsePlist(text: string): PlistEntry[] {
  const entries: PlistEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[ \t\r]+$/, '');
    if (line === '') continue;
    if (line.startsWith('@')) {
      const m = /^@(\S+)\s*(.*)$/.exec(line);
      const cmd = m?.[1] ?? '';
      entries.push({ type: COMMANDS[cmd] ?? 'unknown', name: m?.[2] ?? '', cmd });
    } else {
      entries.push({ type: 'file', name: line, cmd: '' });
    }
  }
  return entries;
}

export function stringifyPlist(entries: readonly PlistEntry[]): string {
  let s = '';
  for (const e of entries) {
    if (e.type === 'file') s += `${e.name}\n`;
    else s += e.name === '' ? `@${e.cmd}\n` : `@${e.cmd} ${e.name}\n`;
  }
  return s;
}

/** The entries of one type, skipping the entry that follows each @ignore (as pkg_install's loops do). */
export function plistOf(entries: readonly PlistEntry[], type: PlistType): PlistEntry[] {
  const out: PlistEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as PlistEntry;
    if (e.type === 'ignore') {
      i++;
      continue;
    }
    if (e.type === type) out.push(e);
  }
  return out;
}

export function plistName(entries: readonly PlistEntry[]): string | undefined {
  return entries.find((e) => e.type === 'name')?.name;
}

export function plistDepends(entries: readonly PlistEntry[]): string[] {
  return plistOf(entries, 'pkgdep').map((e) => e.name);
}

/** A payload file with its absolute path (current @cwd + name) and the recorded MD5, if any. */
export interface PlistFile {
  name: string;
  path: string;
  md5: string | undefined;
}

export function plistFiles(entries: readonly PlistEntry[], cwdOverride?: string): PlistFile[] {
  const out: PlistFile[] = [];
  let cwd = '.';
  let first = true;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as PlistEntry;
    if (e.type === 'ignore') {
      i++;
      continue;
    }
    if (e.type === 'cwd') {
      cwd = first && cwdOverride !== undefined ? cwdOverride : e.name;
      first = false;
    } else if (e.type === 'file') {
      const next = entries[i + 1];
      const md5 = next?.type === 'comment' && next.name.startsWith('MD5:') ? next.name.slice(4) : undefined;
      out.push({ name: e.name, path: cwd === '/' ? `/${e.name}` : `${cwd}/${e.name}`, md5 });
    }
  }
  return out;
}
