// The pkgsrc domain: pure functions, no I/O. See DESIGN.md "Package identity".

export { type AuditOutput, type AuditOutputFinding, parseAuditOutput } from './audit.js';
export { BOOTSTRAP_PKGPATHS, isBootstrapPackage } from './bootstrap.js';
export {
  isValidPattern,
  isValidPkgBase,
  isValidPkgName,
  isValidPkgPath,
  isValidVersion,
  MAX_TOKEN_LENGTH,
} from './charset.js';
export { PkgsrcError, type PkgsrcErrorCode } from './errors.js';
export { bestMatch, matchPattern } from './pattern.js';
export { type PkgInfoEntry, parsePkgInfoList } from './pkg-info.js';
export { type PkgName, parsePkgName } from './pkgname.js';
export { type PkgSummaryRecord, parsePkgSummary } from './summary.js';
export { compareDewey, compareVersions, type DeweyOp, type DeweyVersion, parseDewey } from './version.js';
export {
  parseVulnerabilityList,
  type VulnerabilityEntry,
  type VulnerabilityList,
  vulnerabilityChecksumInput,
} from './vulnerabilities.js';
