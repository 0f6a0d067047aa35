export { type Diagnostic, formatDiagnostic, SpecError } from './diagnostics.js';
export { type LoadedSpec, loadSpec, parseSpecText } from './load.js';
export type * from './types.js';
