/**
 * The import-time check of a json-schema scorer's schema. Suites (and so their schemas) come from
 * strangers' share links and files, so a schema is bounded before anything walks it and then
 * checked for shape — every keyword the validator reads has the type it needs, every pattern
 * compiles, every `$ref` points inside the schema — so a bad schema is an import error naming where
 * (`/properties/age/type: …`), never a failure halfway through a run.
 *
 * Pure and dependency-free (it runs on the page while importing). Validating an output against the
 * schema (@cfworker/json-schema, which interprets schemas rather than compiling them to code) runs
 * in the scoring sandbox with a time limit, because even a bounded schema can be slow on a hostile
 * output: `pattern` is a regex, `uniqueItems` is quadratic, recursive `$ref`s multiply.
 */
import { errorText } from '../lib/errors';

export const JSON_SCHEMA_LIMITS = {
  /** The schema as JSON text. */
  maxChars: 100_000,
  /** Nesting of objects and arrays (the root object is level 1). */
  maxDepth: 32,
  /** Every JSON value in the schema: objects, arrays, keys' values, array items. */
  maxValues: 5_000,
} as const;

const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];
/** Keywords whose value is one schema. */
const SCHEMA = new Set(['additionalItems', 'unevaluatedItems', 'contains', 'additionalProperties', 'unevaluatedProperties', 'propertyNames', 'not', 'if', 'then', 'else']);
/** Keywords whose value is a non-empty array of schemas. */
const SCHEMA_ARRAY = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP = new Set(['$defs', 'definitions', 'properties', 'patternProperties', 'dependentSchemas']);
const COUNT = new Set(['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains']);
const NUMBER = new Set(['minimum', 'maximum']);
const STRING = new Set(['format', '$schema', '$id', '$anchor', '$comment', 'title', 'description']);
/** Keywords of drafts the validator does not implement: refused rather than silently ignored. */
const UNSUPPORTED = new Set(['$dynamicRef', '$dynamicAnchor']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v);
  return `${typeof v} ${String(v)}`;
}

const escapeToken = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (v: unknown): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Counts values and depth without recursion (a hostile schema may be deeper than the stack). */
function boundsProblem(schema: unknown): string | null {
  const { maxDepth, maxValues } = JSON_SCHEMA_LIMITS;
  const stack: [unknown, number][] = [[schema, 1]];
  let values = 0;
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [v, depth] = top;
    if (++values > maxValues) return `schema is too large: more than ${maxValues.toLocaleString('en-US')} values (the limit is ${maxValues.toLocaleString('en-US')})`;
    if (typeof v === 'object' && v !== null) {
      if (depth > maxDepth) return `schema is nested too deeply: more than ${maxDepth} levels (the limit is ${maxDepth})`;
      for (const c of Object.values(v)) stack.push([c, depth + 1]);
    }
  }
  let chars: number;
  try {
    chars = JSON.stringify(schema).length;
  } catch {
    return 'schema must be plain JSON';
  }
  if (chars > JSON_SCHEMA_LIMITS.maxChars) return `schema is too large (${chars.toLocaleString('en-US')} characters; the limit is ${JSON_SCHEMA_LIMITS.maxChars.toLocaleString('en-US')})`;
  return null;
}

class Problem extends Error {}

/** A `#/…` reference's target inside the root, or undefined. */
function resolvePointer(root: Json, fragment: string): Json | undefined {
  if (fragment === '') return root;
  if (!fragment.startsWith('/')) return undefined;
  let node: Json | undefined = root;
  for (const raw of fragment.slice(1).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(node) && /^\d+$/.test(token)) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return undefined;
  }
  return node;
}

