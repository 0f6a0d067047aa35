/** Saved plans (`plan -out FILE`): JSON checked against schemas/plan.schema.json before anything trusts it. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { writeFileAtomic } from '../state/atomic.js';
import { readTextFile } from '../state/read-capped.js';
import type { Plan } from './plan.js';

const schema = JSON.parse(
  readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8'),
) as object;
const validate = new Ajv2020({ allErrors: false, strict: true }).compile<Plan>(schema);

/** Far above any real plan; `apply /dev/zero` or a runaway file stops here instead of filling memory. */
const MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024;

export class PlanFileError extends Error {
  override name = 'PlanFileError';
}

/** Digest of the spec and every file it includes, so a saved plan records exactly what it was made from. */
export function specDigest(files: ReadonlyArray<{ file: string; text: string }>): string {
  const hash = createHash('sha256');
  for (const { file, text } of files) hash.update(`${file}\0${text.length}\0${text}`);
  return `sha256:${hash.digest('hex')}`;
}

export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(plan, null, 2)}\n`, { what: 'the plan' });
}

export async function readPlanFile(path: string): Promise<Plan> {
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
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new PlanFileError(
      `${path} is not a valid gridpkg plan file: ${first?.instancePath || '/'} ${first?.message ?? ''}; ` +
        'create it again with `gridpkg plan -out FILE`',
    );
  }
  return value;
}
