// pkg_summary(5) records exactly as `pkg_info -X` (info/show.c show_summary) prints them: DEPENDS/CONFLICTS and
// PKGNAME in packing-list order, COMMENT, SIZE_PKG, the whitelisted +BUILD_INFO lines in file order, FILE_NAME and
// FILE_SIZE for a binary package file, DESCRIPTION (one line per KEY= line), then an empty line.
import { type PlistEntry, plistOf } from './plist.js';

const BUILD_INFO_VARS = [
  'PKGPATH',
  'CATEGORIES',
  'PROVIDES',
  'REQUIRES',
  'PKG_OPTIONS',
  'OPSYS',
  'OS_VERSION',
  'MACHINE_ARCH',
  'LICENSE',
  'HOMEPAGE',
  'PKGTOOLS_VERSION',
  'BUILD_DATE',
  'PREV_PKGPATH',
  'SUPERSEDES',
];

/** print_string_as_var() */
export function stringAsVar(variable: string, text: string): string {
  let out = '';
  let rest = text;
  let nl = rest.indexOf('\n');
  while (nl >= 0) {
    out += `${variable}=${rest.slice(0, nl)}\n`;
    rest = rest.slice(nl + 1);
    nl = rest.indexOf('\n');
  }
  if (rest !== '') out += `${variable}=${rest}\n`;
  return out;
}

export interface SummaryInput {
  plist: readonly PlistEntry[];
  comment: string;
  desc: string;
  buildInfo: string | undefined;
  sizePkg: string | undefined;
  /** for a binary package file: its base name and size */
  file?: { name: string; size: number };
}

/** One record, or the text plus the warning `Build information missing` when +BUILD_INFO is absent. */
export function summaryRecord(input: SummaryInput): { text: string; warning: string | undefined } {
  let text = '';
  // PLIST_NAME / PLIST_PKGDEP / PLIST_PKGCFL in order (show_summary does not skip @ignore'd entries, neither do we)
  for (const e of input.plist) {
    if (e.type === 'name') text += `PKGNAME=${e.name}\n`;
    else if (e.type === 'pkgdep') text += `DEPENDS=${e.name}\n`;
    else if (e.type === 'pkgcfl') text += `CONFLICTS=${e.name}\n`;
  }
  text += stringAsVar('COMMENT', input.comment);
  if (input.sizePkg !== undefined) text += stringAsVar('SIZE_PKG', input.sizePkg);
  let warning: string | undefined;
  if (input.buildInfo !== undefined) {
    for (const line of input.buildInfo.split('\n')) {
      if (BUILD_INFO_VARS.some((v) => line.startsWith(`${v}=`))) text += `${line}\n`;
    }
  } else {
    warning = 'Build information missing';
  }
  if (input.file !== undefined) {
    text += `FILE_NAME=${input.file.name}\n`;
    text += `FILE_SIZE=${input.file.size}\n`;
  }
  text += stringAsVar('DESCRIPTION', input.desc);
  text += '\n';
  return { text, warning };
}

/** Convenience for callers that only need the dependency patterns of a record's packing list. */
export function dependsOf(plist: readonly PlistEntry[]): string[] {
  return plistOf(plist, 'pkgdep').map((e) => e.name);
}
