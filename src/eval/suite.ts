// Over 300 lines: the suite format is one zod schema with its cross-field rules and their messages.
/**
 * The evaluation suite format, defined once and validated with zod on the way in. A suite is a
 * file the user picked (or a stranger shared): every string has a length limit, objects are
 * strict (a misspelt field is an error, not silently ignored), and everything a scorer will need
 * later is checked now — a regex that does not compile or a JSON Schema that is malformed or over
 * its limits (json-schema-check.ts) is an import error naming its path (`cases[3].scorer.pattern:
 * …`), never a failure halfway through a run. Parsing needs nothing loaded first; matching patterns
 * and validating schemas, which can be slow on hostile input, happens later in the scoring sandbox.
 *
 * Versioning: `version` is the format version; a change that old files would fail goes into a new
 * version with a migration in `parseSuite()`.
 */
import { z } from 'zod';
import type { ChatMessage } from '../engines/types';
import { checkResponseFormat } from '../inference/response-format';
import { JSON_SCHEMA_LIMITS, jsonSchemaProblem } from './json-schema-check';
import { compileScorerRegex } from './scorer-regex';
import { readPointer } from './json-pointer';

export { readPointer };

export const SUITE_FORMAT = 'slm-playground-suite';
export const SUITE_VERSION = 1;

/** Limits for suites (and for the files they are imported from, see import.ts). */
export const SUITE_LIMITS = {
  maxCases: 5_000,
  maxMessages: 100,
  maxMessageChars: 50_000,
  maxExpectedChars: 50_000,
  maxIdChars: 200,
  maxCategoryChars: 100,
  maxNameChars: 300,
  maxDescriptionChars: 5_000,
  maxSourceChars: 2_000,
  maxPatternChars: 2_000,
  maxRubricChars: 10_000,
  /** JSON Schemas, measured as JSON text (depth and value count: JSON_SCHEMA_LIMITS). */
  maxSchemaChars: JSON_SCHEMA_LIMITS.maxChars,
  maxTolerance: 1e15,
} as const;

export type ScorerSpec =
  | { type: 'exact' }
  | { type: 'normalized' }
  | { type: 'contains' }
  | { type: 'regex'; pattern: string; flags?: string }
  | { type: 'numeric'; tolerance: number }
  | { type: 'json' }
  | { type: 'json-schema'; schema: Record<string, unknown> }
  /** Field-level accuracy: each field of the expected JSON object checked on its own; the score is the share right. */
  | { type: 'json-fields'; fields: FieldSpec[] }
  | { type: 'judge'; rubric: string }
  /** No expected answer: the local answer is scored by its agreement with the hosted one (compare/agreement.ts). */
  | { type: 'agreement' };

export type ScorerType = ScorerSpec['type'];

/** How one expected field is compared: exactly (same JSON value), normalized text, or as a number within a tolerance. */
export type FieldMatch = 'exact' | 'normalized' | 'numeric';

export interface FieldSpec {
  /** JSON Pointer into the expected value and the answer: "/age", "/items/0/name". */
  path: string;
  match: FieldMatch;
  /** numeric only; default 0. */
  tolerance?: number;
}


export const SCORER_TYPES = ['exact', 'normalized', 'contains', 'regex', 'numeric', 'json', 'json-schema', 'json-fields', 'judge', 'agreement'] as const satisfies readonly ScorerType[];

/** Scorers that compare against `expected` and cannot work without it. `json` and `judge` use it when given. */
export const SCORERS_NEEDING_EXPECTED: readonly ScorerType[] = ['exact', 'normalized', 'contains', 'numeric', 'json-fields'];

export interface SuiteCase {
  id: string;
  category: string;
  /** Non-empty; the last message is the user's. */
  messages: ChatMessage[];
  expected?: string;
  scorer: ScorerSpec;
  /**
   * The answer's JSON Schema: applied as the output constraint when the suite runs constrained,
   * and the structure check (valid JSON, matches the schema) of every run.
   */
  schema?: Record<string, unknown>;
}

export interface Suite {
  format: typeof SUITE_FORMAT;
  version: typeof SUITE_VERSION;
  id: string;
  name: string;
  description?: string;
  /** Where the suite came from (a file name, a URL); informational only. */
  source?: string;
  cases: SuiteCase[];
}

/** Parses a number the way the numeric scorer reads `expected`: "1,234", "-3.5", "1e3", "−2" (U+2212). */
export function parseExpectedNumber(s: string): number | null {
  const t = s.normalize('NFKC').trim().replace(/\u2212/g, '-');
  if (!/^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(t) || !/\d/.test(t)) return null;
  const n = Number(t.replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
}

// ——— schemas ———

const str = (max: number) => z.string().max(max);
const nonEmpty = (max: number, what: string) =>
  z
    .string()
    .max(max)
    .refine((s) => s.trim().length > 0, `${what} must not be empty`);

export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: str(SUITE_LIMITS.maxMessageChars),
});

