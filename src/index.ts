/** gridpkg as a library: the pkgsrc domain, spec loading, planning and the site job protocol. */

export type * from './grid/protocol/types.js';
export * from './pkgsrc/index.js';
export { type ChangeKind, diffRequirement, type PackageChange } from './reconcile/diff.js';
export type { KnownObservation, Observation, UnknownObservation } from './reconcile/observation.js';
export { buildPlan, type Plan, planSite, type SitePlan, summarizePlan } from './reconcile/plan.js';
export type { DesiredState, Diagnostic, PackageState, Requirement } from './spec/index.js';
export { formatDiagnostic, loadSpec, parseSpecText, SpecError } from './spec/index.js';
