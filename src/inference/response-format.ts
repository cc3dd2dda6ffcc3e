/**
 * The output format a generation is asked for: plain text, any JSON object, or JSON matching a
 * JSON Schema. One shape for every layer: the settings store and the Generation tab hold it, the
 * worker and the reference server constrain decoding with it, the hosted client maps it to
 * OpenAI's `response_format`, and share links and result files carry it.
 *
 * `checkResponseFormat` is the one gate every layer uses before anything is sent or compiled:
 * one message per problem, naming the keyword and its JSON path.
 */
import { z } from 'zod';

/** Bounds on a schema, so that a pasted monster is refused before the grammar compiler sees it. */
export const SCHEMA_LIMITS = {
  /** Serialized size (JSON characters). */
  maxChars: 16_000,
  /** Nesting depth of schema objects. */
  maxDepth: 12,
} as const;

/** OpenAI's rule for `json_schema.name`: letters, digits, underscores and dashes, at most 64. */
export const SCHEMA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string(),
    schema: z.record(z.string(), z.unknown()),
  }),
]);

export type ResponseFormat = z.infer<typeof responseFormatSchema>;

export const TEXT_FORMAT: ResponseFormat = { type: 'text' };

/** True when decoding must follow a grammar (JSON object or JSON Schema). */
export function isConstrained(f: ResponseFormat | undefined): f is Exclude<ResponseFormat, { type: 'text' }> {
  return f != null && f.type !== 'text';
}

/**
 * Keywords no constrained decoder can honour token by token (they depend on other instances or
 * on external documents); a schema using one is refused rather than silently loosened.
 */
const UNSUPPORTED_KEYWORDS = new Set(['$dynamicRef', '$dynamicAnchor', 'dependentSchemas', 'if', 'then', 'else', 'not', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'uniqueItems']);

/** Problems with `f`, one message each, naming the keyword and its path; [] when usable. */
export function checkResponseFormat(f: unknown): string[] {
  const parsed = responseFormatSchema.safeParse(f);
  if (!parsed.success) {
    return ['The output format must be text, JSON or a JSON Schema with a name and a schema object.'];
  }
  const rf = parsed.data;
  if (rf.type !== 'json_schema') return [];
  const out: string[] = [];
  if (!SCHEMA_NAME.test(rf.name)) out.push('The schema name must be 1–64 letters, digits, underscores or dashes.');
  const text = JSON.stringify(rf.schema);
  if (text.length > SCHEMA_LIMITS.maxChars) {
    out.push(`The schema is too large: ${text.length.toLocaleString('en-US')} characters (at most ${SCHEMA_LIMITS.maxChars.toLocaleString('en-US')}).`);
    return out;
  }
  walk(rf.schema, '#', 1, out, rf.schema);
  return out;
}

/** Regular-expression features the grammar compiler (XGrammar) cannot turn into a grammar. */
const REGEX_UNSUPPORTED: [RegExp, string][] = [
  [/(?:^|[^\\])(?:\\\\)*\(\?<?[=!]/, 'lookaround'],
  [/(?:^|[^\\])(?:\\\\)*\\[1-9]/, 'backreference'],
  [/(?:^|[^\\])(?:\\\\)*\\k</, 'backreference'],
  [/(?:^|[^\\])(?:\\\\)*\\[pP]\{/, 'Unicode property class'],
  [/(?:^|[^\\])(?:\\\\)*\\[bB]/, 'word boundary'],
];

function checkPattern(p: string, at: string, out: string[]): void {
  try {
    new RegExp(p, 'u');
  } catch {
    out.push(`The pattern at ${at} is not a valid regular expression.`);
    return;
  }
  for (const [re, what] of REGEX_UNSUPPORTED) {
    if (re.test(p)) {
      out.push(`The pattern at ${at} uses a ${what}, which constrained output does not support.`);
      return;
    }
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The value at a local JSON pointer ("#/$defs/x") of `root`, or undefined. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, key)) return undefined;
    cur = Reflect.get(cur, key);
  }
  return cur;
}

/**
 * What XGrammar refuses in one schema object. Its WebAssembly build aborts on these (the module is
 * unusable afterwards), so they are refused here, before a grammar is compiled: a $ref that is not
 * local or does not resolve, a pattern it cannot parse, a range whose lower bound is above its
 * upper one, an empty enum, a `false` subschema where a value must match it, allOf of several.
 */
