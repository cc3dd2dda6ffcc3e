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
  walk(rf.schema, '#', 1, out);
  return out;
}

function walk(node: unknown, path: string, depth: number, out: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${path}/${i}`, depth, out));
    return;
  }
  if (node === null || typeof node !== 'object') return;
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
    walk(value, at, depth + 1, out);
  }
}