const regexScorer = z
  .strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1, 'pattern must not be empty').max(SUITE_LIMITS.maxPatternChars),
    flags: z.string().max(8).optional(),
  })
  .superRefine((s, ctx) => {
    try {
      compileScorerRegex(s.pattern, s.flags);
    } catch (e) {
      const msg = (e as Error).message;
      const flagsProblem = /flags/i.test(msg) && !/Invalid regular expression/.test(msg);
      ctx.addIssue(
        flagsProblem ? { code: 'custom', path: ['flags'], message: `invalid regex flags: ${msg}` } : { code: 'custom', path: ['pattern'], message: `invalid regular expression: ${msg}` },
      );
    }
  });

const jsonSchemaScorer = z
  .strictObject({
    type: z.literal('json-schema'),
    schema: z.record(z.string(), z.unknown()),
  })
  .superRefine((s, ctx) => {
    const problem = jsonSchemaProblem(s.schema);
    if (problem) ctx.addIssue({ code: 'custom', path: ['schema'], message: problem });
  });

export const scorerSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('exact') }),
    z.strictObject({ type: z.literal('normalized') }),
    z.strictObject({ type: z.literal('contains') }),
    regexScorer,
    z.strictObject({ type: z.literal('numeric'), tolerance: z.number().min(0, 'tolerance must be ≥ 0').max(SUITE_LIMITS.maxTolerance) }),
    z.strictObject({ type: z.literal('json') }),
    jsonSchemaScorer,
    z.strictObject({
      type: z.literal('json-fields'),
      fields: z
        .array(
          z.strictObject({
            path: z.string().max(500).regex(/^(\/[^/]*)*$/, 'path must be a JSON Pointer such as "/age"'),
            match: z.enum(['exact', 'normalized', 'numeric']),
            tolerance: z.number().min(0, 'tolerance must be ≥ 0').max(SUITE_LIMITS.maxTolerance).optional(),
          }),
        )
        .min(1, 'fields must not be empty')
        .max(200),
    }),
    z.strictObject({ type: z.literal('judge'), rubric: nonEmpty(SUITE_LIMITS.maxRubricChars, 'rubric') }),
    z.strictObject({ type: z.literal('agreement') }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? `unknown scorer type; expected one of ${SCORER_TYPES.join(', ')}` : undefined) },
);

export const suiteCaseSchema = z
  .strictObject({
    id: nonEmpty(SUITE_LIMITS.maxIdChars, 'id'),
    category: nonEmpty(SUITE_LIMITS.maxCategoryChars, 'category'),
    messages: z
      .array(chatMessageSchema)
      .min(1, 'messages must not be empty')
      .max(SUITE_LIMITS.maxMessages)
      .refine((m) => m.length === 0 || m[m.length - 1]?.role === 'user', 'the last message must be from the user'),
    expected: str(SUITE_LIMITS.maxExpectedChars).optional(),
    // A case with only a prompt is scored by agreement with the hosted answer.
    scorer: scorerSchema.default({ type: 'agreement' }),
    schema: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((c, ctx) => {
    const t = c.scorer.type;
    if (SCORERS_NEEDING_EXPECTED.includes(t) && c.expected === undefined) {
      ctx.addIssue({ code: 'custom', path: ['expected'], message: `the ${t} scorer needs an expected answer` });
      return;
    }
    if (t === 'contains' && c.expected !== undefined && c.expected.trim() === '') {
      ctx.addIssue({ code: 'custom', path: ['expected'], message: 'the contains scorer needs a non-empty expected answer' });
    }
    if (t === 'numeric' && c.expected !== undefined && parseExpectedNumber(c.expected) === null) {
      ctx.addIssue({ code: 'custom', path: ['expected'], message: `the numeric scorer needs a number, got ${JSON.stringify(c.expected.slice(0, 60))}` });
    }
    if (c.schema !== undefined) {
      // The same gate the output constraint uses (keyword and path named), then the validator's shape check.
      const problem = checkResponseFormat({ type: 'json_schema', name: 'response', schema: c.schema })[0] ?? jsonSchemaProblem(c.schema);
      if (problem) ctx.addIssue({ code: 'custom', path: ['schema'], message: problem });
    }
    if (c.scorer.type === 'json-fields' && c.expected !== undefined) {
      let expected: unknown;
      try {
        expected = JSON.parse(c.expected);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['expected'], message: 'the json-fields scorer needs expected to be valid JSON' });
        return;
      }
      c.scorer.fields.forEach((f, i) => {
        const at = readPointer(expected, f.path);
        if (!at.found) ctx.addIssue({ code: 'custom', path: ['scorer', 'fields', i, 'path'], message: `${JSON.stringify(f.path)} is not in the expected JSON` });
        else if (f.match === 'numeric' && typeof at.value !== 'number' && !(typeof at.value === 'string' && parseExpectedNumber(at.value) !== null))
          ctx.addIssue({ code: 'custom', path: ['scorer', 'fields', i, 'match'], message: `numeric needs a number at ${JSON.stringify(f.path)} in the expected JSON` });
      });
    }
    if (t === 'json' && c.expected !== undefined) {
      try {
        JSON.parse(c.expected);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['expected'], message: 'the json scorer needs expected to be valid JSON (or no expected at all)' });
      }
    }
  });

