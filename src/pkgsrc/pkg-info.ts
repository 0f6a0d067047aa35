// `pkg_info` / `pkg_info -a` / `pkg_info -u` listings: pkg_info/perform.c prints "%-19s " then the first line
// of the package's COMMENT, so names shorter than 20 characters are padded to 19 plus one space, longer ones
// get exactly one space.
import { isValidPkgName } from './charset.js';
import { PkgsrcError, quote } from './errors.js';
import { splitLines } from './lines.js';

export interface PkgInfoEntry {
  pkgname: string;
  comment: string;
}

const NAME_WIDTH = 19;

/** Parse a pkg_info listing; every line must be exactly as pkg_info prints it. */
export function parsePkgInfoList(text: string): PkgInfoEntry[] {
  if (typeof text !== 'string') throw new PkgsrcError('bad-pkg-info', 'pkg_info output must be a string');
  return splitLines(text).map((l, i) => {
    const line = i + 1;
    const space = l.indexOf(' ');
    if (space < 0) throw new PkgsrcError('bad-pkg-info', `expected "NAME COMMENT", got ${quote(l)}`, line);
    const pkgname = l.slice(0, space);
    if (!isValidPkgName(pkgname)) {
      throw new PkgsrcError('bad-pkg-info', `${quote(pkgname)} is not a package name`, line);
    }
    const start = Math.max(NAME_WIDTH, pkgname.length) + 1;
    if (l.length < start || !/^ *$/.test(l.slice(space, start))) {
      throw new PkgsrcError(
        'bad-pkg-info',
        `expected the comment to start in column ${start + 1} after ${quote(pkgname)} (name padded to ` +
          `${NAME_WIDTH} characters, then one space)`,
        line,
      );
    }
    return { pkgname, comment: l.slice(start) };
  });
}
