/** The drift report's formats: one model (./model.ts), one thin renderer per format. */
import { asciiSafeJson } from '../safe-output.js';
import { plainStyle, type Style } from '../style.js';
import { renderDriftHtml } from './html.js';
import { renderDriftJunit } from './junit.js';
import { renderDriftMarkdown } from './markdown.js';
import type { DriftReport } from './model.js';
import { renderDriftText } from './text.js';

export const DRIFT_FORMATS = ['text', 'json', 'markdown', 'junit', 'html'] as const;
export type DriftFormat = (typeof DRIFT_FORMATS)[number];

export { buildDriftReport, DRIFT_REPORT_SCHEMA_VERSION, type DriftReport, driftVerdict } from './model.js';

/** The model itself, as JSON: raw strings, with the characters JSON leaves raw written as \u escapes. */
export function renderDriftJson(report: DriftReport): string {
  return `${asciiSafeJson(JSON.stringify(report, null, 2))}\n`;
}

export function renderDrift(
  report: DriftReport,
  format: DriftFormat,
  options: { style?: Style; verbose?: boolean } = {},
): string {
  switch (format) {
    case 'text':
      return renderDriftText(report, {
        style: options.style ?? plainStyle,
        verbose: options.verbose === true,
      });
    case 'json':
      return renderDriftJson(report);
    case 'markdown':
      return renderDriftMarkdown(report);
    case 'junit':
      return renderDriftJunit(report);
    case 'html':
      return renderDriftHtml(report);
  }
}
