/**
 * Matching a value against a JSON Schema with @cfworker/json-schema (it interprets schemas rather
 * than compiling them to code, so it runs under a strict CSP and in any worker). One validator per
 * schema text, cached. The suites' scoring sandbox runs this in a worker with a time limit (a
 * stranger's schema); the JSON views run it on the page for the user's own schema.
 */
import { Validator, type Schema, type SchemaDraft } from '@cfworker/json-schema';

const validators = new Map<string, Validator>();
const MAX_CACHED = 200;

/** The draft a schema declares in `$schema`; 2020-12 when it declares none. */
function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const s = typeof schema['$schema'] === 'string' ? schema['$schema'] : '';
  if (s.includes('draft-04')) return '4';
  if (s.includes('draft-06') || s.includes('draft-07')) return '7';
  if (s.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** The validator for `schema` (built once per schema text); throws when the schema cannot be used. */
export function validatorFor(schema: Record<string, unknown>): Validator {
  const text = JSON.stringify(schema);
  let v = validators.get(text);
  if (!v) {
    // shortCircuit: stop at the first failure (one reason is shown, and it bounds the work).
    v = new Validator(schema as Schema, draftOf(schema), true);
    if (validators.size >= MAX_CACHED) validators.clear();
    validators.set(text, v);
  }
  return v;
}

/** The most specific reason: the validator lists the outer failures first ("Property "age" does not match"). */
function reason(errors: { instanceLocation: string; error: string }[]): string {
  const e = errors[errors.length - 1];
  if (!e) return 'does not match';
  const at = e.instanceLocation.replace(/^#/, '') || '(root)';
  return `${at}: ${e.error}`;
}

/** Null when `value` matches `schema`, else where and why not ("/age: Instance type "string" is invalid…"). */
export function schemaMismatch(schema: Record<string, unknown>, value: unknown): string | null {
  const r = validatorFor(schema).validate(value);
  return r.valid ? null : reason(r.errors);
}
