// The site job protocol, version 1 (docs/site-job-protocol.md): request encoder, report parser, token sets.
export { describeLockOwner, parseLockOwner } from './lock-owner.js';
export { extractReportFromStdout, parseListing, parseReport } from './report.js';
export { encodeRequest, ProtocolError } from './request.js';
export {
  isAbsolutePath,
  isFactKey,
  isFingerprint,
  isFreeText,
  isJobId,
  isPattern,
  isPkgName,
  isPkgPath,
  isRepository,
  isRepositoryUrl,
  isSeconds,
  isSecondsToken,
  isVersionToken,
  isVoName,
  isVulnerabilityType,
  MAX_ENDED_JOBS,
  MAX_JOB_ID_LENGTH,
  MAX_SECONDS,
  MAX_TOKEN_LENGTH,
} from './tokens.js';
export * from './types.js';