function checkSchemaNode(node: Json, at: string, refs: { at: string; ref: string }[], anchors: Set<string>): void {
  const where = at || '(root)';
  if (typeof node === 'boolean') return;
  if (!isObject(node)) throw new Problem(`${where}: a schema must be an object or true/false, got ${describe(node)}`);
  const sub = (v: Json, path: string) => checkSchemaNode(v, path, refs, anchors);
  for (const [key, v] of Object.entries(node)) {
    const here = `${at}/${escapeToken(key)}`;
    const bad: (what: string) => never = (what) => {
      throw new Problem(`${here}: "${key}" must be ${what}, got ${describe(v)}`);
    };
    if (UNSUPPORTED.has(key)) throw new Problem(`${here}: "${key}" is not supported (use "$ref" to a definition in the schema)`);
    else if (SCHEMA.has(key)) sub(v, here);
    else if (SCHEMA_ARRAY.has(key)) {
      if (!Array.isArray(v) || v.length === 0) bad('a non-empty array of schemas');
      v.forEach((s, i) => sub(s, `${here}/${i}`));
    } else if (SCHEMA_MAP.has(key)) {
      if (!isObject(v)) bad('an object of schemas');
      for (const [name, s] of Object.entries(v)) {
        if (key === 'patternProperties') compilePattern(name, `${here}/${escapeToken(name)}`);
        sub(s, `${here}/${escapeToken(name)}`);
      }
    } else if (key === 'items') {
      if (Array.isArray(v)) v.forEach((s, i) => sub(s, `${here}/${i}`));
      else sub(v, here);
    } else if (key === 'type') {
      const names = Array.isArray(v) ? v : [v];
      if (names.length === 0) bad('a type name or a non-empty array of them');
      for (const n of names) {
        if (typeof n !== 'string' || !TYPES.includes(n)) throw new Problem(`${here}: ${describe(n)} is not a JSON Schema type (one of ${TYPES.join(', ')})`);
      }
    } else if (COUNT.has(key)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('a whole number ≥ 0');
    } else if (NUMBER.has(key)) {
      if (typeof v !== 'number') bad('a number');
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (typeof v !== 'number' && typeof v !== 'boolean') bad('a number');
    } else if (key === 'multipleOf') {
      if (typeof v !== 'number' || !(v > 0)) bad('a number > 0');
    } else if (key === 'uniqueItems' || key === '$recursiveAnchor') {
      if (typeof v !== 'boolean') bad('true or false');
    } else if (key === 'required') {
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad('an array of property names');
    } else if (key === 'enum') {
      if (!Array.isArray(v)) bad('an array');
    } else if (key === 'dependentRequired') {
      if (!isObject(v) || Object.values(v).some((a) => !Array.isArray(a) || a.some((s) => typeof s !== 'string'))) bad('an object of property-name arrays');
    } else if (key === 'dependencies') {
      if (!isObject(v)) bad('an object');
      for (const [name, d] of Object.entries(v)) {
        if (Array.isArray(d)) {
          if (d.some((s) => typeof s !== 'string')) throw new Problem(`${here}/${escapeToken(name)}: must be an array of property names or a schema`);
        } else sub(d, `${here}/${escapeToken(name)}`);
      }
    } else if (key === 'pattern') {
      if (typeof v !== 'string') bad('a string');
      compilePattern(v, here);
    } else if (STRING.has(key)) {
      if (typeof v !== 'string') bad('a string');
      if (key === '$anchor') anchors.add(v);
    } else if (key === '$ref') {
      if (typeof v !== 'string') bad('a string');
      refs.push({ at: here, ref: v });
    } else if (key === '$recursiveRef') {
      if (v !== '#') bad('"#"');
    }
    // Any other keyword (const, default, examples, annotations, vendor extensions) is ignored, as
    // the JSON Schema specification allows.
  }
}

function compilePattern(p: string, at: string): void {
  try {
    new RegExp(p, 'u'); // how the validator compiles `pattern` and `patternProperties`
  } catch (e) {
    throw new Problem(`${at}: not a valid regular expression (${errorText(e)})`);
  }
}

/**
 * Checks a json-schema scorer's schema: null when it is fine, else the reason ("schema is nested
 * too deeply: …", "invalid JSON Schema at /properties/age/type: "strin" is not a JSON Schema type …").
 */
export function jsonSchemaProblem(schema: unknown): string | null {
  const bounds = boundsProblem(schema);
  if (bounds) return bounds;
  const root = schema as Json;
  const refs: { at: string; ref: string }[] = [];
  const anchors = new Set<string>();
  try {
    checkSchemaNode(root, '', refs, anchors);
    for (const { at, ref } of refs) {
      const fragment = ref.startsWith('#') ? ref.slice(1) : null;
      if (fragment === null) throw new Problem(`${at}: $ref ${JSON.stringify(ref)} points outside the schema; only references inside it ("#/$defs/…") are supported`);
      const target = /^[A-Za-z_][\w.-]*$/.test(fragment) ? (anchors.has(fragment) ? true : undefined) : resolvePointer(root, fragment);
      if (target === undefined) throw new Problem(`${at}: $ref ${JSON.stringify(ref)} points to nothing in the schema`);
    }
  } catch (e) {
    if (e instanceof Problem) return `invalid JSON Schema at ${e.message}`;
    throw e;
  }
  return null;
}
