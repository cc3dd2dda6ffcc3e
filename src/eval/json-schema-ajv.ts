/**
 * The JSON Schema compiler (ajv), loaded on demand (see loadJsonSchemaSupport in suite.ts); importing
 * this module registers it.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { registerJsonSchemaCompiler } from './suite';

/**
 * One ajv instance for every suite. `addUsedSchema: false` keeps schemas that carry an `$id` from
 * being registered (two cases with the same `$id` would otherwise collide); `strict: false` with
 * `validateFormats: false` accepts the schemas people actually write (unknown `format`s and
 * annotations are ignored, as the JSON Schema spec allows) while a schema that breaks the
 * meta-schema — `"type": "strin"` — or an unresolvable `$ref` still fails to compile.
 */
const ajv = new Ajv({ strict: false, validateFormats: false, logger: false, addUsedSchema: false, allErrors: false });
const compiledByObject = new WeakMap<object, ValidateFunction>();
/** By JSON text too: parsing copies objects, and compiling (code generation) costs about a millisecond. */
const compiledByText = new Map<string, ValidateFunction>();
const MAX_CACHED_SCHEMAS = 500;

/** Compiles (once per schema) a JSON Schema; throws Error with ajv's reason when it is invalid. */
function compileWithAjv(schema: Record<string, unknown>): ValidateFunction {
  const byObject = compiledByObject.get(schema);
  if (byObject) return byObject;
  const text = JSON.stringify(schema);
  let fn = compiledByText.get(text);
  if (!fn) {
    fn = ajv.compile(schema);
    if (compiledByText.size >= MAX_CACHED_SCHEMAS) compiledByText.clear();
    compiledByText.set(text, fn);
  }
  compiledByObject.set(schema, fn);
  return fn;
}

registerJsonSchemaCompiler((schema) => {
  const validate = compileWithAjv(schema);
  return (value) => {
    if (validate(value) === true) return null;
    const err = validate.errors?.[0];
    return err ? `${err.instancePath || '(root)'} ${err.message ?? 'is invalid'}` : 'is invalid';
  };
});
