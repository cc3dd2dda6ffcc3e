/**
 * The schema editor's check, pure: the text the user is typing → the JSON Schema output format it
 * makes, or every reason it cannot be used yet. The order is what a person fixes first: the JSON
 * itself (with line and column), then the constraint's rules (checkResponseFormat: unsupported
 * keywords, size and depth, each with its path), then the schema's shape (json-schema-check.ts:
 * a keyword of the wrong type, a pattern that does not compile, a `$ref` to nothing), then the
 * validator itself (@cfworker/json-schema) building it. Only a draft with no problems becomes the
 * active format; the draft text is never changed here.
 *
 * The ready examples live here too: what the Generation tab offers and the tests check.
 */
import { checkResponseFormat, SCHEMA_NAME, type ResponseFormat } from '../inference/response-format';
import { schemaMismatch } from '../compare/schema-validator';
import { errorText } from '../lib/errors';
import { jsonSchemaProblem } from './json-schema-check';

export interface DraftCheck {
  /** The format to use: set only when there are no problems. */
  format: Extract<ResponseFormat, { type: 'json_schema' }> | null;
  problems: string[];
}

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/** JSON.parse's message, with the line and column of its position when it names one. */
export function jsonParseProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    // Engines word it differently (V8 in Node 20: "… at position 12"; newer V8 adds "(line 2 column 5)"):
    // one form here, the line and column counted from the position.
    const msg = errorText(e).replace(/\s*\(line \d+ column \d+\)/, '');
    const pos = /at position (\d+)/.exec(msg);
    if (pos) {
      const { line, column } = lineColumn(text, Number(pos[1]));
      return `Not valid JSON: ${msg} (line ${line}, column ${column}).`;
    }
    if (/Unexpected end of JSON input/.test(msg)) {
      const { line, column } = lineColumn(text, text.length);
      return `Not valid JSON: ${msg} (line ${line}, column ${column}: the text ends before the JSON does).`;
    }
    return `Not valid JSON: ${msg}.`;
  }
}

/** Checks the editor's text and name; see the file comment for the order. */
export function checkSchemaDraft(text: string, name: string): DraftCheck {
  if (text.trim() === '') return { format: null, problems: ['Enter a JSON Schema (or pick an example).'] };
  const parseProblem = jsonParseProblem(text);
  if (parseProblem) return { format: null, problems: [parseProblem] };
  const schema: unknown = JSON.parse(text);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return { format: null, problems: ['A JSON Schema must be a JSON object ({ "type": "object", … }).'] };
  }
  const format = { type: 'json_schema' as const, name: name.trim(), schema: schema as Record<string, unknown> };
  const problems = checkResponseFormat(format);
  if (!SCHEMA_NAME.test(format.name) && !problems.some((p) => p.startsWith('The schema name'))) problems.push('The schema name must be 1–64 letters, digits, underscores or dashes.');
  if (problems.length === 0) {
    const shape = jsonSchemaProblem(schema);
    if (shape) problems.push(`${shape[0]?.toUpperCase()}${shape.slice(1)}.`);
  }
  if (problems.length === 0) {
    try {
      // Builds (and caches) the validator the answers are matched with: a schema it cannot use is refused now.
      schemaMismatch(format.schema, {});
    } catch (e) {
      problems.push(`The validator cannot use this schema: ${errorText(e)}`);
    }
  }
  return problems.length ? { format: null, problems } : { format, problems: [] };
}

export interface SchemaExample {
  id: string;
  label: string;
  /** A prompt that suits it, for the prompt box. */
  prompt: string;
  name: string;
  schema: Record<string, unknown>;
}

export const SCHEMA_EXAMPLES: readonly SchemaExample[] = [
  {
    id: 'person',
    label: 'Extract name and age',
    prompt: 'Give a JSON object with name Emma and age 67.',
    name: 'person',
    schema: {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0, maximum: 150 } },
      required: ['name', 'age'],
      additionalProperties: false,
    },
  },
  {
    id: 'sentiment',
    label: 'Classify sentiment (enum)',
    prompt: 'Classify the sentiment of this review: "The battery died after two days and support never answered."',
    name: 'sentiment',
    schema: {
      type: 'object',
      properties: { sentiment: { type: 'string', enum: ['positive', 'neutral', 'negative'] }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
      required: ['sentiment'],
      additionalProperties: false,
    },
  },
  {
    id: 'items',
    label: 'A list of items',
    prompt: 'List the items in this order as JSON: two apples at $0.50 each and one loaf of bread at $3.20.',
    name: 'items',
    schema: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, price: { type: 'number' } },
            required: ['name', 'quantity'],
            additionalProperties: false,
          },
        },
      },
      required: ['items'],
      additionalProperties: false,
    },
  },
];
