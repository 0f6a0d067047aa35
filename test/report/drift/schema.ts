/** The drift report's JSON Schema, compiled with ajv as strictly as gridpkg compiles its own schemas. */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

const schema = JSON.parse(
  readFileSync(new URL('../../../schemas/drift-report.schema.json', import.meta.url), 'utf8'),
) as object;

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

/** Fails the test with ajv's errors unless `value` is a drift report the schema accepts. */
export function expectValidDriftReport(value: unknown): void {
  const valid = validate(value);
  expect(validate.errors ?? [], 'drift report against schemas/drift-report.schema.json').toEqual([]);
  expect(valid).toBe(true);
}
