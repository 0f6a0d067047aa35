/**
 * A digest of one site's resolved desired state: `watch` compares it across spec reloads to reconcile only the
 * sites whose desired state changed. Where in the spec a requirement or an ignore rule was written is left out, so
 * that an edit of another site, a comment or a moved line changes no other site's digest. Pure.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';
import type { DesiredState } from './types.js';

export function desiredDigest(desired: DesiredState): string {
  const meaning = {
    ...desired,
    requirements: desired.requirements.map(({ source: _source, ...rest }) => rest),
    ignores: desired.ignores?.map(({ source: _source, ...rest }) => rest),
  };
  return `sha256:${createHash('sha256').update(canonicalJson(meaning)).digest('hex')}`;
}
