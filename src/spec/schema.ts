/** Validates a parsed spec against schemas/desired-state.schema.json and maps ajv's findings to file locations. */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { readJsonAsset } from '../assets.js';
import { lazily } from '../lazy.js';
import { type Diagnostic, specExcerpt, specText } from './diagnostics.js';
import { closest } from './did-you-mean.js';
import type { RawSpec } from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

const specValidator = lazily(() => {
  const schema = readJsonAsset('schemas/desired-state.schema.json');
  return new Ajv2020({ allErrors: true, verbose: true, strict: true }).compile<RawSpec>(
    inlineRefs(schema, schema, []) as object,
  );
});

/**
 * Replaces each local `$ref` (`#/...`, not recursive) by a copy of its target, before compiling. ajv reports an
 * error inside a referenced schema with the target's schemaPath (`#/$defs/...`), which no longer says which oneOf
 * branch (backend type) it was reached from; mostSpecific() needs that. Annotations next to a `$ref`
 * (description, title: for editors) give way to the target's, as in ajv's own messages.
 */
function inlineRefs(node: unknown, root: unknown, stack: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, root, stack));
  if (typeof node !== 'object' || node === null) return node;
  const { $ref: ref, ...rest } = node as Record<string, unknown>;
  const annotationsOnly = Object.keys(rest).every((key) => key === 'description' || key === 'title');
  if (typeof ref === 'string' && ref.startsWith('#/') && annotationsOnly && !stack.includes(ref)) {
    const target = ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], root);
    if (typeof target === 'object' && target !== null)
      return { ...rest, ...(inlineRefs(target, root, [...stack, ref]) as object) };
  }
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$defs' ? value : inlineRefs(value, root, stack),
    ]),
  );
}

export function checkSchema(source: YamlSource): { spec?: RawSpec; diagnostics: Diagnostic[] } {
  const validate = specValidator();
  if (validate(source.value)) return { spec: source.value, diagnostics: [] };
  const errors = mostSpecific(validate.errors ?? []);
  const diagnostics = errors.map((error) => toDiagnostic(error, source));
  return { diagnostics: dedupe(diagnostics) };
}

