/**
 * Saved plans (`plan -out FILE`): JSON checked against schemas/plan.schema.json before anything trusts it. A saved
 * plan records the state directory it was made with (its ledger decides what was already applied) and the digest of
 * the spec it was made from (checked again before it is applied).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readJsonAsset } from '../assets.js';
import { lazily } from '../lazy.js';
import { asciiSafeJson } from '../report/safe-output.js';
import { writeFileAtomic } from '../state/atomic.js';
import { readTextFile } from '../state/read-capped.js';
import { PLAN_FORMAT_VERSION, type Plan } from './plan.js';

/** A plan as saved: the plan and the absolute state directory it was made with. */
export interface SavedPlan extends Plan {
  stateDir: string;
}

// A saved plan's backends are checked by the spec's own backend schema: every backend type, no second copy of it.
const planValidator = lazily(() =>
  new Ajv2020({ allErrors: false, strict: true })
    .addSchema(readJsonAsset('schemas/desired-state.schema.json') as object)
    .compile<SavedPlan>(readJsonAsset('schemas/plan.schema.json') as object),
);

/** Far above any real plan; `apply /dev/zero` or a runaway file stops here instead of filling memory. */
const MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024;

export class PlanFileError extends Error {
  override name = 'PlanFileError';
}

/**
 * Digest of the spec and every file it includes, so a saved plan records exactly what it was made from. Names are
 * made absolute: the same spec given as `-f spec.yaml` or by its full path has one digest.
 */
export function specDigest(files: ReadonlyArray<{ file: string; text: string }>): string {
  const hash = createHash('sha256');
  for (const { file, text } of files) {
    const name = resolve(file);
    hash.update(`${name}\0${text.length}\0${text}`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The plan as one versioned JSON document (schemas/plan.schema.json): the saved plan file, `plan --json` and
 * `show --json`. Reasons quote job output: no raw C1, bidi or separator character reaches someone who `cat`s it.
 */
export function planDocument(plan: Plan, stateDir: string): string {
  const saved: SavedPlan = { ...plan, stateDir: resolve(stateDir) };
  return `${asciiSafeJson(JSON.stringify(saved, null, 2))}\n`;
}

export async function writePlanFile(path: string, plan: Plan, stateDir: string): Promise<void> {
  await writeFileAtomic(path, planDocument(plan, stateDir), { what: 'the plan' });
}

export async function readPlanFile(path: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readTextFile(path, 'the plan file', MAX_PLAN_FILE_BYTES);
  } catch (error) {
    throw new PlanFileError((error as Error).message); // says which file, and why: missing, a FIFO, too large
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(`${path} is not a gridpkg plan file (not JSON: ${(error as Error).message})`);
  }
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version !== PLAN_FORMAT_VERSION) {
    throw new PlanFileError(
      `${path} is a plan of format ${version}, this gridpkg reads format ${PLAN_FORMAT_VERSION}; ` +
        'create it again with `gridpkg plan -out FILE`',
    );
  }
  const validate = planValidator();
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new PlanFileError(
      `${path} is not a valid gridpkg plan file: ${first?.instancePath || '/'} ${first?.message ?? ''}; ` +
        'create it again with `gridpkg plan -out FILE`',
    );
  }
  return value;
}
