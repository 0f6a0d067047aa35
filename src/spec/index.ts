export { type Diagnostic, formatDiagnostic, SpecError } from './diagnostics.js';
export { evaluateLabelExpr, type LabelExpr, type LabelExprError, parseLabelExpr } from './label-expr.js';
export {
  type LoadedSpec,
  loadSpec,
  type ParseOptions,
  parseSpec,
  parseSpecText,
  type SpecOptions,
} from './load.js';
export type * from './types.js';