function checkNode(node: Record<string, unknown>, path: string, root: unknown, out: string[]): void {
  const ref = node['$ref'];
  if (typeof ref === 'string') {
    if (!ref.startsWith('#')) out.push(`"$ref" at ${path}/$ref must point inside the schema (#/...), not to ${JSON.stringify(ref)}.`);
    else if (resolvePointer(root, ref) === undefined) out.push(`"$ref" at ${path}/$ref points to ${ref}, which is not in the schema.`);
  }
  if (typeof node['pattern'] === 'string') checkPattern(node['pattern'], `${path}/pattern`, out);
  const pp = node['patternProperties'];
  if (typeof pp === 'object' && pp !== null) for (const key of Object.keys(pp)) checkPattern(key, `${path}/patternProperties`, out);
  for (const [lo, hi] of [['minLength', 'maxLength'], ['minItems', 'maxItems'], ['minProperties', 'maxProperties']] as const) {
    for (const k of [lo, hi]) {
      const v = node[k];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) out.push(`"${k}" at ${path}/${k} must be a whole number ≥ 0.`);
    }
    const a = num(node[lo]);
    const b = num(node[hi]);
    if (a !== undefined && b !== undefined && a > b) out.push(`"${lo}" at ${path}/${lo} is greater than "${hi}" (${a} > ${b}).`);
  }
  const min = num(node['minimum']);
  const max = num(node['maximum']);
  const xmin = num(node['exclusiveMinimum']);
  const xmax = num(node['exclusiveMaximum']);
  const lower = xmin !== undefined && (min === undefined || xmin >= min) ? { v: xmin, open: true } : min !== undefined ? { v: min, open: false } : null;
  const upper = xmax !== undefined && (max === undefined || xmax <= max) ? { v: xmax, open: true } : max !== undefined ? { v: max, open: false } : null;
  if (lower && upper) {
    const isInt = node['type'] === 'integer';
    const empty = isInt
      ? (lower.open ? Math.floor(lower.v) + 1 : Math.ceil(lower.v)) > (upper.open ? Math.ceil(upper.v) - 1 : Math.floor(upper.v))
      : lower.v > upper.v || (lower.v === upper.v && (lower.open || upper.open));
    if (empty) out.push(`The range at ${path} is empty: no ${isInt ? 'integer' : 'number'} is above its minimum and below its maximum.`);
  }
  if (Array.isArray(node['enum']) && node['enum'].length === 0) out.push(`"enum" at ${path}/enum is empty: no value could match.`);
  for (const key of ['properties', '$defs', 'definitions']) {
    const m = node[key];
    if (typeof m === 'object' && m !== null && !Array.isArray(m)) {
      for (const [name, v] of Object.entries(m)) if (v === false) out.push(`The schema at ${path}/${key}/${name} is false: no value could match it.`);
    }
  }
  for (const key of ['anyOf', 'oneOf']) {
    const list = node[key];
    if (Array.isArray(list)) list.forEach((v, i) => v === false && out.push(`The schema at ${path}/${key}/${i} is false: no value could match it.`));
  }
  if (Array.isArray(node['allOf']) && node['allOf'].length > 1) out.push(`"allOf" with several schemas at ${path}/allOf is not supported in constrained output (merge them into one).`);
}

function walk(node: unknown, path: string, depth: number, out: string[], root: unknown): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${path}/${i}`, depth, out, root));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  checkNode({ ...node }, path, root, out);
  if (depth > SCHEMA_LIMITS.maxDepth) {
    if (!out.some((m) => m.startsWith('The schema is too deep'))) out.push(`The schema is too deep at ${path} (at most ${SCHEMA_LIMITS.maxDepth} levels).`);
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const at = `${path}/${key}`;
    if (UNSUPPORTED_KEYWORDS.has(key)) {
      out.push(`"${key}" at ${at} is not supported in constrained output.`);
      continue;
    }
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value];
      for (const t of types) {
        if (!['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'].includes(String(t))) {
          out.push(`"type" at ${at} must be a JSON type, not ${JSON.stringify(t)}.`);
        }
      }
      continue;
    }
    // Values of these keywords are data, not schemas: never walk into them.
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples' || key === 'description' || key === 'title') continue;
    // Keys of these keywords are names (or regexes), checked above; their values are schemas.
    walk(value, at, depth + 1, out, root);
  }
}