export const suiteSchema = z
  .strictObject({
    format: z.literal(SUITE_FORMAT),
    version: z.literal(SUITE_VERSION),
    id: nonEmpty(SUITE_LIMITS.maxIdChars, 'id'),
    name: nonEmpty(SUITE_LIMITS.maxNameChars, 'name'),
    description: str(SUITE_LIMITS.maxDescriptionChars).optional(),
    source: str(SUITE_LIMITS.maxSourceChars).optional(),
    cases: z.array(suiteCaseSchema).min(1, 'a suite needs at least one case').max(SUITE_LIMITS.maxCases, `a suite holds at most ${SUITE_LIMITS.maxCases} cases`),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>();
    s.cases.forEach((c, i) => {
      const first = seen.get(c.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['cases', i, 'id'], message: `duplicate case id ${JSON.stringify(c.id)} (also cases[${first}])` });
      else seen.set(c.id, i);
    });
  });

// The schema's output must stay assignable to the declared types (and back).
type Assignable<A extends B, B> = A;
export type _SuiteChecks = [Assignable<z.infer<typeof suiteSchema>, Suite>, Assignable<Suite, z.infer<typeof suiteSchema>>, Assignable<z.infer<typeof scorerSchema>, ScorerSpec>];

// ——— errors ———

/** `cases[3].scorer.pattern` from zod's `['cases', 3, 'scorer', 'pattern']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export interface PathIssue {
  /** `cases[3].scorer.pattern`; empty for the top level. */
  path: string;
  message: string;
}

/** One zod issue as a raw path + message; an unknown key is named in the path ("expeted": unknown field). */
export function zodIssueParts(i: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (i.code === 'unrecognized_keys') {
    const keys = i.keys;
    if (keys.length === 1) return { path: [...i.path, keys[0] as string], message: 'unknown field' };
    return { path: [...i.path], message: `unknown fields ${keys.map((k) => JSON.stringify(k)).join(', ')}` };
  }
  return { path: [...i.path], message: i.message };
}

/** Zod issues as path + message: "cases[0].expeted: unknown field". */
export function zodIssues(error: z.ZodError): PathIssue[] {
  return error.issues.map((i) => {
    const p = zodIssueParts(i);
    return { path: formatPath(p.path), message: p.message };
  });
}

export function describePathIssues(issues: readonly PathIssue[], max = 5): string {
  const lines = issues.slice(0, max).map((i) => `${i.path || '(top level)'}: ${i.message}`);
  if (issues.length > max) lines.push(`…and ${issues.length - max} more`);
  return lines.join('; ');
}

export class SuiteError extends Error {
  override name = 'SuiteError';
  constructor(
    message: string,
    readonly issues: PathIssue[] = [],
  ) {
    super(message);
  }
}

/** Validates JSON as a suite; throws SuiteError naming the first bad path (and up to 4 more). */
export function parseSuite(json: unknown): Suite {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SuiteError('This is not an SLM Playground suite: expected a JSON object.');
  const { format, version } = json as { format?: unknown; version?: unknown };
  if (format !== SUITE_FORMAT) throw new SuiteError(`This is not an SLM Playground suite: "format" is ${JSON.stringify(format ?? null)}, expected "${SUITE_FORMAT}".`);
  if (typeof version === 'number' && Number.isInteger(version) && version > SUITE_VERSION)
    throw new SuiteError(`This suite was made by a newer SLM Playground (suite format ${version}; this app reads up to ${SUITE_VERSION}).`);
  const r = suiteSchema.safeParse(json);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new SuiteError(describePathIssues(issues), issues);
  }
  return r.data;
}