function pathOf(error: ErrorObject): YamlPath {
  return error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** oneOf alternatives make ajv report every branch; keep the errors that went deepest into the value. */
function mostSpecific(errors: ErrorObject[]): ErrorObject[] {
  const unknown = unknownType(errors);
  if (unknown) return [unknown];
  const wrongBranches = branchesOfAnotherType(errors);
  // An invalid property name yields the inner error (marked with propertyName) and a propertyNames error: keep the latter.
  const meaningful = errors.filter(
    (e) =>
      e.keyword !== 'oneOf' &&
      e.keyword !== 'anyOf' &&
      (e.propertyName === undefined || e.keyword === 'propertyNames') &&
      !wrongBranches.some((branch) => e.schemaPath.startsWith(branch)),
  );
  const kept = meaningful.filter((error) => {
    const path = error.instancePath;
    const deeper = meaningful.some((other) => other.instancePath.startsWith(`${path}/`));
    if (deeper && (error.keyword === 'type' || error.keyword === 'const' || error.keyword === 'pattern')) {
      return false;
    }
    if (error.keyword === 'type' || error.keyword === 'const') {
      // A value of the object branch's type should not also be told it is not a string, and vice versa.
      const actualType = Array.isArray(error.data) ? 'array' : typeof error.data;
      const sameLevel = meaningful.filter((o) => o.instancePath === path && o !== error);
      if (sameLevel.some((o) => o.keyword !== 'type' && o.keyword !== 'const')) return false;
      if (error.keyword === 'type' && sameLevel.length > 0 && actualType === 'object') return false;
    }
    return true;
  });
  return mergeAlternativeTypes(kept);
}

/**
 * anyOf alternatives of different types (`prune: true` or a mapping) each say the value has the wrong type: one
 * error naming every allowed type replaces them ("must be true or false or a mapping").
 */
function mergeAlternativeTypes(errors: ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const isAlternative = (e: ErrorObject) => e.keyword === 'type' && e.schemaPath.includes('/anyOf/');
  for (const error of errors) {
    const earlier = isAlternative(error)
      ? out.find((o) => isAlternative(o) && o.instancePath === error.instancePath)
      : undefined;
    if (earlier) {
      const types = `${String(earlier.params.type)},${String(error.params.type)}`;
      out[out.indexOf(earlier)] = { ...earlier, params: { ...earlier.params, type: types } };
    } else out.push(error);
  }
  return out;
}

/**
 * oneOf branches told apart by a `type` constant (the backends): a branch whose `type` differs from the value's
 * is not what the author meant, so none of its errors are shown — as long as some branch does have that type.
 */
function branchesOfAnotherType(errors: ErrorObject[]): string[] {
  const branchOf = (e: ErrorObject) => /^(.*\/oneOf\/\d+)\//.exec(e.schemaPath)?.[1];
  const mismatches = errors.filter((e) => e.keyword === 'const' && e.instancePath.endsWith('/type'));
  const wrong = new Set(mismatches.map(branchOf).filter((b) => b !== undefined));
  const objectPaths = new Set(mismatches.map((e) => e.instancePath.slice(0, -'/type'.length)));
  // A branch of the right type reports something other than "this whole value has the wrong type".
  const rightTypeReports = errors.some((e) => {
    const branch = branchOf(e);
    if (branch === undefined || wrong.has(branch)) return false;
    const atObject = objectPaths.has(e.instancePath);
    return !(atObject && (e.keyword === 'type' || e.keyword === 'const'));
  });
  return rightTypeReports ? [...wrong].map((b) => `${b}/`) : [];
}

/** When no branch has the value's `type`, one message listing the types replaces every branch's complaints. */
function unknownType(errors: ErrorObject[]): ErrorObject | undefined {
  const mismatches = errors.filter((e) => e.keyword === 'const' && e.instancePath.endsWith('/type'));
  const first = mismatches[0];
  if (!first || branchesOfAnotherType(errors).length > 0) return undefined;
  const allowedValues = mismatches
    .filter((e) => e.instancePath === first.instancePath)
    .map((e) => (e.params as { allowedValue: unknown }).allowedValue);
  return { ...first, keyword: 'enum', params: { allowedValues }, parentSchema: undefined };
}

function toDiagnostic(error: ErrorObject, source: YamlSource): Diagnostic {
  const path = pathOf(error);
  const name = path.length > 0 ? path.map((part) => specText(part)).join('.') : 'the document';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      const suggestion = closest(key, allowed);
      return {
        ...source.locate([...path, key], 'key'),
        message: `unknown key "${specText(key)}" in ${name}`,
        hint: suggestion ? `did you mean "${suggestion}"?` : `allowed keys: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      return {
        ...source.locate(path),
        message: `${name} is missing the required key "${missing}"`,
        ...(missing === 'reason'
          ? { hint: 'say why this drift may be left alone; plan shows the reason' }
          : {}),
        // A key required only next to another one (dependentSchemas) says why in its description.
        ...(error.schemaPath.includes('/dependentSchemas/') && parentDescription(error)
          ? { hint: parentDescription(error) }
          : {}),
      };
    }
    case 'propertyNames': {
      const key = String((error.params as { propertyName: string }).propertyName);
      return {
        ...source.locate([...path, key], 'key'),
        message: `invalid name "${specText(key)}" in ${name}`,
        hint: 'names use letters, digits, ".", "_" and "-", start with a letter or digit, at most 32 characters',
      };
    }
    default: {
      const parent = error.parentSchema as { description?: string; title?: string } | undefined;
      return {
        ...source.locate(path),
        message: `${name} ${requirement(error, parent?.title)} (got ${specExcerpt(error.data)})`,
        ...(parent?.description ? { hint: parent.description } : {}),
      };
    }
  }
}

function parentDescription(error: ErrorObject): string | undefined {
  return (error.parentSchema as { description?: string } | undefined)?.description;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
};

/** What the value must be, in words rather than in ajv's schema terms. */
function requirement(error: ErrorObject, title: string | undefined): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': {
      const types = String(params.type).split(',');
      return `must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`;
    }
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'pattern':
      return title ? `is not ${title}` : 'contains characters that are not allowed';
    case 'minLength':
      return 'must not be empty';
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters long`;
    case 'minItems':
      return params.limit === 1
        ? 'must not be an empty list'
        : `must have at least ${String(params.limit)} entries`;
    case 'minProperties':
      return 'must not be empty';
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
      return `must be at most ${String(params.limit)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.line}:${d.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
